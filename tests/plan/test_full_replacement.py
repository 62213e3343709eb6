"""Issue 18: full replacement (``delta.semantic: full``) is announced like a prune and limited by
``--max-prune``: counted from the content plan's rows that the new assets file removes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.desired import DesiredWorkflow, read_desired
from reconciler.errors import PlanningError
from reconciler.live import LiveWorkflow
from reconciler.plan.content import content_from_dict, with_uploaded
from reconciler.plan.model import Plan, PlannedWorkflow, PruneLimit, Reason, ReasonCode
from reconciler.plan.planfile import Fingerprints, dump_plan_file, load_plan_file
from reconciler.plan.planner import plan
from reconciler.render.plan import describe, render_json, render_markdown, render_text
from tests.plan.simulate import ENVIRON, INSTANCE, fixed_salt, stored_source
from tests.plan.test_content_plan import reads

KEY = "assets/assets.csv"
TWENTY = PruneLimit(20.0, percent=True)  # the default --max-prune


def rows(count: int, start: int = 0) -> str:
    lines = "".join(f"Table,default/snowflake/1700000000/DB/SCH/T{i},T{i}\n" for i in range(start, count))
    return "typeName,qualifiedName,name\n" + lines


def manifest(delta: str | None) -> str:
    """The assets manifest, its file from a source (JSON is YAML), with ``delta`` as written."""
    assets = {"prefix": "/assets", "object_key": "assets.csv", "source": "assets.csv"}
    spec = json.dumps({"assets": assets})
    if delta:
        spec = spec.replace('"source": "assets.csv"', f'"source": "assets.csv", "delta": {delta}')
    return f"apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {{name: assets}}\nspec: {spec}\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # outside git, sources stay under the current directory
    return tmp_path


def desired_of(project: Path, delta: str | None, file: str) -> list[DesiredWorkflow]:
    (project / "assets.yaml").write_text(manifest(delta))
    (project / "assets.csv").write_text(file)
    return read_desired([project / "assets.yaml"], instance=INSTANCE, environ=ENVIRON)


def applied(project: Path, delta: str | None, file: str) -> LiveWorkflow:
    """The workflow once created with ``file`` (and ``delta``), as apply leaves it."""
    desired = desired_of(project, delta, file)
    [item] = plan(
        desired, [], instance=INSTANCE, salt=fixed_salt(), content=reads(desired, {}), max_prune=TWENTY
    ).items
    annotations = with_uploaded(item.annotations, {"assets": '"v1"'})
    return LiveWorkflow.from_source(stored_source(desired[0], annotations))


def replan(
    project: Path, live: LiveWorkflow, delta: str | None, file: str, before: str, limit: PruneLimit
) -> Plan:
    desired = desired_of(project, delta, file)
    store = {KEY: ('"v1"', before.encode())}
    return plan(
        desired, [live], instance=INSTANCE, salt=fixed_salt(), content=reads(desired, store), max_prune=limit
    )


def replacement(item: PlannedWorkflow) -> list[Reason]:
    return [r for r in item.reasons if r.code is ReasonCode.FULL_REPLACEMENT]


def test_a_file_that_drops_rows_under_full_replacement_says_how_many_everywhere(project: Path) -> None:
    old, new = rows(10), rows(7)  # T7, T8, T9 are gone
    live = applied(project, "{semantic: full}", old)
    result = replan(project, live, "{semantic: full}", new, old, PruneLimit(50.0, percent=True))
    [item] = result.items
    message = (
        "full replacement: 3 assets not in the new file will be archived (30% of the previous file's 10 rows)"
    )
    assert [describe(r) for r in replacement(item)] == [message]

    assert f"      # {message}\n" in render_text(result)
    markdown = render_markdown(result)
    banner = (
        "> **Full replacement** `AssetImport.assets`: 3 assets not in the new file will be archived "
        "(30% of the previous file's 10 rows)"
    )
    assert banner in markdown
    assert markdown.index(banner) < markdown.index("| | workflow |")  # above the table
    [entry] = json.loads(render_json(result))["workflows"]
    assert entry["full_replacement"] == {
        "section": "assets",
        "removal": "archive",
        "removed": 3,
        "previous_rows": 10,
        "switching": False,
        "message": message,
    }
    assert entry["content"][0]["before_rows"] == 10
    assert (
        result.notes[-1]
        == "--max-prune 50% is read as at most 50% of the previous file's rows per full replacement"
    )


def test_purge_says_purged_and_thousands_are_grouped(project: Path) -> None:
    old, new = rows(1500), rows(1500, start=1204)
    live = applied(project, "{semantic: full, removal: purge}", old)
    result = replan(
        project, live, "{semantic: full, removal: purge}", new, old, PruneLimit(90.0, percent=True)
    )
    [reason] = replacement(result.items[0])
    assert describe(reason) == (
        "full replacement: 1,204 assets not in the new file will be purged (80% of the previous file's 1,500 rows)"
    )


@pytest.mark.parametrize(
    ("limit", "refused"),
    [
        (TWENTY, True),
        (PruneLimit(30.0, percent=True), False),
        (PruneLimit(2, percent=False), True),
        (PruneLimit(3, percent=False), False),
    ],
    ids=["20% (default)", "30%", "count 2", "count 3"],
)
def test_max_prune_limits_the_rows_full_replacement_removes(
    project: Path, limit: PruneLimit, refused: bool
) -> None:
    old, new = rows(10), rows(7)
    live = applied(project, "{semantic: full}", old)
    if not refused:
        assert replacement(replan(project, live, "{semantic: full}", new, old, limit).items[0])
        return
    with pytest.raises(PlanningError) as caught:
        replan(project, live, "{semantic: full}", new, old, limit)
    words = "20% of the previous file's rows" if limit.percent else "2 rows (a count)"
    assert str(caught.value) == (
        f"refusing full replacement: AssetImport.assets would archive 3 of the 10 assets of the previous "
        f"file (30%): more than --max-prune {limit}, read as {words}; raise --max-prune if this is intended"
    )


def test_an_incremental_import_removes_nothing_and_is_not_limited(project: Path) -> None:
    old, new = rows(10), rows(2)
    live = applied(project, None, old)
    [item] = replan(project, live, None, new, old, TWENTY).items
    assert replacement(item) == []
    assert item.content[0].diff.removed == 8  # the rows are gone from the file, not from Atlan


def test_switching_an_import_to_full_replacement_is_announced(project: Path) -> None:
    file = rows(5)
    live = applied(project, "{semantic: delta}", file)
    desired = desired_of(project, "{semantic: full}", file)  # same file: nothing to read or upload
    result = plan(desired, [live], instance=INSTANCE, salt=fixed_salt(), content={}, max_prune=TWENTY)
    [item] = result.items
    message = (
        "full replacement: assets is imported with delta.semantic: full; each run archives the assets "
        "the previous file had and its file lacks"
    )
    assert [describe(r) for r in replacement(item)] == [message]
    assert f"      # {message}\n" in render_text(result)
    assert json.loads(render_json(result))["workflows"][0]["full_replacement"]["switching"] is True
    # Staying with full replacement and losing no row is no news.
    again = applied(project, "{semantic: full}", file)
    [item] = plan(desired, [again], instance=INSTANCE, salt=fixed_salt(), content={}, max_prune=TWENTY).items
    assert replacement(item) == []


def test_switching_with_a_smaller_file_counts_its_rows_against_the_limit(project: Path) -> None:
    old, new = rows(10), rows(5)
    live = applied(project, None, old)
    with pytest.raises(PlanningError, match="would archive 5 of the 10 assets"):
        replan(project, live, "{semantic: full}", new, old, TWENTY)
    result = replan(project, live, "{semantic: full}", new, old, PruneLimit(50.0, percent=True))
    assert describe(replacement(result.items[0])[0]).endswith("; the import turns to delta.semantic: full")


def test_a_new_workflow_with_full_replacement_is_announced(project: Path) -> None:
    desired = desired_of(project, "{semantic: full}", rows(3))
    [item] = plan(desired, [], instance=INSTANCE, salt=fixed_salt(), content=reads(desired, {})).items
    assert describe(replacement(item)[0]).startswith(
        "full replacement: assets is imported with delta.semantic: full"
    )


def test_a_saved_plan_keeps_the_announcement_and_the_row_counts(project: Path, tmp_path: Path) -> None:
    old, new = rows(10), rows(8)
    live = applied(project, "{semantic: full}", old)
    saved = replan(project, live, "{semantic: full}", new, old, PruneLimit(50.0, percent=True))
    path = tmp_path / "plan.json"
    path.write_text(dump_plan_file(saved, Fingerprints({}, {}, {}), paths=[], options={}))
    [item] = load_plan_file(path).plan.items
    assert replacement(item) == replacement(saved.items[0])
    assert item.content[0].diff.before_rows == 10
    data: dict[str, Any] = json.loads(render_json(saved))["workflows"][0]["content"][0]
    assert content_from_dict({k: v for k, v in data.items() if k != "before_rows"}).diff.before_rows == 0

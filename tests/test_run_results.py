"""What a finished import run reported (reconciler/live.py ``RunResults``), and where it is shown:
``apply --wait`` (the result and its tables) and ``drift`` (a failed run's first error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyResult, ItemResult, WaitPolicy
from reconciler.live import LiveRun, RunError, RunResults, describe_error
from reconciler.plan.model import Action, Plan
from reconciler.render.results import render_results_markdown, render_results_text
from tests.plan.simulate import desired_from, manifest, write_manifests
from tests.test_apply_engine import FakeApi, FakeTime, _apply, _plan
from tests.test_drift import item, kinds

RESULTS = {
    "files": [
        {"section": "glossaries", "key": "glossaries/terms.csv", "created": 0, "updated": 1, "restored": 7},
        {"section": "assets", "key": "assets.csv", "created": 2, "failed": 3, "deleted": 1},
    ],
    "errors": [
        {"section": "assets", "line": 4, "field": "certificateStatus", "message": "unknown value 'MAYBE'"},
        {"section": "assets", "line": 9, "field": None, "message": "row has 3 fields, the header 4"},
    ],
}


def run_source(phase: str, results: Any = RESULTS, message: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if results is not None:
        value = results if isinstance(results, str) else json.dumps(results)
        status["outputs"] = {
            "parameters": [{"name": "other", "value": "x"}, {"name": "results", "value": value}]
        }
    if message is not None:
        status["message"] = message
    return {"metadata": {"name": "w-abcde"}, "spec": {"workflowTemplateRef": {"name": "w"}}, "status": status}


def test_a_runs_results_are_read_from_its_outputs() -> None:
    run = LiveRun.from_source(run_source("Failed", message="child 'run' failed"))
    assert run.results is not None
    assert [(f.section, f.counts()) for f in run.results.files] == [
        ("glossaries", {"created": 0, "updated": 1, "restored": 7, "skipped": 0, "failed": 0, "deleted": 0}),
        ("assets", {"created": 2, "updated": 0, "restored": 0, "skipped": 0, "failed": 3, "deleted": 1}),
    ]
    # The first reported error says more than the run's generic message.
    assert run.first_error == "assets line 4, column certificateStatus: unknown value 'MAYBE'"


@pytest.mark.parametrize("results", [None, "not json", json.dumps({"files": "nope"}), json.dumps([1])])
def test_a_run_without_readable_results_falls_back_to_its_message(results: str | None) -> None:
    run = LiveRun.from_source(run_source("Failed", results=results, message="No input file was provided"))
    assert run.results is None
    assert run.first_error == "No input file was provided"
    assert LiveRun.from_source(run_source("Failed", results=results)).first_error is None


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            RunError(section="lineage", line=3, field="Source Connection", message="m"),
            "lineage line 3, column Source Connection: m",
        ),
        (RunError(section="assets", message="m"), "assets: m"),
        (RunError(field="name", message="m"), "column name: m"),
        (RunError(message="m"), "m"),
    ],
)
def test_an_error_names_its_file_line_and_column_when_it_has_them(error: RunError, said: str) -> None:
    assert describe_error(error) == said


def _waited(tmp_path: Path, final: dict[str, Any]) -> ApplyResult:
    import asyncio

    desired = desired_from(write_manifests(tmp_path, a=manifest("a")))
    p = _plan(desired)
    api = FakeApi()
    time = FakeTime()
    name = p.items[0].workflow

    def finish(_poll: int) -> None:
        api.runs[name][0] = LiveRun.from_source({**final, "metadata": {"name": api.runs[name][0].name}})

    api.on_poll = finish
    return asyncio.run(
        _apply(p, desired, api, wait=WaitPolicy(timeout=60), sleep=time.sleep, clock=time.clock)
    )


def test_apply_wait_reports_what_the_run_imported(tmp_path: Path) -> None:
    result = _waited(tmp_path, run_source("Succeeded", results={"files": RESULTS["files"][:1], "errors": []}))
    [waited] = result.items
    assert (waited.outcome, waited.run_phase) == ("done", "Succeeded")
    assert waited.run_results is not None
    text = render_results_text(result)
    assert "What the runs imported:" in text
    assert "AssetImport.a  glossaries  created 0, updated 1, restored 7, skipped 0, failed 0" in text
    assert "deleted" not in text  # shown only when something was
    assert "| `AssetImport.a` | glossaries | created 0, updated 1, restored 7, skipped 0, failed 0 |" in (
        render_results_markdown(result)
    )


def test_apply_wait_fails_with_the_runs_first_error(tmp_path: Path) -> None:
    result = _waited(tmp_path, run_source("Failed", message="child 'run' failed"))
    [waited] = result.items
    assert waited.outcome == "failed"
    assert waited.detail.endswith(
        "ended Failed: assets line 4, column certificateStatus: unknown value 'MAYBE'"
    )
    text = render_results_text(result)
    assert (
        "AssetImport.a  assets      created 2, updated 0, restored 0, skipped 0, failed 3, deleted 1" in text
    )
    assert (
        "Errors of AssetImport.a:\n  assets line 4, column certificateStatus: unknown value 'MAYBE'\n" in text
    )
    assert "  assets line 9: row has 3 fields, the header 4\n" in text


def test_only_the_first_errors_are_listed() -> None:
    errors = [RunError(section="assets", line=n, message=f"bad {n}") for n in range(2, 12)]
    item_result = ItemResult(
        "AssetImport.a",
        "w",
        (Action.RERUN,),
        "failed",
        "x",
        "w-1",
        "Failed",
        RunResults(errors=tuple(errors)),
    )
    text = render_results_text(ApplyResult((item_result,)))
    assert "Errors of AssetImport.a (first 5):" in text
    assert "bad 6" in text
    assert "bad 7" not in text


def test_drift_shows_a_failed_runs_first_error() -> None:
    runs = [LiveRun.from_source(run_source("Failed", message="child 'run' failed"))]
    found = kinds(Plan("default", (item(),)), latest_runs={"csa-asset-import-0000000001": runs})
    assert found == [
        (
            "unhealthy",
            "last run w-abcde ended Failed: assets line 4, column certificateStatus: unknown value 'MAYBE'",
        )
    ]

"""Issue 14: the apply results and the plan's list of unchanged workflows are tables laid out by rich.

Still strings, coloured only when asked, contributor text still inert; an apply that was stopped
says so in its closing line and marks the items it cut short.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from reconciler.apply import ApplyResult, ItemResult, Outcome
from reconciler.plan.model import Action, Plan, PlannedWorkflow
from reconciler.render.plan import render_text
from reconciler.render.results import render_results_markdown, render_results_text
from reconciler.render.terminal import MARK_STYLES, _laid_out, marked, table_lines
from tests.helpers import as_planned
from tests.test_imports import loaded_after

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def result(*items: tuple[str, Outcome], detail: str = "") -> ApplyResult:
    return ApplyResult(
        items=tuple(
            ItemResult(f"AssetImport.{name}", f"wf-{name}", (Action.CREATE,), outcome, detail)
            for name, outcome in items
        )
    )


def stopped() -> ApplyResult:
    return result(
        ("a", "done"), ("b", "done"), ("c", "done"), ("d", "interrupted"),
        *((f"n{i}", "not started") for i in range(6)),
    )  # fmt: skip


def column_of(line: str, text: str) -> int:
    """The terminal column where ``text`` starts in ``line`` (wide characters count two)."""
    return cell_len(line[: line.index(text)])


# -- the apply results --------------------------------------------------------------------------


def test_a_stopped_apply_says_so_and_counts_what_it_cut_short() -> None:
    text = render_results_text(stopped())
    assert text.splitlines()[-1] == "Apply interrupted: 3 done, 1 interrupted, 6 not started."


def test_a_stopped_apply_counts_the_other_outcomes_that_occurred() -> None:
    text = render_results_text(
        result(("a", "done"), ("b", "failed"), ("c", "unchanged"), ("d", "not started"))
    )
    assert text.splitlines()[-1] == (
        "Apply interrupted: 1 done, 1 failed, 1 unchanged, 0 interrupted, 1 not started."
    )


def test_a_finished_apply_keeps_todays_closing_line() -> None:
    text = render_results_text(result(("a", "done"), ("b", "failed"), ("c", "unchanged")))
    assert text.splitlines()[-1] == "Apply: 1 done, 1 failed, 0 already running, 0 skipped, 1 unchanged."


@pytest.mark.parametrize(("outcome", "mark"), [("interrupted", "!"), ("not started", "○")])
def test_items_cut_short_have_a_mark_of_their_own(outcome: Outcome, mark: str) -> None:
    lines = render_results_text(result(("a", "done"), ("b", outcome))).splitlines()
    assert lines[1].startswith("  ✓ AssetImport.a")
    assert re.fullmatch(rf"  {mark} AssetImport\.b +create +{outcome}", lines[2])


def test_the_columns_line_up_in_terminal_cells_whatever_the_names_hold() -> None:
    """A CJK name takes two cells per character: the next column still starts where the others'
    does (character counts would put it four cells further right)."""
    text = render_results_text(
        ApplyResult(
            items=(
                ItemResult("AssetImport.数据湖", "wf-1", (Action.CREATE,), "done"),
                ItemResult("AssetImport.lake-x", "wf-2", (Action.UPDATE, Action.RERUN), "failed", "409"),
            )
        )
    )
    first, second = text.splitlines()[1:3]
    assert column_of(first, "create") == column_of(second, "update,rerun")
    assert column_of(first, "done") == column_of(second, "failed")
    assert second.endswith("failed  409")
    assert not any(line != line.rstrip() for line in text.splitlines())


def test_colour_only_when_asked_and_nothing_else_changes() -> None:
    r = stopped()
    plain = render_results_text(r)
    colored = render_results_text(r, color=True)
    assert not ANSI.search(plain)
    assert "\x1b[32m✓\x1b[0m AssetImport.a" in colored
    assert "\x1b[31m!\x1b[0m AssetImport.d" in colored
    assert ANSI.sub("", colored) == plain


def test_rich_reads_no_markup_or_emoji_code_in_a_cell() -> None:
    name = "[bold red]x[/] :warning: [link=https://e.x]y[/link]"
    text = render_results_text(result((name, "failed"), detail=f"{name}\x1b[2J"), color=True)
    assert f"AssetImport.{name}" in text
    assert f"failed  {name}\\x1b[2J" in ANSI.sub("", text)
    for drawn in ("\x1b[1m", "\x1b]8;", "⚠"):  # bold, a hyperlink, an emoji
        assert drawn not in text


def test_the_job_summary_marks_and_counts_a_stopped_apply() -> None:
    markdown = render_results_markdown(stopped())
    assert "**Apply interrupted: 3 done, 1 interrupted, 6 not started.**" in markdown
    assert "| ! | `AssetImport.d` | create | interrupted |  |" in markdown
    assert "| ○ | `AssetImport.n0` | create | not started |  |" in markdown


# -- the plan ---------------------------------------------------------------------------------


def unchanged(name: str, workflow: str) -> PlannedWorkflow:
    return PlannedWorkflow(
        address=f"AssetImport.{name}",
        kind="AssetImport",
        workflow=workflow,
        manifest=name,
        **as_planned(Action.NOOP),
    )


def test_the_plans_unchanged_workflows_are_aligned_in_columns() -> None:
    p = Plan(instance="prod", items=(unchanged("a", "wf-a"), unchanged("longer-名前", "wf-b")))
    lines = render_text(p).splitlines()
    assert lines[0] == "  = AssetImport.a" + " " * 12 + "(wf-a)"  # 10 cells of name more, then 2
    assert lines[1] == "  = AssetImport.longer-名前  (wf-b)"
    colored = render_text(p, color=True)
    assert "  \x1b[2m=\x1b[0m AssetImport.a " in colored
    assert ANSI.sub("", colored) == render_text(p)


# -- import cost ----------------------------------------------------------------------------


RICH_LAYOUT = {"rich.table", "rich.console", "rich.progress", "rich.live"}


def test_renderers_import_rich_tables_only_when_they_draw_one() -> None:
    """`plan -o json` and the markdown outputs never pay for rich's console (tens of ms)."""
    loaded = loaded_after("import reconciler.render.results, reconciler.render.plan")
    assert not RICH_LAYOUT & loaded


_CELL_TEXT = st.text(
    alphabet=st.sampled_from([*"abcXYZ019 .-_", "名", "前", "é", "✓", "↻"]), min_size=0, max_size=12
)
_CELL = st.one_of(
    _CELL_TEXT,
    st.tuples(st.sampled_from(sorted(MARK_STYLES)), _CELL_TEXT).map(lambda pair: marked(*pair)),
)


@example(rows=[("", "00000前前"), ("000000前", "")])  # rich's width once came from one row: a cut cell
@given(rows=st.integers(1, 3).flatmap(lambda n: st.lists(st.tuples(*[_CELL] * n), min_size=1, max_size=8)))
@settings(max_examples=200, deadline=None)
def test_long_tables_are_laid_out_as_rich_lays_them_out(rows: list[tuple[Any, ...]]) -> None:
    """Past RICH_TABLE_ROWS rows the layout is made without rich's Table (0.2 ms a row): the same lines."""
    for color in (False, True):
        assert _laid_out(rows, color=color, indent="  ") == table_lines(rows, color=color)

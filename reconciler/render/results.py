"""Render the results of an apply: a per-item table and a closing line. Pure: str out.

Addresses, details and run phases are shown through ``reconciler.render.escape``; the text
table is laid out by rich (``reconciler.render.terminal.table_lines``).
"""

from __future__ import annotations

from reconciler.apply import ApplyResult, ItemResult, Outcome
from reconciler.render.escape import md_code, md_text, terminal_text
from reconciler.render.terminal import Cell, marked, table_lines

_MARKS: dict[Outcome, str] = {
    "done": "✓",
    "failed": "✗",
    "already running": "↻",
    "skipped": "·",
    "unchanged": "=",
    "interrupted": "!",
    "not started": "○",
}
_SETTLED: tuple[Outcome, ...] = ("done", "failed", "already running", "skipped")
_CUT_SHORT: tuple[Outcome, ...] = ("interrupted", "not started")


def _row(item: ItemResult) -> tuple[Cell, ...]:
    phase = f" (run {terminal_text(item.run_phase)})" if item.run_phase else ""
    return (
        marked(_MARKS[item.outcome], terminal_text(item.address)),
        ",".join(a.value for a in item.actions),
        f"{item.outcome}{phase}",
        terminal_text(item.detail),
    )


def closing_line(result: ApplyResult, *, unchanged: bool = True) -> str:
    """``Apply: 2 done, 1 failed, ...`` (``unchanged`` counts the no-ops too); after an apply that
    was stopped, ``Apply interrupted: 3 done, 1 interrupted, 6 not started.`` with only the
    other outcomes that occurred."""
    counted = (*_SETTLED, "unchanged") if unchanged else _SETTLED
    if not any(result.count(outcome) for outcome in _CUT_SHORT):
        return "Apply: " + ", ".join(f"{result.count(o)} {o}" for o in counted) + "."
    occurred = [o for o in counted if o == "done" or result.count(o)]
    counts = ", ".join(f"{result.count(o)} {o}" for o in (*occurred, *_CUT_SHORT))
    return f"Apply interrupted: {counts}."


def render_results_text(result: ApplyResult, *, color: bool = False) -> str:
    shown = [item for item in result.items if item.outcome != "unchanged"]
    lines = ["Apply results:", *table_lines([_row(item) for item in shown], color=color)] if shown else []
    lines.append(closing_line(result))
    return "\n".join(lines) + "\n"


def render_results_markdown(result: ApplyResult) -> str:
    """The apply results as a markdown table, for the Actions job summary."""
    lines = ["### reconciler apply", "", f"**{closing_line(result, unchanged=False)}**", ""]
    shown = [item for item in result.items if item.outcome != "unchanged"]
    if shown:
        lines += ["| | workflow | actions | outcome | detail |", "|---|---|---|---|---|"]
        lines += [
            f"| {_MARKS[i.outcome]} | {md_code(i.address, cell=True)} | "
            f"{', '.join(a.value for a in i.actions)} | {i.outcome} | {md_text(i.detail)} |"
            for i in shown
        ]
    return "\n".join(lines) + "\n"

"""Render the results of an apply: a per-item table and a closing line. Pure: str out.

Addresses, details and run phases are shown through ``reconciler.render.escape``; the text
table is laid out by rich (``reconciler.render.terminal.table_lines``).
"""

from __future__ import annotations

from reconciler.apply import ApplyResult, ItemResult, Outcome
from reconciler.live import COUNT_NAMES, describe_error
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
_ERRORS_SHOWN = 5  # per workflow; the run's results.csv and outputs have the rest
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


def _imported(
    result: ApplyResult,
) -> list[tuple[ItemResult, list[tuple[str, str, dict[str, int]]], list[str]]]:
    """Per followed run that reported results: its files' counts and its first errors."""
    found = []
    for item in result.items:
        if item.run_results is None:
            continue
        files = [(f.section, f.key, f.counts()) for f in item.run_results.files]
        errors = [describe_error(e) for e in item.run_results.errors]
        found.append((item, files, errors))
    return found


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {counts[name]}" for name in COUNT_NAMES if counts[name] or name != "deleted")


def _import_lines(result: ApplyResult, *, color: bool) -> list[str]:
    imported = _imported(result)
    if not imported:
        return []
    rows: list[tuple[Cell, ...]] = [
        (terminal_text(item.address), terminal_text(section), _counts(counts))
        for item, files, _ in imported
        for section, _key, counts in files
    ]
    lines = ["What the runs imported:", *table_lines(rows, color=color)] if rows else []
    for item, _, errors in imported:
        if errors:
            more = len(errors) - _ERRORS_SHOWN
            lines.append(
                f"Errors of {terminal_text(item.address)}"
                + (f" (first {_ERRORS_SHOWN}):" if more > 0 else ":")
            )
            lines += [f"  {terminal_text(error)}" for error in errors[:_ERRORS_SHOWN]]
    return lines


def render_results_text(result: ApplyResult, *, color: bool = False) -> str:
    shown = [item for item in result.items if item.outcome != "unchanged"]
    lines = ["Apply results:", *table_lines([_row(item) for item in shown], color=color)] if shown else []
    lines += _import_lines(result, color=color)
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
    imported = _imported(result)
    if any(files for _, files, _ in imported):
        lines += ["", "| workflow | file | imported |", "|---|---|---|"]
        lines += [
            f"| {md_code(item.address, cell=True)} | {md_text(section)} | {_counts(counts)} |"
            for item, files, _ in imported
            for section, _key, counts in files
        ]
    for item, _, errors in imported:
        if errors:
            lines += ["", f"Errors of {md_code(item.address)}:", ""]
            lines += [f"- {md_text(error)}" for error in errors[:_ERRORS_SHOWN]]
    return "\n".join(lines) + "\n"

"""Render the results of an apply: a per-item table and a closing line. Pure: str out.

Addresses, details and run phases are shown through ``reconciler.render.escape``.
"""

from __future__ import annotations

from reconciler.apply import ApplyResult, ItemResult
from reconciler.render.escape import md_code, md_text, terminal_text
from reconciler.render.terminal import paint_mark

_MARKS = {"done": "✓", "failed": "✗", "already running": "↻", "skipped": "·", "unchanged": "="}


def _line(item: ItemResult, width: int, color: bool) -> str:
    mark = paint_mark(_MARKS[item.outcome], color)
    actions = ",".join(a.value for a in item.actions)
    detail = f"  {terminal_text(item.detail)}" if item.detail else ""
    phase = f" (run {terminal_text(item.run_phase)})" if item.run_phase else ""
    return f"  {mark} {terminal_text(item.address):<{width}}  {actions:<14} {item.outcome}{phase}{detail}"


def render_results_text(result: ApplyResult, *, color: bool = False) -> str:
    shown = [item for item in result.items if item.outcome != "unchanged"]
    width = max((len(terminal_text(item.address)) for item in shown), default=0)
    lines = ["Apply results:", *(_line(item, width, color) for item in shown)] if shown else []
    lines.append(
        f"Apply: {result.count('done')} done, {result.count('failed')} failed, "
        f"{result.count('already running')} already running, {result.count('skipped')} skipped, "
        f"{result.count('unchanged')} unchanged."
    )
    return "\n".join(lines) + "\n"


def render_results_markdown(result: ApplyResult) -> str:
    """The apply results as a markdown table, for the Actions job summary."""
    lines = [
        "### reconciler apply",
        "",
        f"**Apply: {result.count('done')} done, {result.count('failed')} failed, "
        f"{result.count('already running')} already running, {result.count('skipped')} skipped.**",
        "",
    ]
    shown = [item for item in result.items if item.outcome != "unchanged"]
    if shown:
        lines += ["| | workflow | actions | outcome | detail |", "|---|---|---|---|---|"]
        lines += [
            f"| {_MARKS[i.outcome]} | {md_code(i.address, cell=True)} | "
            f"{', '.join(a.value for a in i.actions)} | {i.outcome} | {md_text(i.detail)} |"
            for i in shown
        ]
    return "\n".join(lines) + "\n"

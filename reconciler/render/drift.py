"""Render a DriftReport as text, markdown (an issue body) or JSON. Pure: str out.

Addresses, workflow names, messages and changes are shown through ``reconciler.render.escape``.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.drift import DriftReport
from reconciler.plan.model import FORMAT_VERSION
from reconciler.render.escape import html_code, md_code, md_fence, md_text, terminal_text
from reconciler.render.formats import OutputFormat, in_format
from reconciler.render.plan import change_line, fit_markdown
from reconciler.render.terminal import paint, paint_mark, paint_mark_line

MARKDOWN_MARKER = "<!-- reconciler:drift -->"
_MARKS = {
    "modified": "~",
    "schedule": "~",
    "unapplied": "~",  # what the next apply does to it, as the plan marks an update
    "pending": "↻",  # a rerun, as the plan marks it
    "credentials": "~",
    "missing": "+",
    "orphaned": "-",
    "adoption": "<=",
    "unhealthy": "!",
    "content": "~",
}
# In the drift issue, where a reader decides what to do: apply, or find who edited the tenant.
_UNAPPLIED_NOTE = (
    "`unapplied`: changed in git since the last apply, which the tenant still matches; the next "
    "apply writes it. `modified`, `schedule`: changed on the tenant since the last apply, unless "
    "the finding says drift cannot tell."
)


def render_drift_text(report: DriftReport, *, color: bool = False) -> str:
    lines = []
    if report.clean:
        lines.append("No drift: the tenant matches git and every last run is healthy.")
    for finding in report.findings:
        address, workflow = terminal_text(finding.address), terminal_text(finding.workflow)
        lines.append(f"  {paint_mark(_MARKS[finding.kind], color)} {address}  ({workflow})  [{finding.kind}]")
        lines.append(f"      # {terminal_text(finding.message)}")
        lines += [f"      {paint_mark_line(terminal_text(change_line(c)), color)}" for c in finding.changes]
    lines.append(paint(report.summary_line(), "bold", color))
    return "\n".join(lines) + "\n"


def render_drift_markdown(report: DriftReport, *, limit: int = 65_000) -> str:
    head = [
        MARKDOWN_MARKER,
        f"### reconciler drift for instance {md_code(report.instance)}",
        "",
        f"**{report.summary_line()}**",
        "",
    ]
    if report.clean:
        head.append("No drift: the tenant matches git and every last run is healthy.")
        return "\n".join(head) + "\n"
    if report.unapplied:
        head += [_UNAPPLIED_NOTE, ""]
    rows = ["| | workflow | kind | finding |", "|---|---|---|---|"]
    rows += [
        f"| `{_MARKS[f.kind]}` | {md_code(f.address, cell=True)} | {f.kind} | {md_text(f.message)} |"
        for f in report.findings
    ]
    details = [
        f"<details><summary>{html_code(f.address)} {f.kind}</summary>\n\n"
        f"{md_fence((change_line(c) for c in f.changes), 'diff')}\n</details>"
        for f in report.findings
        if f.changes
    ]
    return fit_markdown(head, [*rows, "", *details], limit=limit, what="report")


def drift_as_dict(report: DriftReport) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "instance": report.instance,
        "drifted": report.drifted,
        "unapplied": report.unapplied,
        "unhealthy": report.unhealthy,
        "checked": report.checked,
        "findings": [
            {
                "address": f.address,
                "workflow": f.workflow,
                "kind": f.kind,
                "message": f.message,
                "changes": [
                    {"op": c.op, "path": list(c.path), "old": c.old, "new": c.new} for c in f.changes
                ],
                "run": f.run,
                "phase": f.phase,
                "finished_at": f.finished_at,
            }
            for f in report.findings
        ],
    }


def render_drift_json(report: DriftReport) -> str:
    return json.dumps(drift_as_dict(report), indent=2, ensure_ascii=False) + "\n"


def render_drift(report: DriftReport, output: OutputFormat, *, color: bool = False) -> str:
    """``report`` in the format asked for."""
    return in_format(
        output,
        text=lambda: render_drift_text(report, color=color),
        markdown=lambda: render_drift_markdown(report),
        json=lambda: render_drift_json(report),
    )

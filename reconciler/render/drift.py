"""Render a DriftReport as text, markdown (an issue body) or JSON. Pure: str out."""

from __future__ import annotations

import json
from typing import Any

from reconciler.drift import DriftReport
from reconciler.plan.model import FORMAT_VERSION
from reconciler.render.plan import change_line, fit_markdown, md_cell

MARKDOWN_MARKER = "<!-- reconciler:drift -->"
_MARKS = {
    "modified": "~",
    "schedule": "~",
    "credentials": "~",
    "missing": "+",
    "orphaned": "-",
    "adoption": "<=",
    "unhealthy": "!",
}


def render_drift_text(report: DriftReport) -> str:
    lines = []
    if report.clean:
        lines.append("No drift: the tenant matches git and every last run is healthy.")
    for finding in report.findings:
        lines.append(f"  {_MARKS[finding.kind]} {finding.address}  ({finding.workflow})  [{finding.kind}]")
        lines.append(f"      # {finding.message}")
        lines += [f"      {change_line(c)}" for c in finding.changes]
    lines.append(report.summary_line())
    return "\n".join(lines) + "\n"


def render_drift_markdown(report: DriftReport, *, limit: int = 65_000) -> str:
    head = [
        MARKDOWN_MARKER,
        f"### reconciler drift for instance `{report.instance}`",
        "",
        f"**{report.summary_line()}**",
        "",
    ]
    if report.clean:
        head.append("No drift: the tenant matches git and every last run is healthy.")
        return "\n".join(head) + "\n"
    rows = ["| | workflow | kind | finding |", "|---|---|---|---|"]
    rows += [
        f"| `{_MARKS[f.kind]}` | `{f.address}` | {f.kind} | {md_cell(f.message)} |" for f in report.findings
    ]
    details = [
        f"<details><summary><code>{f.address}</code> {f.kind}</summary>\n\n```diff\n"
        + "\n".join(change_line(c) for c in f.changes)
        + "\n```\n</details>"
        for f in report.findings
        if f.changes
    ]
    return fit_markdown(head, [*rows, "", *details], limit=limit, what="report")


def drift_as_dict(report: DriftReport) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "instance": report.instance,
        "drifted": report.drifted,
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

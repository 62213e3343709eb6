"""Render a Plan as text (Terraform-style), markdown (one PR comment) or JSON. Pure: str out.

No renderer decides anything: they only format what the Plan says. Nothing a plan holds is
secret, but values are still passed through the caller's scrubber when printed. Every name,
value, reason and note is the pull request author's text: text and markdown show it through
``reconciler.render.escape`` (inert: no terminal escape, no HTML, no mention, no broken table
or fence); JSON keeps it exact.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.content import ContentChange, RowChange, content_as_dict
from reconciler.plan.model import (
    FORMAT_VERSION,
    Action,
    FieldChange,
    Plan,
    PlannedWorkflow,
    Reason,
    ReasonCode,
)
from reconciler.plan.replacement import describe_replacement, removals, replacement_detail, replacements
from reconciler.render.escape import html_code, html_text, md_code, md_fence, md_text, terminal_text
from reconciler.render.formats import OutputFormat, in_format
from reconciler.render.terminal import marked, paint, paint_mark, paint_mark_line, table_lines

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.RERUN: "↻",
    Action.ADOPT: "<=",
    Action.ARCHIVE: "-",
    Action.NOOP: "=",
}
# Unchanged workflows are listed one per line up to this many items; beyond, only counted.
LIST_UNCHANGED_UP_TO = 50
MARKDOWN_MARKER = "<!-- reconciler:plan -->"
MARKDOWN_LIMIT = 65_000
# Rows shown per file whose content changes, in text and markdown (JSON has every row).
ROWS_SHOWN = 20
_ROW_MARKS = {"add": "+", "change": "~", "remove": "-"}


def symbol(item: PlannedWorkflow) -> str:
    for action in (Action.CREATE, Action.ARCHIVE, Action.ADOPT, Action.UPDATE, Action.RERUN):
        if item.has(action):
            return SYMBOLS[action]
    return SYMBOLS[Action.NOOP]


def _value(value: Any) -> str:
    return _short(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


def change_line(change: FieldChange) -> str:
    """One field change as a diff line, unescaped: callers escape it for where it is shown.

    A change whose old and new are equal is one the planner masked (the value came from an
    ``${env:NAME}`` reference): it shows the reference as written and says the value changed.
    """
    if change.op == "change" and change.old == change.new:
        shown = _short(change.old) if isinstance(change.old, str) else _value(change.old)
        return f"~ {change.dotted}: {shown} (value changed)"
    if change.op == "add":
        return f"+ {change.dotted}: {_value(change.new)}"
    if change.op == "remove":
        return f"- {change.dotted}: {_value(change.old)}"
    return f"~ {change.dotted}: {_value(change.old)} -> {_value(change.new)}"


def describe(reason: Reason) -> str:
    """A reason in words."""
    code, data = reason.code, reason.data
    if code is ReasonCode.NOT_ON_TENANT:
        return "not on the tenant" + ("; its first run starts with it" if "first-run" in data else "")
    if code is ReasonCode.FIELDS_CHANGED:
        shown = ", ".join(data[:4]) + (f" and {len(data) - 4} more" if len(data) > 4 else "")
        return f"changed: {shown}"
    if code is ReasonCode.RUN_TOKEN_SET:
        return f"run token set to {data[0]!r}"
    if code is ReasonCode.RUN_TOKEN_REMOVED:
        return f"run token {data[0]!r} removed"
    if code is ReasonCode.RUN_TOKEN_CHANGED:
        return f"run token changed ({data[0]!r} -> {data[1]!r})"
    if code is ReasonCode.ADOPT_TARGET_MISSING:
        return f"workflow {data[0]} to adopt does not exist; creating it"
    if code is ReasonCode.TAKE_OVER:
        return f"take over unmanaged workflow {data[0]}"
    if code is ReasonCode.CONTENT_CHANGED:
        uploaded = "; uploaded already, not run yet" if "uploaded" in data[2:] else ""
        return f"content changed: {data[0]} ({data[1]}{uploaded})"
    if code is ReasonCode.FULL_REPLACEMENT:
        return describe_replacement(reason)
    return _WORDS[code]


_WORDS = {
    ReasonCode.CREDENTIALS_CHANGED: "credentials changed",
    ReasonCode.CREDENTIALS_REMOVED: "credentials changed (removed: the tenant's backing store is used)",
    ReasonCode.CREDENTIALS_NOT_RECORDED: "credentials not recorded yet",
    ReasonCode.RUN_POLICY_ALWAYS: "run policy is always",
    ReasonCode.NO_RUN_RECORDED: "no run recorded by reconciler yet",
    ReasonCode.RUN_RECORD_UNREADABLE: "run record unreadable",
    ReasonCode.SPEC_CHANGED_SINCE_RUN: "spec changed since the last run",
    ReasonCode.MANIFEST_GONE: "its manifest is gone (--prune)",
    ReasonCode.CLAIMED_RUN_NOT_STARTED: "an apply asked for this run and was stopped before it started",
}


def content_head(change: ContentChange) -> str:
    """The line that introduces a file's rows: ``~ content glossaries: <object> (+2 ~1 -0 rows)``,
    ``+`` for an object that is not there yet."""
    mark = "+" if change.before_digest is None else "~"
    return f"{mark} content {change.section}: {change.object} ({change.diff.counts})"


def row_line(row: RowChange) -> str:
    """One row as a diff line, unescaped: the row's identity, then its changed cells."""
    mark = _ROW_MARKS[row.op]
    if row.op == "remove":
        return f"{mark} {row.key}"
    if row.op == "add":
        named = {column for column, _ in row.identity}  # already in the row's key
        shown = ", ".join(f"{c.column}={_value(c.new)}" for c in row.cells if c.column not in named)
        return f"{mark} {row.key}" + (f": {shown}" if shown else "")
    cells = "; ".join(f"{c.column}: {_value(c.old)} -> {_value(c.new)}" for c in row.cells)
    return f"{mark} {row.key}: {cells}"


def content_lines(change: ContentChange) -> list[str]:
    """The first ROWS_SHOWN rows of a file's change as diff lines, and how many more there are."""
    rows = change.diff.rows
    lines = [row_line(row) for row in rows[:ROWS_SHOWN]]
    if len(rows) > ROWS_SHOWN:
        lines.append(f"  ... and {len(rows) - ROWS_SHOWN} more rows (plan -o json shows every row)")
    return lines


def reasons_text(item: PlannedWorkflow) -> str:
    """The item's reasons in words, joined."""
    return "; ".join(describe(reason) for reason in item.reasons)


def _names(item: PlannedWorkflow) -> str:
    return f"{terminal_text(item.address)}  ({terminal_text(item.workflow)})"


def render_text(plan: Plan, *, color: bool = False) -> str:
    lines: list[str] = []
    changing = [item for item in plan.items if not item.is_noop]
    unchanged = [item for item in plan.items if item.is_noop]
    if changing:
        lines.append(f'reconciler will perform these actions (instance "{terminal_text(plan.instance)}"):')
        lines.append("")
    for item in changing:
        mark = symbol(item)
        actions = ", ".join(a.value for a in item.actions)
        lines.append(f"  {paint_mark(mark, color)} {_names(item)}  [{actions}]")
        lines += [_reason_line(reason, color) for reason in item.reasons]
        for change in item.changes:
            line = terminal_text(change_line(change))
            lines.append("      " + paint_mark_line(line, color))
        for content in item.content:
            lines.append("      " + paint_mark_line(terminal_text(content_head(content)), color))
            lines += [
                "          " + paint_mark_line(terminal_text(row), color) for row in content_lines(content)
            ]
        lines.append("")
    if unchanged and len(plan.items) <= LIST_UNCHANGED_UP_TO:
        rows = [(marked("=", terminal_text(i.address)), f"({terminal_text(i.workflow)})") for i in unchanged]
        lines += table_lines(rows, color=color)
        lines.append("")
    elif unchanged:
        lines += [f"  {len(unchanged)} workflows unchanged.", ""]
    lines += [f"Note: {terminal_text(note)}" for note in plan.notes]
    if not changing:
        lines.append("No changes. The tenant matches the manifests.")
    lines.append(paint(plan.summary_line(), "bold", color))
    return "\n".join(lines) + "\n"


def _reason_line(reason: Reason, color: bool) -> str:
    line = f"      # {terminal_text(describe(reason))}"
    # What full replacement removes is as dangerous as a prune: in the colour of an archive.
    return paint(line, "bold red", color) if reason.code is ReasonCode.FULL_REPLACEMENT else line


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT, marker: str = MARKDOWN_MARKER) -> str:
    """A PR comment: the summary first, one row per change, details collapsed, under ``limit``."""
    head = [
        marker,
        f"### reconciler plan for instance {md_code(plan.instance)}",
        "",
        f"**{plan.summary_line()}**",
        "",
    ]
    changing = [item for item in plan.items if not item.is_noop]
    if not changing:
        head.append("No changes. The tenant matches the manifests.")
    # As prominent as a prune: what full replacement removes stands above the table.
    head += [
        f"> **Full replacement** {md_code(item.address)}: {md_text(replacement_detail(reason))}"
        for item, reason in replacements(changing)
    ]
    head += [f"> {md_text(note)}" for note in plan.notes]
    table = ["", "| | workflow | actions | reason |", "|---|---|---|---|"] if changing else []
    table += [
        f"| `{symbol(i)}` | {md_code(i.address, cell=True)} | {', '.join(a.value for a in i.actions)} | "
        f"{md_text(reasons_text(i))} |"
        for i in changing
    ]
    details = []
    for item in changing:
        if item.changes:
            details.append(
                f"<details><summary>{html_code(item.address)} ({html_text(item.workflow)})</summary>\n\n"
                f"{md_fence((change_line(c) for c in item.changes), 'diff')}\n</details>"
            )
        details += [
            f"<details><summary>{html_code(item.address)} {html_text(content.section)}: "
            f"{content.diff.counts} ({html_text(content.object)})</summary>\n\n"
            f"{md_fence(content_lines(content), 'diff')}\n</details>"
            for content in item.content
        ]
    unchanged = len(plan.items) - len(changing)
    tail = ["", f"{unchanged} workflow(s) unchanged."] if unchanged else []

    return fit_markdown(head, [*table, "", *details, *tail], limit=limit, what="plan")


def fit_markdown(head: list[str], parts: list[str], *, limit: int, what: str) -> str:
    """``head`` and ``parts`` as lines; when longer than ``limit``, as many parts as fit and a note."""
    text = "\n".join([*head, *parts]) + "\n"
    if len(text) <= limit:
        return text
    note = f"\n_Truncated: the {what} is too long for one comment; the full {what} is in the job log._\n"
    kept = "\n".join(head) + "\n"
    for part in parts:
        if len(kept) + len(part) + 1 + len(note) > limit:
            break
        kept += part + "\n"
    return kept + note


def plan_as_dict(plan: Plan) -> dict[str, Any]:
    """The JSON form: versioned, one entry per workflow, stable for other tools to read."""
    return {
        "format_version": FORMAT_VERSION,
        "instance": plan.instance,
        "summary": plan.summary,
        "notes": list(plan.notes),
        "workflows": [
            {
                "address": item.address,
                "kind": item.kind,
                "manifest": item.manifest,
                "workflow": item.workflow,
                "actions": [a.value for a in item.actions],
                "reason": reasons_text(item),
                "changes": [
                    {"op": c.op, "path": list(c.path), "old": c.old, "new": c.new} for c in item.changes
                ],
                "before": item.before,
                "after": item.after,
                "content": [content_as_dict(change) for change in item.content],
                "full_replacement": _replacement_as_dict(item),
            }
            for item in plan.items
        ],
    }


def _replacement_as_dict(item: PlannedWorkflow) -> dict[str, Any] | None:
    """What full replacement removes with this item (reconciler/plan/replacement.py), or None."""
    for _, reason in replacements([item]):
        section, removal, counted, _, switch = reason.data
        removed, previous = removals(reason)
        return {
            "section": section,
            "removal": removal,
            "removed": removed if counted else None,
            "previous_rows": previous if counted else None,
            "switching": bool(switch),
            "message": describe_replacement(reason),
        }
    return None


def render_json(plan: Plan) -> str:
    return json.dumps(plan_as_dict(plan), indent=2, ensure_ascii=False) + "\n"


def render_plan(result: Plan, output: OutputFormat, *, color: bool = False) -> str:
    """``result`` in the format asked for."""
    return in_format(
        output,
        text=lambda: render_text(result, color=color),
        markdown=lambda: render_markdown(result),
        json=lambda: render_json(result),
    )

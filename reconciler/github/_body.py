"""Bodies for GitHub: hidden markers, and fitting markdown under GitHub's size limits. Pure."""

from __future__ import annotations

import re

# GitHub refuses a comment or issue body longer than this (422 "body is too long").
BODY_LIMIT = 65_536
# A job summary may hold 1 MiB per step; stay well under it.
SUMMARY_LIMIT = 1_000_000
TRUNCATION_NOTE = (
    "\n\n_Truncated: this text is longer than GitHub allows in one place; "
    "the full output is in the job log._\n"
)
_INSTANCE = re.compile(r"[^A-Za-z0-9_.:-]")
_LEADING_MARKER = re.compile(r"\A\s*<!-- reconciler:[a-z-]+(?: [^>]*)? -->[ \t]*\n?")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def safe_instance(instance: str) -> str:
    # An instance is a label value already; this only keeps "-->" and spaces out of a comment.
    return _INSTANCE.sub("_", instance) or "default"


def plan_marker(instance: str) -> str:
    """The hidden first line of the plan comment of ``instance``: one sticky comment per instance."""
    return f"<!-- reconciler:plan instance={safe_instance(instance)} -->"


def drift_marker(instance: str) -> str:
    """The hidden first line of the drift issue of ``instance``."""
    return f"<!-- reconciler:drift instance={safe_instance(instance)} -->"


def strip_leading_marker(markdown: str) -> str:
    """``markdown`` without a leading ``<!-- reconciler:... -->`` line (the renderer adds its own)."""
    return _LEADING_MARKER.sub("", markdown, count=1)


def first_line(body: str) -> str:
    """The first line of ``body`` (leading blank space and a ``\\r`` ignored): where a hidden marker is."""
    return body.lstrip().split("\n", 1)[0].strip()


def last_line(body: str) -> str:
    """The last line of ``body`` (trailing blank space and a ``\\r`` ignored): where a plan record is."""
    return body.rstrip().rsplit("\n", 1)[-1].strip()


def _unclosed(markdown: str) -> tuple[str | None, int]:
    """The fence left open at the end of ``markdown`` (None if none), and how many ``<details>``
    blocks are open; tags inside code blocks are text, not counted."""
    fence: str | None = None
    details = 0
    for line in markdown.split("\n"):
        found = _FENCE.match(line)
        if fence is None and found:
            fence = found[1]
        elif fence is None:
            details += line.count("<details") - line.count("</details>")
        elif (
            found
            and found[1][0] == fence[0]
            and len(found[1]) >= len(fence)
            and not line[found.end() :].strip()
        ):
            fence = None
    return fence, details


def fit(markdown: str, limit: int) -> str:
    """``markdown`` if it has at most ``limit`` characters; else cut at a line end, with an open code
    fence (of any length) and ``<details>`` blocks closed and a note saying it was truncated."""
    if len(markdown) <= limit:
        return markdown
    budget = limit - len(TRUNCATION_NOTE)
    if budget <= 64:
        raise ValueError(f"limit {limit} leaves no room for any text")
    cut = markdown[: budget - 64]  # room for the usual closers
    while True:
        newline = cut.rfind("\n")
        if newline > 0:
            cut = cut[:newline]
        fence, open_details = _unclosed(cut)
        closers = f"\n{fence}" if fence else ""
        closers += "\n</details>" * max(0, min(open_details, 4))
        if len(cut) + len(closers) <= budget:
            return cut + closers + TRUNCATION_NOTE
        cut = cut[: max(0, budget - len(closers))]  # a long fence: cut more, so the closers fit

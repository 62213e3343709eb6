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


def fit(markdown: str, limit: int) -> str:
    """``markdown`` if it has at most ``limit`` characters; else cut at a line end, with open code
    fences and ``<details>`` blocks closed and a note saying it was truncated."""
    if len(markdown) <= limit:
        return markdown
    budget = limit - len(TRUNCATION_NOTE) - 64  # room for the closers
    if budget <= 0:
        raise ValueError(f"limit {limit} leaves no room for any text")
    cut = markdown[:budget]
    newline = cut.rfind("\n")
    if newline > 0:
        cut = cut[:newline]
    closers = ""
    if sum(1 for line in cut.splitlines() if line.lstrip().startswith("```")) % 2:
        closers += "\n```"
    open_details = cut.count("<details") - cut.count("</details>")
    closers += "\n</details>" * max(0, min(open_details, 4))
    return cut + closers + TRUNCATION_NOTE

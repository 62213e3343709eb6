"""Full replacement: an assets file imported with ``delta.semantic: full``. Pure.

Under full replacement each run removes (archives, or purges) the assets the previous file had
and the new one lacks (../shared/atlan-csv-formats.md §7.8), like ``--prune`` removes workflows
whose manifest is gone: as dangerous, and guarded the same way. A plan says so for each import it
turns to full replacement (or creates with it), and for each new file it uploads under it, with
the count of rows the content plan's row diff removes. ``--max-prune`` limits those too: a share
of the previous file's rows (``20%``) or a count, per file; a plan over the limit is refused.

The package compares with the last file it processed (``*.processed`` in the tenant's store);
the plan compares with the object at the file's key, which is that file unless someone ran the
workflow with another one since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.manifest.parameters import DELTA_OPTIONS
from reconciler.plan.content import ContentChange
from reconciler.plan.model import PlannedWorkflow, PruneLimit, Reason, ReasonCode

SECTION = "assets"  # the only file the package replaces in full
_SEMANTIC, _REMOVAL = DELTA_OPTIONS["semantic"], DELTA_OPTIONS["removal"]


def full_replacement(
    desired: Mapping[str, Any], live: Mapping[str, Any] | None, content: Sequence[ContentChange]
) -> Reason | None:
    """The FULL_REPLACEMENT reason of an item whose desired parameters are ``desired`` and live
    ones ``live`` (None: it is created), with the files ``content`` changes; None when the
    import is no full replacement, or stays one and loses no row."""
    if desired.get(_SEMANTIC) != "full":
        return None
    removal = "purge" if desired.get(_REMOVAL) == "purge" else "archive"
    switch = "switch" if live is None or live.get(_SEMANTIC) != "full" else ""
    change = next((c for c in content if c.section == SECTION), None)
    removed = "" if change is None else str(change.diff.removed)
    previous = "" if change is None else str(change.diff.before_rows)
    if not switch and removed in ("", "0"):
        return None
    return Reason(ReasonCode.FULL_REPLACEMENT, (SECTION, removal, removed, previous, switch))


def removals(reason: Reason) -> tuple[int, int]:
    """(rows removed, rows of the previous file) of a FULL_REPLACEMENT reason; 0s when unknown."""
    _, _, removed, previous, _ = reason.data
    return int(removed or 0), int(previous or 0)


def describe_replacement(reason: Reason) -> str:
    """``full replacement: 1,204 assets not in the new file will be archived``, in words."""
    return f"full replacement: {replacement_detail(reason)}"


def replacement_detail(reason: Reason) -> str:
    """What a FULL_REPLACEMENT reason says, without the ``full replacement:`` before it."""
    section, removal, _, _, switch = reason.data
    removed, previous = removals(reason)
    if removed:
        done = "purged" if removal == "purge" else "archived"
        noun = "asset" if removed == 1 else "assets"
        share = (
            f" ({100 * removed / previous:.0f}% of the previous file's {previous:,} rows)" if previous else ""
        )
        turned = "; the import turns to delta.semantic: full" if switch else ""
        return f"{removed:,} {noun} not in the new file will be {done}{share}{turned}"
    return (
        f"{section} is imported with delta.semantic: full; each run {removal}s the assets the "
        "previous file had and its file lacks"
    )


def replacements(items: Iterable[PlannedWorkflow]) -> list[tuple[PlannedWorkflow, Reason]]:
    """Each item with its FULL_REPLACEMENT reason, in plan order."""
    return [
        (item, reason)
        for item in items
        for reason in item.reasons
        if reason.code is ReasonCode.FULL_REPLACEMENT
    ]


def replacement_refusal(item: PlannedWorkflow, reason: Reason, limit: PruneLimit) -> str | None:
    """Why the removals of ``reason`` are refused under ``limit`` (``--max-prune``), or None."""
    removed, previous = removals(reason)
    if not removed:
        return None
    if limit.allows(removed, previous):
        return None
    removal = reason.data[1]
    return (
        f"refusing full replacement: {item.address} would {removal} {removed:,} of the {previous:,} "
        f"assets of the previous file ({100 * removed / previous:.0f}%): more than --max-prune {limit}, "
        f"read as {limit_words(limit)}; raise --max-prune if this is intended"
    )


def limit_words(limit: PruneLimit) -> str:
    return limit.describe("the previous file's rows", "row")

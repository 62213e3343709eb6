"""The plan record: the hidden last line of the plan comment, and the comparison with it. Pure.

::

    <!-- reconciler:plan-record v1 instance=default sha256=<hex> data=<base64 zlib JSON> -->

``sha256`` is the plan's fingerprint (reconciler/plan/review.py); ``data``, when it fits, a
compact per-address summary (actions, and a short digest of each change's values) so that a
mismatch can be described rather than only detected. Only a comment's whole last line is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.github._body import last_line, safe_instance
from reconciler.plan.model import Plan
from reconciler.plan.review import canonical, digest_of, reviewed

RECORD_VERSION = "v1"
# The per-address part of the record is left out beyond this size (the digest is always kept).
RECORD_DATA_LIMIT = 20_000
_RECORD = re.compile(
    r"<!-- reconciler:plan-record (?P<version>v\d+) instance=(?P<instance>\S+) "
    r"sha256=(?P<digest>[0-9a-f]{64})(?: data=(?P<data>[A-Za-z0-9+/=]+))? -->"
)


@dataclass(frozen=True, slots=True)
class RecordedEntry:
    actions: tuple[str, ...]
    changes: dict[tuple[str, str], str]  # (op, dotted path) -> short digest of (old, new)


def _value_digest(change: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical([change["old"], change["new"]]).encode()).hexdigest()[:12]


def _entries(normalised: Mapping[str, Any]) -> dict[str, RecordedEntry]:
    return {
        address: RecordedEntry(
            actions=tuple(entry["actions"]),
            changes={(c["op"], c["path"]): _value_digest(c) for c in entry["changes"]},
        )
        for address, entry in normalised["workflows"].items()
    }


def plan_record(plan: Plan) -> str:
    """The hidden HTML comment that records ``plan`` in the PR comment."""
    normalised = reviewed(plan)
    digest = digest_of(normalised)
    compact = {
        address: {"a": list(entry.actions), "c": [[op, path, h] for (op, path), h in entry.changes.items()]}
        for address, entry in _entries(normalised).items()
    }
    data = base64.b64encode(zlib.compress(canonical(compact).encode(), 9)).decode()
    instance = safe_instance(normalised["instance"])
    head = f"<!-- reconciler:plan-record {RECORD_VERSION} instance={instance} sha256={digest}"
    return f"{head} data={data} -->" if len(data) <= RECORD_DATA_LIMIT else f"{head} -->"


@dataclass(frozen=True)
class RecordedPlan:
    """A plan as recorded in a pull request's plan comment."""

    instance: str
    digest: str
    entries: dict[str, RecordedEntry] | None  # None when the record kept only the digest
    pr_number: int | None = None
    comment_url: str | None = None


def parse_plan_record(body: str) -> RecordedPlan | None:
    """The record in a comment body (its whole last line), or None when there is none (or it is
    unreadable). A record-like text anywhere else in the body is not read."""
    match = _RECORD.fullmatch(last_line(body))
    if match is None or match["version"] != RECORD_VERSION:
        return None
    entries: dict[str, RecordedEntry] | None = None
    if match["data"]:
        try:
            compact = json.loads(zlib.decompress(base64.b64decode(match["data"], validate=True)))
            entries = {
                str(address): RecordedEntry(
                    actions=tuple(str(a) for a in entry["a"]),
                    changes={(str(op), str(path)): str(h) for op, path, h in entry["c"]},
                )
                for address, entry in compact.items()
            }
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError):
            entries = None
    return RecordedPlan(instance=match["instance"], digest=match["digest"], entries=entries)


def _short(value: Any) -> str:
    text = canonical(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _actions(actions: tuple[str, ...] | list[str]) -> str:
    return ", ".join(actions)


def compare_with_recorded(recorded: RecordedPlan, plan: Plan) -> list[str]:
    """What differs between the reviewed plan and ``plan``, one readable line each; [] when equal."""
    normalised = reviewed(plan)
    if digest_of(normalised) == recorded.digest:
        return []
    differences: list[str] = []
    instance = safe_instance(normalised["instance"])
    if recorded.instance != instance:
        differences.append(f"the reviewed plan is for instance {recorded.instance}, this one for {instance}")
    if recorded.entries is None:
        differences.append(
            "the plan differs from the reviewed one (only its digest was recorded: it was too large "
            "to record in full)"
        )
        return differences
    now = _entries(normalised)
    current = normalised["workflows"]
    for address in sorted(set(recorded.entries) | set(now)):
        before, after = recorded.entries.get(address), now.get(address)
        if after is None:
            if before is not None:
                differences.append(
                    f"{address}: the reviewed plan would {_actions(before.actions)}; now nothing to do"
                )
            continue
        if before is None:
            differences.append(
                f"{address}: now {_actions(after.actions)}; the reviewed plan left it unchanged"
            )
            continue
        if before.actions != after.actions:
            differences.append(
                f"{address}: reviewed as {_actions(before.actions)}, now {_actions(after.actions)}"
            )
        values = {(c["op"], c["path"]): c for c in current[address]["changes"]}
        for key in sorted(set(before.changes) | set(after.changes)):
            op, path = key
            if key not in before.changes:
                change = values[key]
                differences.append(
                    f"{address}: {path}: {op} not in the reviewed plan "
                    f"({_short(change['old'])} -> {_short(change['new'])})"
                )
            elif key not in after.changes:
                differences.append(f"{address}: {path}: the reviewed {op} is no longer planned")
            elif before.changes[key] != after.changes[key]:
                change = values[key]
                differences.append(
                    f"{address}: {path}: now {_short(change['old'])} -> {_short(change['new'])}, "
                    "not the values reviewed"
                )
    if not differences:
        differences.append("the plan differs from the reviewed one in a way its record does not show")
    return differences

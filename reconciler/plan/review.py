"""What a reviewer approves in a plan, and its fingerprint: the one plan fingerprint.

Per address the actions and the field changes, without no-ops, ordering or volatile fields
(resourceVersions, the salted digests, the run record: they change without anything a reviewer
cares about changing). The pull request's plan comment records it (reconciler/github/_record.py)
and apply compares with it after the merge (README, Merge-time safety).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from reconciler.plan.model import Action, Plan
from reconciler.plan.normalise import CREDENTIAL_DIGEST_ANNOTATION, ENV_DIGEST_ANNOTATION, LAST_RUN_ANNOTATION

# Keys whose values change without anything the reviewer should care about changing.
VOLATILE_KEYS = frozenset(
    {
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "managedFields",
        "generation",
        "selfLink",
        CREDENTIAL_DIGEST_ANNOTATION,
        ENV_DIGEST_ANNOTATION,
        LAST_RUN_ANNOTATION,
    }
)


def canonical(value: Any) -> str:
    """Compact JSON with sorted keys: what the fingerprint and the change digests are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _without_volatile(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        return [_without_volatile(v) for v in value]
    return value


def reviewed(plan: Plan) -> dict[str, Any]:
    """What a reviewer approves in ``plan``: per address the actions, the field changes and the
    digests of the files whose content changes."""
    workflows: dict[str, Any] = {}
    for item in plan.items:
        actions = sorted(a.value for a in item.actions if a is not Action.NOOP)
        if not actions:
            continue
        changes = [
            {
                "op": change.op,
                "path": ".".join(change.path),
                "old": _without_volatile(change.old),
                "new": _without_volatile(change.new),
            }
            for change in item.changes
            if not any(part in VOLATILE_KEYS for part in change.path)
        ]
        if item.action is Action.CREATE and item.after is not None:
            # A create has no field changes; what is reviewed is the whole workflow it makes.
            changes.append(
                {"op": "create", "path": "workflow", "old": None, "new": _without_volatile(item.after)}
            )
        changes.sort(key=lambda c: (c["path"], c["op"], canonical(c)))
        workflows[item.address] = {"actions": actions, "changes": changes}
        if item.content:
            # The files' content is reviewed by its digests: the rows follow from them.
            workflows[item.address]["content"] = [
                {"section": c.section, "object": c.object, "before": c.before_digest, "after": c.after_digest}
                for c in item.content
            ]
    return {"instance": plan.instance, "workflows": workflows}


def fingerprint(plan: Plan) -> str:
    """sha256 of ``reviewed(plan)``: equal exactly when a reviewer would see the same changes."""
    return digest_of(reviewed(plan))


def digest_of(reviewed_plan: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(reviewed_plan).encode()).hexdigest()

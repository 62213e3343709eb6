"""The Plan: plain, immutable data that renderers print and the applier carries out.

A plan holds no secret: credentials appear only as a salted digest annotation, and the request
bodies with secrets are rebuilt from the manifests by the applier.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

FORMAT_VERSION = "1"
ABSENT = "<absent>"  # marks a kept-live field that the live workflow does not have


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    RERUN = "rerun"
    ADOPT = "adopt"
    ARCHIVE = "archive"
    NOOP = "no-op"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference between live and desired, on the normalised view."""

    op: Literal["add", "remove", "change"]
    path: tuple[str, ...]
    old: Any = None
    new: Any = None

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class PlannedWorkflow:
    """What the plan does to one workflow, and why."""

    address: str  # "<Kind>.<manifest name>", or "workflow.<name>" for one without a manifest
    kind: str
    workflow: str  # the workflow name on the tenant
    manifest: str | None
    actions: tuple[Action, ...]
    reasons: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    before: dict[str, Any] | None = None  # normalised live view; None when absent
    after: dict[str, Any] | None = None  # normalised desired view; None when archived
    # For the applier: the live resourceVersion (optimistic concurrency) and the bookkeeping
    # annotations the planner decided (digests; never a secret).
    resource_version: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    credentials_changed: bool = False
    credential_ref: str | None = None  # the live cloud_source (a credential id), kept on updates
    run_record: str | None = None  # reconciler.dev/last-run to record once a run was submitted
    run_policy: str = "on-change"
    depends_on: tuple[str, ...] = ()
    # Fields the manifest's `ignore` leaves to the tenant: (path in the view, live value or ABSENT).
    # For the applier only: a saved plan records the paths, not the values.
    keep_live: tuple[tuple[tuple[str, ...], Any], ...] = ()
    # View paths whose values came from ${env:NAME} references: before, after and changes show
    # the reference there, never the value.
    masked: tuple[tuple[str, ...], ...] = ()

    @property
    def is_noop(self) -> bool:
        return self.actions == (Action.NOOP,)

    def has(self, action: Action) -> bool:
        return action in self.actions


@dataclass(frozen=True)
class PruneOptions:
    """``--prune`` and ``--max-prune``: whether managed workflows without a manifest are archived,
    and the largest share of the managed set one plan may archive."""

    prune: bool = False
    max_percent: float = 20.0


@dataclass(frozen=True)
class Plan:
    """Every workflow the manifests and the managed set mention, in apply order."""

    instance: str
    items: tuple[PlannedWorkflow, ...]
    notes: tuple[str, ...] = ()
    orphans: tuple[str, ...] = ()  # managed workflows without a manifest (archived only with --prune)

    def count(self, action: Action) -> int:
        return sum(1 for item in self.items if item.has(action))

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(action for item in self.items for action in item.actions)
        return {
            "create": counts[Action.CREATE],
            "update": counts[Action.UPDATE],
            "rerun": counts[Action.RERUN],
            "adopt": counts[Action.ADOPT],
            "archive": counts[Action.ARCHIVE],
            "no-op": counts[Action.NOOP],
        }

    @property
    def has_changes(self) -> bool:
        return any(not item.is_noop for item in self.items)

    def summary_line(self) -> str:
        s = self.summary
        adopt = f"{s['adopt']} to adopt, " if s["adopt"] else ""
        return (
            f"Plan: {adopt}{s['create']} to create, {s['update']} to update, "
            f"{s['rerun']} to rerun, {s['archive']} to archive."
        )

"""Drift: where the tenant has moved away from git, and which workflows are unhealthy. Pure.

Derived from the plan of the same inputs (so drift and plan can never disagree about what
differs), plus the newest run of each live workflow for health. ``drift_ignore`` pointers (per
manifest, and global) silence known drift; ``ignore`` pointers already removed those fields from
the plan itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.desired import DesiredWorkflow
from reconciler.live import ERROR, FAILED, LiveRun
from reconciler.manifest.models import parse_pointer
from reconciler.packages.compiler import SCHEDULE_ANNOTATION, TIMEZONE_ANNOTATION, env_pointer
from reconciler.plan.digests import env_value_matches
from reconciler.plan.model import ABSENT, Action, FieldChange, Plan, PlannedWorkflow
from reconciler.plan.normalise import ENV_DIGEST_ANNOTATION, lookup, under
from reconciler.plan.planner import diff_views, masked_view

FindingKind = Literal["modified", "schedule", "credentials", "missing", "orphaned", "adoption", "unhealthy"]
UNHEALTHY_PHASES = frozenset({FAILED, ERROR})
_SCHEDULE_PATHS = (("annotations", SCHEDULE_ANNOTATION), ("annotations", TIMEZONE_ANNOTATION))


@dataclass(frozen=True)
class Finding:
    address: str
    workflow: str
    kind: FindingKind
    message: str
    changes: tuple[FieldChange, ...] = ()
    run: str | None = None
    phase: str | None = None
    finished_at: str | None = None


@dataclass(frozen=True)
class DriftReport:
    instance: str
    findings: tuple[Finding, ...]
    checked: int

    @property
    def drifted(self) -> bool:
        return any(f.kind != "unhealthy" for f in self.findings)

    @property
    def unhealthy(self) -> bool:
        return any(f.kind == "unhealthy" for f in self.findings)

    @property
    def clean(self) -> bool:
        return not self.findings

    def summary_line(self) -> str:
        drifted = len({f.address for f in self.findings if f.kind != "unhealthy"})
        unhealthy = sum(1 for f in self.findings if f.kind == "unhealthy")
        return f"Drift: {drifted} drifted, {unhealthy} unhealthy, {self.checked} checked."


_UNKNOWN: Any = object()


def _credential_edited(
    item: PlannedWorkflow, shown: Mapping[str, Any] | None
) -> tuple[str, tuple[FieldChange, ...]] | None:
    """How the tenant's credential differs from the one apply last wrote, or None when it does not."""
    recorded = (item.before or {}).get("credential")
    if shown is _UNKNOWN or not isinstance(recorded, dict):
        return None
    if shown is None:
        return "credential deleted outside git", ()
    current = {key: shown.get(key) for key in ("authType", "username", "extra")}
    # A value from the environment is shown as its reference: the tenant's value is compared with
    # the salted digest apply recorded, and a difference is shown without either value.
    digest = item.annotations.get(ENV_DIGEST_ANNOTATION)
    masked = {path[1:]: _text(recorded, path[1:]) for path in item.masked if path[0] == "credential"}
    hidden = [
        FieldChange("change", ("credential", *path), text, text)
        for path, text in masked.items()
        if not env_value_matches(digest, env_pointer(("credential", *path)), lookup(current, path))
    ]
    current = masked_view(current, masked)
    # As for all drift: old is what the tenant has now, new is what git (via apply) wrote.
    compared = [
        FieldChange(c.op, ("credential", *c.path), c.old, c.new)
        for c in diff_views(current, recorded)
        if not under(c.path, list(masked))  # a masked value missing on the tenant: in hidden
    ]
    edits = tuple(sorted([*hidden, *compared], key=lambda c: c.path))
    if not edits:
        return None
    return f"credential edited outside git: {', '.join(c.dotted for c in edits)}", edits


def _text(recorded: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The reference recorded at ``path`` (None where there is none)."""
    found = lookup(recorded, path)
    return None if found == ABSENT else found


def detect_drift(
    plan: Plan,
    desired: Iterable[DesiredWorkflow],
    latest_runs: Mapping[str, Sequence[LiveRun]],
    *,
    credentials: Mapping[str, Mapping[str, Any] | None] | None = None,
    global_ignore: Sequence[str] = (),
) -> DriftReport:
    """Findings for ``plan`` (made without --prune); ``latest_runs`` maps workflow -> runs, newest first.

    ``credentials`` maps a workflow to its credential's metadata as the tenant shows it (None:
    the credential is gone); it is compared with what apply last wrote (``reconciler.dev/credential``).
    """
    ignores = {
        f"{d.kind}.{d.name}": [parse_pointer(p) for p in (*d.drift_ignore, *global_ignore)] for d in desired
    }
    everywhere = [parse_pointer(p) for p in global_ignore]
    findings: list[Finding] = []
    for item in plan.items:
        ignored = ignores.get(item.address, everywhere)
        if item.has(Action.CREATE):
            findings.append(Finding(item.address, item.workflow, "missing", "not on the tenant"))
            continue
        if item.has(Action.ADOPT):
            findings.append(Finding(item.address, item.workflow, "adoption", "not adopted yet (run apply)"))
        changes = [c for c in item.changes if not under(c.path, ignored)]
        schedule = tuple(c for c in changes if tuple(c.path[:2]) in _SCHEDULE_PATHS)
        modified = tuple(c for c in changes if c not in schedule)
        if modified:
            fields = ", ".join(sorted({c.dotted for c in modified}))
            findings.append(
                Finding(item.address, item.workflow, "modified", f"edited outside git: {fields}", modified)
            )
        if schedule:
            findings.append(
                Finding(item.address, item.workflow, "schedule", "schedule changed outside git", schedule)
            )
        tenant_side = _credential_edited(item, (credentials or {}).get(item.workflow, _UNKNOWN))
        if tenant_side is not None and not under(("credentials",), ignored):
            message, edits = tenant_side
            findings.append(Finding(item.address, item.workflow, "credentials", message, edits))
        elif item.credentials_changed and not under(("credentials",), ignored):
            findings.append(
                Finding(
                    item.address,
                    item.workflow,
                    "credentials",
                    "credentials differ from the manifest's secrets (changed outside git or not applied)",
                )
            )
        runs = latest_runs.get(item.workflow) or ()
        if runs and runs[0].phase in UNHEALTHY_PHASES and not under(("health",), ignored):
            run = runs[0]
            when = run.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ") if run.finished_at else None
            findings.append(
                Finding(
                    item.address,
                    item.workflow,
                    "unhealthy",
                    f"last run {run.name} ended {run.phase}" + (f" at {when}" if when else ""),
                    run=run.name,
                    phase=run.phase,
                    finished_at=when,
                )
            )
    if not under(("orphaned",), everywhere):
        findings += [
            Finding(f"workflow.{name}", name, "orphaned", "managed by this instance but has no manifest")
            for name in plan.orphans
        ]
    return DriftReport(plan.instance, tuple(findings), checked=len(plan.items) + len(plan.orphans))

"""Drift: where the tenant and git differ, and which workflows are unhealthy. Pure.

Derived from the plan of the same inputs (so drift and plan can never disagree about what
differs), plus the newest run of each live workflow for health. Each field that differs is
compared with what apply last wrote there (``reconciler.dev/applied``, and the salted env digest
for values from the environment): the tenant still holding it means git moved on and the change
is not applied yet; anything else was edited outside git. A workflow without that record (applied
by an older version) cannot tell the two apart, and says so. ``drift_ignore`` pointers (per
manifest, and global) silence known drift; ``ignore`` pointers already removed those fields from
the plan itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.desired import DesiredWorkflow
from reconciler.live import ERROR, FAILED, LiveRun, LiveWorkflow
from reconciler.manifest.models import parse_pointer
from reconciler.packages.compiler import (
    SCHEDULE_ANNOTATION,
    TIMEZONE_ANNOTATION,
    CompiledFile,
    env_pointer,
    recorded_env_fields,
)
from reconciler.plan.content import parse_record
from reconciler.plan.digests import AppliedRecord, env_value_matches
from reconciler.plan.model import ABSENT, Action, FieldChange, Plan, PlannedWorkflow, ReasonCode
from reconciler.plan.normalise import (
    APPLIED_ANNOTATION,
    CONTENT_ANNOTATION,
    CONTENT_VERSION_ANNOTATION,
    ENV_DIGEST_ANNOTATION,
    lookup,
    under,
    view_fields,
    workflow_view,
)
from reconciler.plan.planner import diff_views, masked_view

FindingKind = Literal[
    "modified",
    "schedule",
    "unapplied",
    "pending",
    "credentials",
    "missing",
    "orphaned",
    "adoption",
    "unhealthy",
    "content",
]
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


@dataclass(frozen=True, slots=True)
class SeenObject:
    """An object as one HEAD saw it: its version token, and the digest in its metadata (None
    where the store keeps none, as the tenant's own store, or someone else wrote it)."""

    etag: str
    sha256: str | None = None


# (manifest, section) -> the object at the file's key (None: there is none); a file not in it
# was not checked (drift --no-content, or its content is not applied yet).
SeenObjects = Mapping[tuple[str, str], SeenObject | None]


@dataclass(frozen=True)
class DriftReport:
    instance: str
    findings: tuple[Finding, ...]
    checked: int

    @property
    def drifted(self) -> bool:
        """True when the tenant and git differ, for whatever reason (not applied yet included)."""
        return any(f.kind != "unhealthy" for f in self.findings)

    @property
    def unapplied(self) -> bool:
        """True when some change in git (or a run it asked for) is known not to be applied yet."""
        return any(f.kind in _NOT_APPLIED for f in self.findings)

    @property
    def unhealthy(self) -> bool:
        return any(f.kind == "unhealthy" for f in self.findings)

    @property
    def clean(self) -> bool:
        return not self.findings

    def summary_line(self) -> str:
        """Workflows changed outside git (or possibly), not applied yet, unhealthy; one may be in two."""
        drifted = len({f.address for f in self.findings if f.kind not in ("unhealthy", *_NOT_APPLIED)})
        unapplied = len({f.address for f in self.findings if f.kind in _NOT_APPLIED})
        unhealthy = sum(1 for f in self.findings if f.kind == "unhealthy")
        behind = f"{unapplied} not applied yet, " if unapplied else ""
        return f"Drift: {drifted} drifted, {behind}{unhealthy} unhealthy, {self.checked} checked."


_UNKNOWN: Any = object()
_NOT_APPLIED = ("unapplied", "pending")

# Per kind of field finding and whether the tenant still holds what apply wrote (None: no record
# to tell), its message; ``{}`` is the list of fields.
_FIELD_FINDINGS: tuple[tuple[FindingKind, bool | None, str], ...] = (
    ("modified", False, "edited outside git: {}"),
    ("modified", None, "differs from git (edited outside git or not applied yet): {}"),
    ("schedule", False, "schedule changed outside git"),
    ("schedule", None, "schedule differs from git (changed outside git or not applied yet)"),
    ("unapplied", True, "not applied yet (run apply): {}"),
)


class _LastApply:
    """Whether a live workflow still holds, field by field, what apply last wrote to it."""

    def __init__(self, live: LiveWorkflow | None) -> None:
        annotations = live.annotations if live is not None else {}
        self.record = AppliedRecord.parse(annotations.get(APPLIED_ANNOTATION))
        self.view = workflow_view(live.raw.get("metadata") or {}, live.spec) if live is not None else {}
        # Apply recorded values from the environment as their manifest text (see the planner's
        # ``_applied``), and each value itself in the salted env digest.
        self.from_env = recorded_env_fields(annotations)
        self.env_digest = annotations.get(ENV_DIGEST_ANNOTATION)
        self.fields = dict(view_fields(masked_view(self.view, self.from_env)))

    def holds(self, field: tuple[str, ...]) -> bool | None:
        """True: the tenant has at ``field`` what apply wrote; False: it differs; None: no record."""
        same = None if self.record is None else self.record.holds(field, self.fields)
        if not same:
            return same  # differs, or cannot tell
        return all(
            env_value_matches(self.env_digest, env_pointer(path), lookup(self.view, path))
            for path in self.from_env
            if under(path, [field])
        )


_GONE: Any = object()


def _by_field(changes: Iterable[FieldChange]) -> Iterator[FieldChange]:
    """``changes`` with each one of a whole part (too little in common to diff key by key) split
    into one per field, so that each field can be told apart."""
    for change in changes:
        if len(change.path) != 1 or not (isinstance(change.old, dict) or isinstance(change.new, dict)):
            yield change
            continue
        old, new = _part(change.old), _part(change.new)
        for key in sorted(old.keys() | new.keys()):
            was, now = old.get(key, _GONE), new.get(key, _GONE)
            if was != now or type(was) is not type(now):
                op: Literal["add", "remove", "change"] = (
                    "add" if was is _GONE else "remove" if now is _GONE else "change"
                )
                yield FieldChange(op, (*change.path, key), _part_value(was), _part_value(now))


def _part(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _part_value(value: Any) -> Any:
    return None if value is _GONE else value


def _field_findings(
    item: PlannedWorkflow, changes: Sequence[FieldChange], last_apply: _LastApply
) -> Iterator[Finding]:
    """The item's differing fields as findings: edited outside git, not applied yet, or unknown."""
    held = [(c, last_apply.holds(tuple(c.path[:2]))) for c in changes]
    for kind, holds, message in _FIELD_FINDINGS:
        # What is not applied yet is one finding, schedule or not; the rest is split in two.
        found = tuple(
            c
            for c, same in held
            if same is holds
            and (kind == "unapplied" or (tuple(c.path[:2]) in _SCHEDULE_PATHS) == (kind == "schedule"))
        )
        if found:
            fields = ", ".join(sorted({c.dotted for c in found}))
            yield Finding(item.address, item.workflow, kind, message.format(fields), found)


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


def _content_findings(
    item: PlannedWorkflow,
    files: Sequence[CompiledFile],
    annotations: Mapping[str, str],
    objects: SeenObjects,
    ignored: Sequence[tuple[str, ...]],
) -> Iterator[Finding]:
    """The files of a workflow, by the digests it records: changed in git and not uploaded yet, or
    (one HEAD each) replaced or deleted in the store outside git."""
    recorded = parse_record(annotations.get(CONTENT_ANNOTATION))
    versions = parse_record(annotations.get(CONTENT_VERSION_ANNOTATION))
    waiting = []
    for file in files:
        if under(("content", file.section), ignored):
            continue
        if recorded.get(file.section) != file.sha256:
            waiting.append(file.section)
            continue
        key = (item.manifest or "", file.section)
        if key not in objects:
            continue
        seen = objects[key]
        if seen is None:
            problem = "missing: deleted outside git"
        elif seen.sha256 is not None:
            problem = "" if seen.sha256 == file.sha256 else "replaced outside git"
        else:  # no digest kept with the object: the version token the upload wrote tells
            version = versions.get(file.section)
            problem = "" if version is None or version == seen.etag else "replaced outside git"
        if problem:
            yield Finding(item.address, item.workflow, "content", f"{file.section}: {problem} ({file.url})")
    if waiting:
        message = f"content not applied yet (run apply): {', '.join(waiting)}"
        yield Finding(item.address, item.workflow, "unapplied", message)


def detect_drift(
    plan: Plan,
    desired: Iterable[DesiredWorkflow],
    latest_runs: Mapping[str, Sequence[LiveRun]],
    *,
    credentials: Mapping[str, Mapping[str, Any] | None] | None = None,
    live: Mapping[str, LiveWorkflow] | None = None,
    global_ignore: Sequence[str] = (),
    objects: SeenObjects | None = None,
) -> DriftReport:
    """Findings for ``plan`` (made without --prune); ``latest_runs`` maps workflow -> runs, newest first.

    ``credentials`` maps a workflow to its credential's metadata as the tenant shows it (None:
    the credential is gone); it is compared with what apply last wrote (``reconciler.dev/credential``).
    ``live`` maps a workflow to the live workflow the plan was made from: the records apply left on
    it tell a change not applied yet from an edit outside git (without it, drift cannot tell).
    ``objects``: the HEAD of each file whose content the workflow records as the one in git
    (reconciler/plan/content.py), compared with that record; None: the files are not looked at.
    """
    desired = list(desired)
    ignores = {
        f"{d.kind}.{d.name}": [parse_pointer(p) for p in (*d.drift_ignore, *global_ignore)] for d in desired
    }
    files = {f"{d.kind}.{d.name}": d.compiled.files for d in desired if d.compiled.files}
    everywhere = [parse_pointer(p) for p in global_ignore]
    findings: list[Finding] = []
    for item in plan.items:
        ignored = ignores.get(item.address, everywhere)
        if item.has(Action.CREATE):
            findings.append(Finding(item.address, item.workflow, "missing", "not on the tenant"))
            continue
        if item.has(Action.ADOPT):
            findings.append(Finding(item.address, item.workflow, "adoption", "not adopted yet (run apply)"))
        if any(reason.code is ReasonCode.CLAIMED_RUN_NOT_STARTED for reason in item.reasons):
            message = (
                "a requested run was never started: the apply that claimed it was interrupted (run apply)"
            )
            findings.append(Finding(item.address, item.workflow, "pending", message))
        changes = [c for c in _by_field(item.changes) if not under(c.path, ignored)]
        if changes:
            findings += _field_findings(item, changes, _LastApply((live or {}).get(item.workflow)))
        workflow = (live or {}).get(item.workflow)
        if objects is not None and item.address in files and workflow is not None:
            findings += _content_findings(item, files[item.address], workflow.annotations, objects, ignored)
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
            why = run.first_error
            findings.append(
                Finding(
                    item.address,
                    item.workflow,
                    "unhealthy",
                    f"last run {run.name} ended {run.phase}"
                    + (f" at {when}" if when else "")
                    + (f": {why}" if why else ""),
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

"""The Plan: plain, immutable data that renderers print and the applier carries out.

A plan holds no secret: credentials appear only as a salted digest annotation, and the request
bodies with secrets are rebuilt from the manifests by the applier.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from reconciler.plan.content import ContentChange

FORMAT_VERSION = "1"  # of the JSON output (reconciler/render/plan.py plan_as_dict)
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


class ReasonCode(StrEnum):
    """Why an item does what it does; renderers turn a Reason into words (reconciler/render/plan.py)."""

    NOT_ON_TENANT = "not-on-tenant"  # data: ("first-run",) when its first run starts with it
    ADOPT_TARGET_MISSING = "adopt-target-missing"  # data: (workflow,)
    TAKE_OVER = "take-over"  # data: (workflow,)
    FIELDS_CHANGED = "fields-changed"  # data: the changed fields, two path parts each, sorted
    CREDENTIALS_CHANGED = "credentials-changed"
    CREDENTIALS_REMOVED = "credentials-removed"
    CREDENTIALS_NOT_RECORDED = "credentials-not-recorded"
    RUN_POLICY_ALWAYS = "run-policy-always"
    NO_RUN_RECORDED = "no-run-recorded"
    RUN_RECORD_UNREADABLE = "run-record-unreadable"
    SPEC_CHANGED_SINCE_RUN = "spec-changed-since-run"
    # The run token is a manifest field (spec.run.token), not a credential.
    RUN_TOKEN_SET = "run-token-set"  # noqa: S105  data: (new,)
    RUN_TOKEN_REMOVED = "run-token-removed"  # noqa: S105  data: (old,)
    RUN_TOKEN_CHANGED = "run-token-changed"  # noqa: S105  data: (old, new)
    MANIFEST_GONE = "manifest-gone"
    CLAIMED_RUN_NOT_STARTED = "claimed-run-not-started"
    # data: (section, "+2 ~1 -0 rows"), plus "uploaded" when the object holds the new file already
    CONTENT_CHANGED = "content-changed"
    # A file imported with delta.semantic full: what it removes (reconciler/plan/replacement.py).
    # data: (section, removal "archive" or "purge", rows removed, rows of the previous file, both
    # "" when no new file is planned; "switch" when the import turns to full replacement, else "")
    FULL_REPLACEMENT = "full-replacement"


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    data: tuple[str, ...] = ()


# -- the steps an item's action takes, in order; the applier runs them and decides nothing ------


@dataclass(frozen=True, slots=True)
class Create:
    """POST the manifest's request (with its credential); ``submit`` starts its first run with it."""

    submit: bool


@dataclass(frozen=True, slots=True)
class Update:
    """POST the manifest's request over the live workflow, conditional on ``resource_version``.

    ``send_credentials``: the credential payload goes along (it changed, or was never recorded);
    otherwise the live credential is kept. ``claim``: the run about to be submitted is recorded
    in ``reconciler.dev/last-run`` with the apply's own id, so of two applies only one submits.
    ``changes_workflow``: False when the write exists only for the claim (a rerun alone).
    """

    resource_version: str | None
    send_credentials: bool
    claim: bool
    changes_workflow: bool = True


@dataclass(frozen=True, slots=True)
class Submit:
    """Start a run. ``claimed``: an Update before it recorded the claim, to be undone if the submit
    definitely failed, so the next plan asks for the run again."""

    claimed: bool


@dataclass(frozen=True, slots=True)
class Archive:
    """Archive the workflow (prune)."""


@dataclass(frozen=True, slots=True)
class Upload:
    """Write the file a section's source generates to ``key`` in the workflow's store, before any
    write of the workflow: only if the object there is still the one the plan read (``expected``,
    its ETag or generation), or, with ``expected`` None, only if there is still none. The bytes
    are rendered again and must have the digest ``sha256`` the plan showed."""

    section: str
    key: str
    expected: str | None
    sha256: str


Step = Upload | Create | Update | Submit | Archive
STEP_KINDS: dict[str, type[Upload] | type[Create] | type[Update] | type[Submit] | type[Archive]] = {
    "upload": Upload,
    "create": Create,
    "update": Update,
    "submit": Submit,
    "archive": Archive,
}


@dataclass(frozen=True, slots=True)
class PlannedWorkflow:
    """What the plan does to one workflow, and why: one action with its flags, and the steps."""

    address: str  # "<Kind>.<manifest name>", or "workflow.<name>" for one without a manifest
    kind: str
    workflow: str  # the workflow name on the tenant
    manifest: str | None
    action: Action
    updates: bool = False  # with adopt: the workflow changes too
    reruns: bool = False  # with update or adopt: a run follows
    steps: tuple[Step, ...] = ()
    reasons: tuple[Reason, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    before: dict[str, Any] | None = None  # normalised live view; None when absent
    after: dict[str, Any] | None = None  # normalised desired view; None when archived
    # What the steps write besides the compiled request: the live resourceVersion the plan read,
    # and the bookkeeping annotations the planner decided (digests; never a secret).
    resource_version: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    credentials_changed: bool = False
    credential_ref: str | None = None  # the live cloud_source (a credential id), kept on updates
    run_record: str | None = None  # reconciler.dev/last-run to record once a run was submitted
    depends_on: tuple[str, ...] = ()
    # Fields the manifest's `ignore` leaves to the tenant: (path in the view, live value or ABSENT).
    # For the applier only: a saved plan records the paths, not the values.
    keep_live: tuple[tuple[tuple[str, ...], Any], ...] = ()
    # View paths whose values came from ${env:NAME} references: before, after and changes show
    # the reference there, never the value.
    masked: tuple[tuple[str, ...], ...] = ()
    # The files whose content changes (reconciler/plan/content.py ContentChange), and the content
    # records written with the rerun claim (an Update with ``claim``), not before: an apply stopped
    # between the upload and the submit leaves the rerun pending.
    content: tuple[ContentChange, ...] = ()
    claim_annotations: dict[str, str] = field(default_factory=dict)

    @property
    def actions(self) -> tuple[Action, ...]:
        """The action and its flags, as listed in plans: adopt, update, rerun in that order."""
        if self.action in (Action.CREATE, Action.ARCHIVE, Action.NOOP, Action.RERUN):
            return (self.action,)
        flags = (Action.UPDATE,) if self.updates or self.action is Action.UPDATE else ()
        head = (Action.ADOPT,) if self.action is Action.ADOPT else ()
        return (*head, *flags, *((Action.RERUN,) if self.reruns else ()))

    @property
    def is_noop(self) -> bool:
        return self.action is Action.NOOP

    def has(self, action: Action) -> bool:
        return action in self.actions

    @property
    def starts_run(self) -> bool:
        """True when a step starts a run (a Submit, or a Create that submits)."""
        return any(isinstance(s, Submit) or (isinstance(s, Create) and s.submit) for s in self.steps)


@dataclass(frozen=True)
class PruneLimit:
    """``--max-prune``: the most one plan may archive, as a share of the managed workflows
    (``20%``) or as a count (``3``). A bare number is a count: "3" once meant 3%, silently."""

    value: float
    percent: bool

    @classmethod
    def parse(cls, text: str) -> PruneLimit:
        """``20%`` or ``3``; ValueError (with the reason) for anything else."""
        cleaned = text.strip()
        percent = cleaned.endswith("%")
        number = cleaned.removesuffix("%").strip()
        try:
            value = float(number) if percent else int(number)
        except ValueError:
            raise ValueError(f"{text!r} is neither a share such as 20% nor a count such as 3") from None
        if percent and not 0 <= value <= 100:
            raise ValueError(f"{text!r}: a share must be between 0% and 100%")
        if value < 0:
            raise ValueError(f"{text!r}: a count cannot be negative")
        return cls(float(value), percent)

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{self.value:g}"

    def describe(self, whole: str = "the managed workflows", unit: str = "workflow") -> str:
        """What the limit was understood as, in words: a share of ``whole``, or a count of ``unit``s."""
        if self.percent:
            return f"{self} of {whole}"
        return f"{self.value:g} {unit}{'' if self.value == 1 else 's'} (a count)"

    def allows(self, archiving: int, managed: int) -> bool:
        if self.percent:
            return 100.0 * archiving <= self.value * managed
        return archiving <= self.value


DEFAULT_PRUNE_LIMIT = PruneLimit(20.0, percent=True)


@dataclass(frozen=True)
class PruneOptions:
    """``--prune`` and ``--max-prune``: whether managed workflows without a manifest are archived,
    and the most one plan may archive."""

    prune: bool = False
    limit: PruneLimit = DEFAULT_PRUNE_LIMIT


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

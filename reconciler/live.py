"""The live state as the planner reads it: typed views of the workflows and runs the API returns.

Kept apart from the HTTP client (reconciler/atlan/) so that deciding and rendering load no
network code; the client parses its answers into these.

Only the fields the reconciler reads are typed; the whole ``_source`` stays available as ``raw``
because the planner diffs JSON. Parsing ignores unknown fields and tolerates missing optional
ones: a live workflow edited by hand must still list. A ``payload`` (which can hold credentials)
is never kept in ``raw``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator

from reconciler.packages.sharing import SharedParameters, share_parameters, strings

PENDING = "Pending"
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
ERROR = "Error"
ACTIVE_PHASES = frozenset({PENDING, RUNNING})
FINISHED_PHASES = frozenset({SUCCEEDED, FAILED, ERROR})

# The run label Argo puts on every run of a template (the emulator writes it: reconciler/emulator/runs.py).
TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"


def _lenient_timestamp(value: Any) -> Any:
    """An unparsable or empty timestamp becomes None rather than failing a whole listing."""
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _str_dict(value: Any) -> dict[str, str]:
    """Labels and annotations as ``dict[str, str]`` (a null map is empty, scalars become strings),
    each string interned: the workflows of one listing repeat the same few hundred, and at
    10,000 workflows sharing them saves tens of megabytes."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError("expected a map of strings")
    return strings(value)


def _json_object(value: Any) -> dict[str, Any]:
    """A JSON object as decoded, kept as it is: pydantic would copy it key by key (for 10,000
    listed workflows, twice each)."""
    if type(value) is dict:
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise ValueError("expected a JSON object")


Timestamp = Annotated[datetime | None, BeforeValidator(_lenient_timestamp)]
JsonObject = Annotated[dict[str, Any], PlainValidator(_json_object)]
StrMap = Annotated[dict[str, str], PlainValidator(_str_dict)]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class LiveWorkflow(BaseModel):
    """A workflow template as the API shows it (a search hit's ``_source`` or a create/update answer)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    namespace: str = "default"
    labels: StrMap = Field(default_factory=dict)
    annotations: StrMap = Field(default_factory=dict)
    resource_version: str | None = None
    creation_timestamp: Timestamp = None
    uid: str | None = None
    spec: JsonObject = Field(default_factory=dict)
    raw: JsonObject = Field(default_factory=dict, repr=False)
    """The ``_source`` document as received, minus any ``payload``."""

    @classmethod
    def from_source(
        cls, source: Mapping[str, Any], *, shared: SharedParameters | None = None
    ) -> LiveWorkflow:
        """Parse a ``_source`` (``{apiVersion, kind, metadata, spec, status}``); may raise ValidationError.

        ``shared``: the parameters seen so far in the same listing (see ``listing_parser``).
        """
        metadata = _mapping(source.get("metadata"))
        spec = _mapping(source.get("spec"))
        share_parameters(spec, {} if shared is None else shared)
        raw = {key: value for key, value in source.items() if key != "payload"}
        workflow = cls.model_validate(
            {
                "name": metadata.get("name"),
                "namespace": metadata.get("namespace") or "default",
                "labels": metadata.get("labels"),
                "annotations": metadata.get("annotations"),
                "resource_version": metadata.get("resourceVersion"),
                "creation_timestamp": metadata.get("creationTimestamp"),
                "uid": metadata.get("uid"),
                "spec": spec,
                "raw": raw,
            }
        )
        if isinstance(raw.get("metadata"), dict):
            # One copy of each map, shared with the fields, wherever it is the same as received.
            same = {key: getattr(workflow, key) for key in ("labels", "annotations")}
            raw["metadata"] = {**metadata, **{k: v for k, v in same.items() if v == metadata.get(k)}}
        return workflow

    @classmethod
    def listing_parser(cls) -> Callable[[Mapping[str, Any]], LiveWorkflow]:
        """``from_source`` for the hits of one listing: the workflows of a package repeat most of
        their task parameters, and equal ones become one object (about 2 KB less per workflow).
        Listed specs are read, never changed in place; a change is made on a copy."""
        shared: SharedParameters = {}
        return lambda source: cls.from_source(source, shared=shared)


class FileCounts(BaseModel):
    """What a run did with one of its input files (the package's ``Total assets created`` lines)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    section: str
    key: str = ""
    created: int = 0
    updated: int = 0
    restored: int = 0
    skipped: int = 0
    failed: int = 0
    deleted: int = 0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNT_NAMES}


COUNT_NAMES = ("created", "updated", "restored", "skipped", "failed", "deleted")


class RunError(BaseModel):
    """One problem a run reported, at a line (the header is line 1) and column of an input file."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    section: str = ""
    line: int | None = None
    field: str | None = None
    message: str


class RunResults(BaseModel):
    """A finished import run's outcome, from its ``status.outputs`` parameter ``results`` (a JSON
    text; the emulator writes it, reconciler/emulator/imports). Absent for runs that report none."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    files: tuple[FileCounts, ...] = ()
    errors: tuple[RunError, ...] = ()

    @classmethod
    def from_status(cls, status: Mapping[str, Any]) -> RunResults | None:
        outputs = _mapping(status.get("outputs"))
        parameters = outputs.get("parameters")
        for item in parameters if isinstance(parameters, list) else ():
            if (
                isinstance(item, Mapping)
                and item.get("name") == "results"
                and isinstance(item.get("value"), str)
            ):
                try:
                    return cls.model_validate_json(item["value"])
                except ValueError:
                    return None  # a run's own report must not fail a listing
        return None


class LiveRun(BaseModel):
    """One run (an Argo Workflow) of a workflow template."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    namespace: str = "default"
    template_name: str | None = None
    phase: str | None = None
    started_at: Timestamp = None
    finished_at: Timestamp = None
    creation_timestamp: Timestamp = None
    labels: StrMap = Field(default_factory=dict)
    annotations: StrMap = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)
    """The ``_source`` document as received, minus any ``payload``."""

    @property
    def is_active(self) -> bool:
        """Pending or Running: submitting the template again would start a duplicate."""
        return self.phase in ACTIVE_PHASES

    @property
    def message(self) -> str | None:
        """What the run said about how it ended (``status.message``), if anything."""
        message = _mapping(self.raw.get("status")).get("message")
        return message if isinstance(message, str) and message.strip() else None

    @property
    def results(self) -> RunResults | None:
        """The import's counts and first errors, once the run has finished and reported them."""
        return RunResults.from_status(_mapping(self.raw.get("status")))

    @property
    def first_error(self) -> str | None:
        """One line saying why a failed run failed: its first reported error, or its message."""
        results = self.results
        if results is not None and results.errors:
            return describe_error(results.errors[0])
        return self.message

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> LiveRun:
        """Parse a run ``_source`` (or a submit answer); raises pydantic's ValidationError."""
        metadata = _mapping(source.get("metadata"))
        spec = _mapping(source.get("spec"))
        status = _mapping(source.get("status"))
        labels = _mapping(metadata.get("labels"))
        stored = _mapping(_mapping(status.get("storedWorkflowTemplateSpec")).get("workflowTemplateRef"))
        template = (
            _mapping(spec.get("workflowTemplateRef")).get("name")
            or labels.get(TEMPLATE_LABEL)
            or stored.get("name")
        )
        return cls.model_validate(
            {
                "name": metadata.get("name"),
                "namespace": metadata.get("namespace") or "default",
                "template_name": template,
                "phase": status.get("phase") or None,
                "started_at": status.get("startedAt"),
                "finished_at": status.get("finishedAt"),
                "creation_timestamp": metadata.get("creationTimestamp"),
                "labels": labels,
                "annotations": metadata.get("annotations"),
                "raw": {key: value for key, value in source.items() if key != "payload"},
            }
        )


def describe_error(error: RunError) -> str:
    """``glossaries line 4, column certificateStatus: <message>``."""
    where = " ".join(part for part in (error.section, f"line {error.line}" if error.line else "") if part)
    if error.field:
        where = f"{where}, column {error.field}" if where else f"column {error.field}"
    return f"{where}: {error.message}" if where else error.message

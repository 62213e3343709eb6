"""Saved plans: ``plan --out FILE`` writes one, ``apply FILE`` carries out exactly what it recorded.

A plan file records fingerprints of what the plan was made from: each manifest file's bytes, the
compiled requests with secrets masked, and each live workflow's resourceVersion. ``apply FILE``
recomputes them and refuses when any differ, so what is applied is what was reviewed. A changed
secret is caught by the credential digests the plan recorded. The file holds no secret value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reconciler.desired import DesiredWorkflow
from reconciler.errors import PlanFileError
from reconciler.live import LiveWorkflow
from reconciler.plan.content import content_as_dict, content_from_dict
from reconciler.plan.digests import canonical_json, credential_matches, env_digest_matches
from reconciler.plan.model import (
    STEP_KINDS,
    Action,
    FieldChange,
    Plan,
    PlannedWorkflow,
    PruneLimit,
    PruneOptions,
    Reason,
    ReasonCode,
    Step,
)
from reconciler.plan.normalise import CREDENTIAL_DIGEST_ANNOTATION, ENV_DIGEST_ANNOTATION
from reconciler.plan.planner import values_from_environment

KIND = "reconciler-plan"
# 2: one action with flags, its typed steps, reasons as codes with data.
PLAN_FILE_VERSION = "2"


@dataclass(frozen=True)
class Fingerprints:
    manifests: dict[str, str]  # file -> sha256 of its bytes
    desired: dict[str, str]  # manifest name -> sha256 of its compiled request, secrets masked
    live: dict[str, str | None]  # workflow name -> resourceVersion, for every live workflow read

    def differences(self, other: Fingerprints) -> list[str]:
        """Human sentences for what changed from ``self`` (recorded) to ``other`` (now)."""
        found = []
        for label, old, new in (
            ("manifest file", self.manifests, other.manifests),
            ("manifest", self.desired, other.desired),
            ("live workflow", self.live, other.live),
        ):
            for key in sorted(set(old) | set(new)):
                if key not in new:
                    found.append(f"{label} {key} is gone")
                elif key not in old:
                    found.append(f"{label} {key} is new")
                elif old[key] != new[key]:
                    found.append(f"{label} {key} changed")
        return found


def resource_versions(live: Iterable[LiveWorkflow]) -> dict[str, str | None]:
    """Name -> resourceVersion of each live workflow: a plan's view of the tenant."""
    return {w.name: w.resource_version for w in live}


def fingerprints(
    files: Iterable[Path], desired: Sequence[DesiredWorkflow], versions: Mapping[str, str | None]
) -> Fingerprints:
    return Fingerprints(
        manifests={str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(files)},
        desired={d.name: hashlib.sha256(canonical_json(d.compiled.redacted())).hexdigest() for d in desired},
        live=dict(sorted(versions.items())),
    )


def dump_plan_file(
    plan: Plan, prints: Fingerprints, *, paths: Sequence[str], options: Mapping[str, Any]
) -> str:
    recorded = asdict(plan)
    for item, planned in zip(recorded["items"], plan.items, strict=True):
        item["steps"] = [step_record(step) for step in planned.steps]
        item["content"] = [content_as_dict(change) for change in planned.content]
        # The applier's live values of ignored fields are not part of the request: paths only.
        item["keep_live"] = [[list(path), None] for path, _ in item["keep_live"]]
    return (
        json.dumps(
            {
                "format_version": PLAN_FILE_VERSION,
                "kind": KIND,
                "instance": plan.instance,
                "paths": list(paths),
                "options": dict(options),
                "fingerprints": asdict(prints),
                "plan": recorded,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


@dataclass(frozen=True)
class PlanFile:
    plan: Plan
    fingerprints: Fingerprints
    paths: tuple[str, ...]
    options: dict[str, Any]


def is_plan_file(path: Path) -> bool:
    """True for a file that starts like a saved plan (JSON object), as opposed to a manifest."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(1) == b"{"


def load_plan_file(path: Path) -> PlanFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("kind") != KIND:
            raise PlanFileError(f"{path} is not a reconciler plan file")
        if data.get("format_version") != PLAN_FILE_VERSION:
            raise PlanFileError(
                f"{path} has plan format {data.get('format_version')!r}; "
                f"this reconciler reads {PLAN_FILE_VERSION!r}"
            )
        plan = data["plan"]
        return PlanFile(
            plan=Plan(
                instance=plan["instance"],
                items=tuple(_item(item) for item in plan["items"]),
                notes=tuple(plan["notes"]),
                orphans=tuple(plan["orphans"]),
            ),
            fingerprints=Fingerprints(**data["fingerprints"]),
            paths=tuple(data["paths"]),
            options=dict(data.get("options") or {}),
        )
    except PlanFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanFileError(f"{path} is not a readable plan file: {exc}") from exc


def step_record(step: Step) -> dict[str, Any]:
    """A step as JSON: its kind and its fields."""
    kind = next(name for name, cls in STEP_KINDS.items() if isinstance(step, cls))
    return {"kind": kind, **asdict(step)}


def _step(data: dict[str, Any]) -> Step:
    fields = dict(data)
    return STEP_KINDS[fields.pop("kind")](**fields)


def _item(data: dict[str, Any]) -> PlannedWorkflow:
    fields = dict(data)
    fields["action"] = Action(data["action"])
    fields["steps"] = tuple(_step(step) for step in data["steps"])
    fields["reasons"] = tuple(Reason(ReasonCode(r["code"]), tuple(r["data"])) for r in data["reasons"])
    fields["changes"] = tuple(
        FieldChange(c["op"], tuple(c["path"]), c.get("old"), c.get("new")) for c in data["changes"]
    )
    fields["depends_on"] = tuple(data["depends_on"])
    fields["keep_live"] = tuple((tuple(path), value) for path, value in data["keep_live"])
    fields["masked"] = tuple(tuple(path) for path in data.get("masked", ()))
    fields["content"] = tuple(content_from_dict(change) for change in data.get("content", ()))
    return PlannedWorkflow(**fields)


def saved_prune_options(saved: PlanFile) -> PruneOptions:
    """The --prune and --max-prune the saved plan was made with."""
    prune = saved.options.get("prune", False)
    limit = saved.options.get("max_prune", "20%")
    if "max_prune_percent" in saved.options:  # written before --max-prune took a count
        share = saved.options["max_prune_percent"]
        limit = f"{share}%" if isinstance(share, int | float) and not isinstance(share, bool) else None
    try:
        if not isinstance(prune, bool) or not isinstance(limit, str):
            raise ValueError(limit)
        return PruneOptions(prune=prune, limit=PruneLimit.parse(limit))
    except ValueError:
        raise PlanFileError("the saved plan's options are not readable; run plan again") from None


# Digests salted afresh by every plan: equal decisions, different text.
_SALTED = frozenset({CREDENTIAL_DIGEST_ANNOTATION, ENV_DIGEST_ANNOTATION})


def decision(item: PlannedWorkflow) -> dict[str, Any]:
    """What an item asks the applier to do, without what differs between two equal plans (the
    salts of digests, the wording of reasons): two plans with equal decisions do the same."""
    return {
        "workflow": item.workflow,
        "manifest": item.manifest,
        "actions": [a.value for a in item.actions],
        "steps": [step_record(step) for step in item.steps],
        "changes": [[c.op, list(c.path), c.old, c.new] for c in item.changes],
        "resource_version": item.resource_version,
        "annotations": {k: (k if k in _SALTED else v) for k, v in sorted(item.annotations.items())},
        "credentials_changed": item.credentials_changed,
        "run_record": item.run_record,
        # The uploads are steps (section, key, the version read, the digest); these are the rows.
        "content": [[c.section, c.object, c.before_digest, c.after_digest] for c in item.content],
        "claim_annotations": dict(sorted(item.claim_annotations.items())),
        "keep_live": sorted(list(path) for path, _ in item.keep_live),
        "depends_on": list(item.depends_on),
    }


def plan_differences(saved: Plan, now: Plan) -> list[str]:
    """How the decisions of ``saved`` differ from those of ``now``, one sentence each."""
    found = []
    if saved.instance != now.instance:
        found.append(f"it is for instance {saved.instance!r}, not {now.instance!r}")
    before = {item.address: decision(item) for item in saved.items}
    after = {item.address: decision(item) for item in now.items}
    for address in sorted(before.keys() | after.keys()):
        if address not in after:
            found.append(f"{address} ({', '.join(before[address]['actions'])}) is not in the plan made now")
        elif address not in before:
            found.append(f"{address} ({', '.join(after[address]['actions'])}) is missing from the saved plan")
        elif before[address] != after[address]:
            fields = [key for key in after[address] if before[address].get(key) != after[address][key]]
            found.append(f"{address}: {', '.join(fields)} differ")
    if [i.address for i in saved.items] != [i.address for i in now.items] and not found:
        found.append("the order of the items differs")
    if tuple(saved.orphans) != tuple(now.orphans):
        found.append("the workflows without a manifest differ")
    return found


def stale_reasons(recorded: PlanFile, now: Fingerprints, desired: Sequence[DesiredWorkflow]) -> list[str]:
    """Why the saved plan no longer describes what apply would find; empty when it still does."""
    reasons = recorded.fingerprints.differences(now)
    by_name = {d.name: d for d in desired}
    for item in recorded.plan.items:
        current = by_name.get(item.manifest or "")
        env_digest = item.annotations.get(ENV_DIGEST_ANNOTATION)
        if (
            current is not None
            and env_digest is not None
            and not env_digest_matches(env_digest, values_from_environment(current.compiled))
        ):
            reasons.append(f"a value {item.address} takes from the environment changed")
        digest = item.annotations.get(CREDENTIAL_DIGEST_ANNOTATION)
        if digest is None or current is None or not current.compiled.body["payload"]:
            continue
        if not credential_matches(digest, current.compiled.body["payload"][0]["body"]):
            reasons.append(f"the credentials of {item.address} changed")
    return reasons

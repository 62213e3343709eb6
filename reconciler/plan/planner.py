"""``plan(desired, live) -> Plan``: decide, without any I/O, what apply must do.

For each manifest the planner finds its live workflow (by the manifest label within this
instance, or by name for an adoption), compares the normalised views with deepdiff, checks the
credential digest, and applies the run policy. A live workflow that another instance manages, or
that exists unmanaged under the name a manifest needs, is an error, never a silent takeover.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from deepdiff import DeepDiff

from reconciler.desired import DesiredWorkflow
from reconciler.errors import PlanningError
from reconciler.live import LiveWorkflow
from reconciler.manifest.models import parse_pointer
from reconciler.packages.compiler import CompiledWorkflow, env_pointer, recorded_env_fields
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, PROTECT_ANNOTATION
from reconciler.packages.spec import JSON_SCALARS, cloud_source
from reconciler.plan.content import ContentPlan, Reads, plan_content
from reconciler.plan.digests import (
    applied_record,
    credential_digest,
    credential_matches,
    env_digest,
    env_digest_matches,
    new_salt,
    spec_digest,
)
from reconciler.plan.model import (
    DEFAULT_PRUNE_LIMIT,
    Action,
    Archive,
    Create,
    FieldChange,
    Plan,
    PlannedWorkflow,
    PruneLimit,
    Reason,
    ReasonCode,
    Step,
    Submit,
    Update,
)
from reconciler.plan.normalise import (
    APPLIED_ANNOTATION,
    CONTENT_ANNOTATION,
    CONTENT_VERSION_ANNOTATION,
    CREDENTIAL_DIGEST_ANNOTATION,
    ENV_DIGEST_ANNOTATION,
    LAST_RUN_ANNOTATION,
    KeptLive,
    lookup,
    view_fields,
    workflow_view,
)
from reconciler.plan.replacement import full_replacement, limit_words, replacement_refusal, replacements

_MISSING = object()
_NOTHING_KEPT = KeptLive()
_RECORD = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # one encoder, not one per record


def run_record(spec: Mapping[str, Any], token: str | None, *, claim: str | None = None) -> str:
    """What ``reconciler.dev/last-run`` holds after a run of this spec with this token.

    ``claim`` (an apply's own random id) tells two applies' otherwise equal records apart, so an
    apply re-reading after a lost answer knows whether the record it sees is its own.
    """
    record: dict[str, Any] = {"spec": spec_digest(spec), "token": token}
    if claim is not None:
        record["claim"] = claim
    return _RECORD.encode(record)


def with_claim(record: str, claim: str, *, after: str | None) -> str:
    """``record`` (from run_record) claimed by the apply ``claim``, before it submits the run.

    ``after`` is the newest run of the template when the claim is written (None: it had none).
    Until the apply confirms the submit (``confirmed``) the claim is pending: a run newer than
    ``after`` shows that the submit happened; none, that the apply stopped before it
    (reconciler/engine.py checks, and the planner asks for the run again).
    """
    return _RECORD.encode({**json.loads(record), "claim": claim, "after": after or ""})


def confirmed(record: str, run: str) -> str:
    """A claimed ``record`` once its run ``run`` is known to have started."""
    fields = {key: value for key, value in json.loads(record).items() if key != "after"}
    return _RECORD.encode({**fields, "run": run})


def claimed_after(recorded: str | None) -> str | None:
    """For a pending claim (written, its submit not confirmed): the newest run the claim saw
    ("" when there was none). None when ``recorded`` is no pending claim."""
    parsed = _parse_record(recorded)
    after = None if parsed is None else parsed.get("after")
    return after if isinstance(after, str) else None


def same_run(recorded: str | None, record: str) -> bool:
    """True when ``recorded`` is a run of the same spec and token as ``record``, whoever claimed it."""
    previous, current = _parse_record(recorded), _parse_record(record)
    return (
        previous is not None
        and current is not None
        and all(previous.get(key) == current.get(key) for key in ("spec", "token"))
    )


def handed_over(workflows: list[LiveWorkflow]) -> Iterator[LiveWorkflow]:
    """The workflows, emptying the list as they are read: the caller keeps none of them alive."""
    workflows.reverse()
    while workflows:
        yield workflows.pop()


def _parse_record(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def plan(
    desired: Sequence[DesiredWorkflow],
    live: Iterable[LiveWorkflow],
    *,
    instance: str,
    prune: bool = False,
    max_prune: PruneLimit = DEFAULT_PRUNE_LIMIT,
    salt: Callable[[], str] = new_salt,
    content: Reads | None = None,
) -> Plan:
    """The plan that makes ``live`` match ``desired``; ``live`` is the managed set plus adoptees
    (read once; pass ``handed_over(workflows)`` to let each go as soon as it is planned).

    With ``prune``, managed workflows whose manifest is gone are archived, unless protected;
    pruning that would archive every managed workflow, or more than ``max_prune`` allows, is
    refused with a PlanningError.

    ``content``: what the engine read for each file whose digest differs from the one recorded
    (reconciler/plan/content.py); those files are uploaded and their workflows rerun. None leaves
    the files out of the plan (drift judges them by itself).
    """
    return _plan(desired, live, instance, prune, max_prune, salt, content)


def _plan(
    desired: Sequence[DesiredWorkflow],
    live: Iterable[LiveWorkflow],
    instance: str,
    prune: bool,
    max_prune: PruneLimit,
    salt: Callable[[], str],
    content: Reads | None,
) -> Plan:
    by_name = {workflow.name: workflow for workflow in live}
    managed, clashes = managed_by_manifest(by_name.values(), instance)
    notes = [
        f"workflows {kept.name} and {other.name} both claim manifest {manifest!r}; "
        f"planning against {kept.name}"
        for manifest, kept, other in clashes
    ]

    wanted = {item.name for item in desired}
    orphans = [w for name, w in sorted(managed.items()) if name not in wanted]
    managed_count = len(managed)
    # Each live workflow is let go once no manifest left can look it up: at 10,000 workflows,
    # the listing (tens of megabytes) shrinks as the plan grows, when the caller hands it over.
    lookups = Counter(item.compiled.name for item in desired)
    items = []
    for item in desired:
        current = managed.pop(item.name, None) or by_name.get(item.compiled.name)
        items.append(_plan_one(item, current, instance=instance, salt=salt, reads=content))
        lookups[item.compiled.name] -= 1
        if current is not None and not lookups[current.name]:
            by_name.pop(current.name, None)

    _check_replacements(items, max_prune, notes)
    protected = [w for w in orphans if w.annotations.get(PROTECT_ANNOTATION) == "true"]
    doomed = [w for w in orphans if w not in protected]
    if prune:
        _check_prune(len(doomed), managed_count, max_prune)
        items += [_archive(workflow) for workflow in doomed]
        if doomed:
            notes.append(f"--max-prune {max_prune} is read as at most {max_prune.describe()}")
        if protected:
            names = ", ".join(w.name for w in protected)
            notes.append(f"{len(protected)} workflow(s) without a manifest are protected and kept: {names}")
    elif orphans:
        notes.append(
            f"{len(orphans)} managed workflow(s) have no manifest and are left alone "
            f"(plan --prune archives them): {', '.join(w.name for w in orphans)}"
        )
    return Plan(
        instance=instance,
        items=tuple(_in_apply_order(items)),
        notes=tuple(notes),
        orphans=tuple(w.name for w in orphans),
    )


def managed_by_manifest(
    live: Iterable[LiveWorkflow], instance: str
) -> tuple[dict[str, LiveWorkflow], list[tuple[str, LiveWorkflow, LiveWorkflow]]]:
    """Manifest name -> the live workflow labelled with ``instance`` and that manifest: the first
    by name when several claim one; and each such clash as (manifest, the one kept, another)."""
    managed: dict[str, LiveWorkflow] = {}
    clashes: list[tuple[str, LiveWorkflow, LiveWorkflow]] = []
    for workflow in sorted(live, key=lambda w: w.name):
        if workflow.labels.get(INSTANCE_LABEL) != instance:
            continue
        manifest = workflow.labels.get(MANIFEST_LABEL, "")
        if manifest in managed:
            clashes.append((manifest, managed[manifest], workflow))
        else:
            managed[manifest] = workflow
    return managed, clashes


def _check_replacements(items: Sequence[PlannedWorkflow], limit: PruneLimit, notes: list[str]) -> None:
    """Full replacement removes assets as prune removes workflows: under the same limit."""
    counted = [(item, reason) for item, reason in replacements(items) if reason.data[2] not in ("", "0")]
    for item, reason in counted:
        refusal = replacement_refusal(item, reason, limit)
        if refusal:
            raise PlanningError(refusal)
    if counted:
        notes.append(f"--max-prune {limit} is read as at most {limit_words(limit)} per full replacement")


def _check_prune(archiving: int, managed: int, limit: PruneLimit) -> None:
    refusal = prune_refusal(archiving, managed, limit)
    if refusal:
        raise PlanningError(refusal)


def prune_refusal(archiving: int, managed: int, limit: PruneLimit) -> str | None:
    """Why archiving ``archiving`` of ``managed`` workflows is refused, or None when it is not.
    The planner checks it when planning and the applier again before it archives anything."""
    if archiving == 0:
        return None
    if archiving >= managed:
        return (
            f"refusing to prune: it would archive every managed workflow ({managed}); "
            "check the manifest path, or archive them another way"
        )
    if not limit.allows(archiving, managed):
        share = 100.0 * archiving / managed
        return (
            f"refusing to prune {archiving} of {managed} managed workflows ({share:.0f}%): more than "
            f"--max-prune {limit}, read as {limit.describe()}; raise --max-prune if this is intended"
        )
    return None


def _archive(workflow: LiveWorkflow) -> PlannedWorkflow:
    kind = {"asset-import": "AssetImport", "lineage-builder": "LineageBuilder"}.get(
        workflow.labels.get("orchestration.atlan.com/source", ""), "Workflow"
    )
    return PlannedWorkflow(
        address=f"{kind}.{workflow.labels.get(MANIFEST_LABEL) or workflow.name}",
        kind=kind,
        workflow=workflow.name,
        manifest=None,
        action=Action.ARCHIVE,
        steps=(Archive(),),
        reasons=(Reason(ReasonCode.MANIFEST_GONE),),
        before=workflow_view(workflow.raw.get("metadata") or {}, workflow.spec),
        resource_version=workflow.resource_version,
    )


def _plan_one(
    item: DesiredWorkflow,
    live: LiveWorkflow | None,
    *,
    instance: str,
    salt: Callable[[], str],
    reads: Reads | None,
) -> PlannedWorkflow:
    body = item.compiled.body
    after = written = workflow_view(body["metadata"], body["spec"])
    credential = body["payload"][0]["body"] if body["payload"] else None
    record = run_record(body["spec"], item.run_token)
    policy = item.run_policy
    planned = partial(
        PlannedWorkflow,
        address=f"{item.kind}.{item.name}",
        kind=item.kind,
        manifest=item.name,
        depends_on=item.depends_on,
        run_record=record,
    )

    annotations: dict[str, str] = {}
    env_fields = item.compiled.env_fields
    env_values = env_values_in(after, env_fields)  # the desired view, before masking and `ignore`
    if live is None:
        content = _content(item, {}, reads)
        if content is not None:
            annotations.update(content.record)  # the run starts with the create: recorded at once
        if credential is not None:
            annotations[CREDENTIAL_DIGEST_ANNOTATION] = credential_digest(credential, salt())
        if env_fields:
            annotations[ENV_DIGEST_ANNOTATION] = env_digest(env_values, salt())
        if policy != "never":
            annotations[LAST_RUN_ANNOTATION] = record
        annotations[APPLIED_ANNOTATION] = _applied(written, env_fields, _NOTHING_KEPT)
        missing = (Reason(ReasonCode.ADOPT_TARGET_MISSING, (item.adopt,)),) if item.adopt else ()
        first_run = ("first-run",) if policy != "never" else ()
        replacing = full_replacement(written["parameters"], None, content.changes if content else ())
        return planned(
            workflow=item.compiled.name,
            after=masked_view(after, env_fields),
            masked=tuple(sorted(env_fields)),
            action=Action.CREATE,
            steps=(*(content.uploads if content else ()), Create(submit=policy != "never")),
            reasons=(
                *missing,
                Reason(ReasonCode.NOT_ON_TENANT, first_run),
                *_content_reasons(content),
                *((replacing,) if replacing else ()),
            ),
            annotations=annotations,
            credentials_changed=credential is not None,
            content=content.changes if content else (),
        )

    owner = live.labels.get(INSTANCE_LABEL)
    adopting = owner is None
    if owner is not None and owner != instance:
        raise PlanningError(
            f"workflow {live.name} is managed by instance {owner!r}, not {instance!r}; "
            "it cannot be adopted or changed from here"
        )
    if adopting and item.adopt != live.name:
        raise PlanningError(
            f"workflow {live.name} already exists and is not managed by reconciler; "
            f"add `adopt: {live.name}` to manifest {item.name!r} to take it over"
        )

    before = workflow_view(live.raw.get("metadata") or {}, live.spec)
    if "credential" not in before:
        # Not recorded (adopted, or made before it was): it cannot be compared, only written.
        after = {key: value for key, value in after.items() if key != "credential"}
    kept = (
        KeptLive.of(before, [parse_pointer(pointer) for pointer in item.ignore])
        if item.ignore
        else _NOTHING_KEPT
    )
    after = kept.view(after)
    if after == before:
        after = before  # one object for both: a no-op plan of 10,000 workflows holds half the views
    changes = [c for c in diff_views(before, after) if not kept.covers(c.path)]
    if adopting:
        # The tracking labels are what adoption adds; they are not a change of the workflow.
        changes = [
            c for c in changes if c.path[:2] not in {("labels", INSTANCE_LABEL), ("labels", MANIFEST_LABEL)}
        ]

    reasons: list[Reason] = [Reason(ReasonCode.TAKE_OVER, (live.name,))] if adopting else []
    if changes:
        reasons.append(Reason(ReasonCode.FIELDS_CHANGED, _changed_fields(changes)))

    recorded_digest = live.annotations.get(CREDENTIAL_DIGEST_ANNOTATION)
    credentials_changed = False
    if credential is None:
        credentials_changed = recorded_digest is not None
        if credentials_changed:
            reasons.append(Reason(ReasonCode.CREDENTIALS_REMOVED))
    elif recorded_digest is not None and credential_matches(recorded_digest, credential):
        annotations[CREDENTIAL_DIGEST_ANNOTATION] = recorded_digest
    elif adopting:
        # Nothing recorded to compare with: trust the live credential on adoption, record ours.
        annotations[CREDENTIAL_DIGEST_ANNOTATION] = credential_digest(credential, salt())
    else:
        credentials_changed = True
        annotations[CREDENTIAL_DIGEST_ANNOTATION] = credential_digest(credential, salt())
        code = ReasonCode.CREDENTIALS_CHANGED if recorded_digest else ReasonCode.CREDENTIALS_NOT_RECORDED
        reasons.append(Reason(code))
    updates = bool(changes) or credentials_changed

    if env_fields:
        recorded_env = live.annotations.get(ENV_DIGEST_ANNOTATION)
        if recorded_env is None or not env_digest_matches(recorded_env, env_values):
            recorded_env = env_digest(env_values, salt())
        annotations[ENV_DIGEST_ANNOTATION] = recorded_env

    last_run = live.annotations.get(LAST_RUN_ANNOTATION)
    if adopting and last_run is None and not changes:
        last_run = record  # adopting an unchanged workflow does not call for a run
    if last_run is not None:
        annotations[LAST_RUN_ANNOTATION] = last_run
    # The content records are carried over like the run record: an update rewrites every annotation.
    annotations.update({k: live.annotations[k] for k in _CONTENT_RECORDS if k in live.annotations})
    content = _content(item, live.annotations, reads)
    reasons += _content_reasons(content)
    replacing = full_replacement(
        written["parameters"], before["parameters"], content.changes if content else ()
    )
    if replacing:
        reasons.append(replacing)
    # New content calls for a run, unless an adoption finds it in place already (as an unchanged
    # workflow adopted calls for none).
    content_runs = content is not None and policy != "never" and not (adopting and content.all_in_place)
    rerun_reason = _rerun_reason(policy, last_run, record)
    if rerun_reason is None and policy == "on-change" and claimed_after(last_run) is not None:
        # Still pending after the engine looked for its run: the apply that claimed it stopped
        # before the run started (interrupted), so it is asked for again.
        rerun_reason = Reason(ReasonCode.CLAIMED_RUN_NOT_STARTED)
    if rerun_reason:
        reasons.append(rerun_reason)
    reruns = rerun_reason is not None or content_runs

    # The run record is written before the submit, with the resourceVersion the plan read: of two
    # applies started at once only one can claim a rerun (the other meets a conflict), so only
    # one submits it. Policy "always" reruns without a record.
    claim = reruns and policy == "on-change"
    # New content is recorded with the claim of its run (an apply stopped before the claim leaves
    # the rerun pending); without a claim, by the update itself.
    claim_annotations: dict[str, str] = {}
    if content is not None and claim:
        claim_annotations = content.record
    elif content is not None:
        annotations.update(content.record)
    records = content is not None and not claim
    steps: list[Step] = list(content.uploads) if content is not None else []
    if adopting or updates or claim or records:
        steps.append(
            Update(
                resource_version=live.resource_version,
                send_credentials=credentials_changed,
                claim=claim,
                changes_workflow=adopting or updates or records,
            )
        )
    if reruns:
        steps.append(Submit(claimed=claim))
    if any(isinstance(step, Update) for step in steps):
        # An Update writes the whole compiled request: record it, for drift to compare with.
        annotations[APPLIED_ANNOTATION] = _applied(written, env_fields, kept)
    if adopting:
        action = Action.ADOPT
    elif updates or content is not None:
        action = Action.UPDATE  # new content is an update too: of its record
    else:
        action = Action.RERUN if reruns else Action.NOOP

    # What came from the environment is shown as the manifest's reference, never as the value:
    # the live side by what apply last recorded (ENV_ANNOTATION), the desired side by the manifest.
    applied_env = recorded_env_fields(live.annotations)
    old_texts = {**env_fields, **applied_env}
    new_texts = {**applied_env, **env_fields}
    if old_texts:
        changes = [
            FieldChange(c.op, c.path, _mask(c.old, c.path, old_texts), _mask(c.new, c.path, new_texts))
            for c in changes
        ]
        after_shown = masked_view(after, new_texts)
        before = after_shown if after is before else masked_view(before, old_texts)
        after = after_shown
    return planned(
        workflow=live.name,
        action=action,
        updates=adopting and (updates or content is not None),
        reruns=reruns and action is not Action.RERUN,
        steps=tuple(steps),
        reasons=tuple(reasons),
        changes=tuple(changes),
        masked=tuple(sorted(old_texts)),
        before=before,
        resource_version=live.resource_version,
        credential_ref=cloud_source(live.spec),
        keep_live=kept.fields,
        after=after,
        annotations=annotations,
        credentials_changed=credentials_changed,
        content=content.changes if content else (),
        claim_annotations=claim_annotations,
    )


_CONTENT_RECORDS = (CONTENT_ANNOTATION, CONTENT_VERSION_ANNOTATION)


def _content(item: DesiredWorkflow, recorded: Mapping[str, str], reads: Reads | None) -> ContentPlan | None:
    if reads is None or not item.compiled.files:
        return None
    return plan_content(item.name, item.compiled.files, recorded, reads)


def _content_reasons(content: ContentPlan | None) -> list[Reason]:
    if content is None:
        return []
    return [
        Reason(ReasonCode.CONTENT_CHANGED, (c.section, c.diff.counts, *(("uploaded",) if c.uploaded else ())))
        for c in content.changes
    ]


def _applied(view: dict[str, Any], env_fields: Mapping[tuple[str, ...], str], kept: KeptLive) -> str:
    """APPLIED_ANNOTATION for the compiled ``view``: its fields with the values from the environment
    masked, less those the manifest's ``ignore`` leaves to the tenant (apply does not write them)."""
    fields = view_fields(masked_view(view, env_fields))
    return applied_record(((p, v) for p, v in fields if not kept.covers(p)) if kept.fields else fields)


def _rerun_reason(policy: str, last_run: str | None, record: str) -> Reason | None:
    if policy == "never":
        return None
    if policy == "always":
        return Reason(ReasonCode.RUN_POLICY_ALWAYS)
    if same_run(last_run, record):
        return None
    if last_run is None:
        return Reason(ReasonCode.NO_RUN_RECORDED)
    previous, current = _parse_record(last_run), _parse_record(record)
    if previous is None or current is None:
        return Reason(ReasonCode.RUN_RECORD_UNREADABLE)
    if previous.get("spec") != current["spec"]:
        return Reason(ReasonCode.SPEC_CHANGED_SINCE_RUN)
    old, new = previous.get("token"), current["token"]
    if old is None:
        return Reason(ReasonCode.RUN_TOKEN_SET, (str(new),))
    if new is None:
        return Reason(ReasonCode.RUN_TOKEN_REMOVED, (str(old),))
    return Reason(ReasonCode.RUN_TOKEN_CHANGED, (str(old), str(new)))


def env_values_in(view: Mapping[str, Any], env_fields: Iterable[tuple[str, ...]]) -> dict[str, Any]:
    """JSON pointer -> the value at each ``${env:NAME}`` field of a desired view: what the
    ENV_DIGEST_ANNOTATION is a digest of."""
    return {env_pointer(path): lookup(view, path) for path in env_fields}


def values_from_environment(compiled: CompiledWorkflow) -> dict[str, Any]:
    """``env_values_in`` the view of ``compiled``, for a caller that has no view of it yet."""
    if not compiled.env_fields:
        return {}
    return env_values_in(workflow_view(compiled.body["metadata"], compiled.body["spec"]), compiled.env_fields)


def masked_view(view: dict[str, Any], texts: Mapping[tuple[str, ...], str]) -> dict[str, Any]:
    """``view`` with the value at each path of ``texts`` replaced by its text (copy on write)."""
    masked: dict[str, Any] = _mask(view, (), texts)
    return masked


def _mask(value: Any, at: tuple[str, ...], texts: Mapping[tuple[str, ...], str]) -> Any:
    if not texts or value is None:
        return value
    if at in texts:
        return texts[at]
    if type(value) is not dict or not any(path[: len(at)] == at for path in texts):
        return value
    return {key: _mask(inner, (*at, key), texts) for key, inner in value.items()}


def diff_views(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """Field-level changes from ``before`` to ``after``, sorted by path.

    Equal views (the common case, a no-op) cost one comparison. A top-level part that maps
    names to scalars on both sides (labels, annotations, most parameters) is compared key by key
    here, as deepdiff would (a change of type is a change); deepdiff, at half a millisecond a
    call, looks only at the other parts that differ.
    """
    if before == after:
        return []
    found: list[FieldChange] = []
    changed_before: dict[str, Any] = {}
    changed_after: dict[str, Any] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        if old == new and type(old) is type(new):
            continue
        if _flat(old) and _flat(new):
            found += _flat_changes(key, old, new)
            continue
        if old is not _MISSING:
            changed_before[key] = old
        if new is not _MISSING:
            changed_after[key] = new
    if changed_before or changed_after:
        found += _deep_changes(changed_before, changed_after)
    return sorted(found, key=lambda c: c.path)


_DEEPER = 0.33  # deepdiff's threshold_to_diff_deeper: below this share of common keys, a map is replaced


def _flat(value: Any) -> bool:
    return type(value) is dict and all(type(inner) in JSON_SCALARS for inner in value.values())


def _flat_changes(key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[FieldChange]:
    names = old.keys() | new.keys()
    if len(names) > 1 and len(old.keys() & new.keys()) / len(names) < _DEEPER:
        yield FieldChange("change", (key,), old, new)  # too little in common: the whole part changed
        return
    for name in names:
        if name not in new:
            yield FieldChange("remove", (key, name), old[name], None)
        elif name not in old:
            yield FieldChange("add", (key, name), None, new[name])
        elif type(old[name]) is not type(new[name]) or old[name] != new[name]:
            yield FieldChange("change", (key, name), old[name], new[name])


def _deep_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    found: list[FieldChange] = []
    tree = DeepDiff(before, after, view="tree", verbose_level=2)
    for kind, items in tree.items():
        for change in items:
            path = tuple(str(part) for part in change.path(output_format="list"))
            if kind in {"dictionary_item_added", "iterable_item_added", "attribute_added"}:
                found.append(FieldChange("add", path, None, change.t2))
            elif kind in {"dictionary_item_removed", "iterable_item_removed", "attribute_removed"}:
                found.append(FieldChange("remove", path, change.t1, None))
            else:
                found.append(FieldChange("change", path, change.t1, change.t2))
    return found


def _changed_fields(changes: Sequence[FieldChange]) -> tuple[str, ...]:
    return tuple(sorted({".".join(c.path[:2]) for c in changes}))


def _in_apply_order(items: Sequence[PlannedWorkflow]) -> list[PlannedWorkflow]:
    """Dependencies first (depends_on), otherwise by address; the loader has ruled out cycles."""
    by_manifest = {item.manifest: item for item in items if item.manifest}
    ordered: list[PlannedWorkflow] = []
    seen: set[str] = set()

    def visit(item: PlannedWorkflow) -> None:
        if item.address in seen:
            return
        seen.add(item.address)
        for name in item.depends_on:
            if name in by_manifest:
                visit(by_manifest[name])
        ordered.append(item)

    for item in sorted(items, key=lambda i: i.address):
        visit(item)
    return ordered

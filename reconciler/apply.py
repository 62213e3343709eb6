"""Carry out a Plan: the only place that changes remote state.

Items run concurrently (bounded by ``parallelism``) except where ``depends_on`` orders them; an
item whose dependency failed is skipped, and independent items carry on after a failure. Before
any rerun, one runs search finds the workflows that already have a Pending or Running run: those
are reported as already running and not submitted again (with ``--wait``, submitted once that run
ends). A rerun is claimed in the workflow's run record before it is submitted and confirmed after,
so an interrupted apply leaves a pending claim the next plan settles (``Interruption``). Creates
and submits are never blindly retried (the client re-reads after a lost answer); a create that
meets an existing workflow with our labels counts as done, so two applies at once cannot make a
duplicate. A file a source generates is uploaded first (``Upload``, through ``ContentUploads``),
conditional on the object the plan read; its record goes with the rerun claim, so an apply
stopped between the upload and the submit leaves the rerun pending.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, TypeVar

from reconciler.desired import DesiredWorkflow
from reconciler.errors import ApiError, ConflictError, OutcomeUnknownError, ReconcilerError
from reconciler.live import ACTIVE_PHASES, FINISHED_PHASES, SUCCEEDED, LiveRun, LiveWorkflow, RunResults
from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, PROTECT_ANNOTATION
from reconciler.packages.spec import cloud_source, parameters, tasks
from reconciler.plan.content import with_uploaded
from reconciler.plan.model import (
    DEFAULT_PRUNE_LIMIT,
    Action,
    Archive,
    Create,
    Plan,
    PlannedWorkflow,
    PruneLimit,
    Submit,
    Update,
    Upload,
)
from reconciler.plan.normalise import LAST_RUN_ANNOTATION, KeptLive
from reconciler.plan.planner import confirmed, prune_refusal, same_run, with_claim

logger = logging.getLogger(__name__)
T = TypeVar("T")

Outcome = Literal["done", "failed", "already running", "skipped", "unchanged", "interrupted", "not started"]


class WorkflowApi(Protocol):
    """The client calls the applier needs (``AtlanWorkflowClient`` provides them)."""

    async def get_workflow(self, name: str) -> LiveWorkflow | None: ...
    async def create_workflow(self, body: Mapping[str, Any], *, submit: bool) -> LiveWorkflow: ...
    async def update_workflow(self, name: str, body: Mapping[str, Any]) -> LiveWorkflow: ...
    async def submit(self, name: str) -> LiveRun: ...
    async def newest_run(self, template: str) -> LiveRun | None: ...
    async def archive(self, name: str) -> None: ...
    async def runs_for(
        self, template_names: Iterable[str], *, phases: Iterable[str] | None = None
    ) -> dict[str, list[LiveRun]]: ...


class ContentUploads(Protocol):
    """Writes the files sources generate (the engine's, over reconciler.stores)."""

    async def upload(self, desired: DesiredWorkflow, step: Upload) -> str:
        """Render the file ``step`` names again and write it, conditional on ``step.expected``;
        the version token written. Raises a ReconcilerError when the bytes are not the ones
        planned or the object was replaced since it was read (nothing is written then)."""
        ...


@dataclass(frozen=True)
class ItemResult:
    address: str
    workflow: str
    actions: tuple[Action, ...]
    outcome: Outcome
    detail: str = ""
    run: str | None = None
    run_phase: str | None = None
    run_results: RunResults | None = None
    """With ``--wait``, what the finished run imported (counts per file, first errors)."""


@dataclass(frozen=True)
class ApplyResult:
    items: tuple[ItemResult, ...]

    @property
    def failed(self) -> bool:
        return any(item.outcome in ("failed", "skipped") for item in self.items)

    @property
    def interrupted(self) -> bool:
        return any(item.outcome in ("interrupted", "not started") for item in self.items)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.items if item.outcome == outcome)


class ApplyProgress(Protocol):
    """What an apply reports as it goes, for a progress display (reconciler/commands/_progress.py).

    Called from the event loop: an implementation must return quickly and never raise.
    """

    def begin(self, total: int) -> None:
        """The apply starts ``total`` items (no-ops included)."""

    def started(self, address: str) -> None:
        """An item's first write is about to be sent."""

    def finished(self, result: ItemResult) -> None:
        """An item has its result (done, failed, skipped, unchanged, already running, ...)."""

    def end(self) -> None:
        """Every item has its result, or the apply was interrupted; clear any live display."""


@dataclass(frozen=True)
class WaitPolicy:
    """How ``--wait`` follows runs: one runs search per poll for all of them, backing off."""

    timeout: float = 1800.0
    first_poll: float = 1.0
    max_poll: float = 15.0


class _ItemFailedError(ReconcilerError):
    pass


@dataclass(frozen=True)
class ApplyGuard:
    """What the applier checks by itself before each write, whatever plan it was handed.

    Built from the live workflows this apply read, not from the plan: a plan (a saved file above
    all) is a request. No write to, or archive of, a workflow without this instance's label,
    except the adoption of the name a manifest's ``adopt:`` gives; no archive of a protected
    workflow; and the prune guards (reconciler.plan.planner.prune_refusal) hold again here.
    """

    instance: str
    owners: Mapping[str, str | None]  # live workflow -> its instance label (None: unmanaged)
    protected: frozenset[str]
    adoptions: Mapping[str, str]  # manifest name -> the workflow its `adopt:` names
    prune: bool = False
    max_prune: PruneLimit = DEFAULT_PRUNE_LIMIT

    @classmethod
    def of(
        cls,
        live: Iterable[LiveWorkflow],
        desired: Iterable[DesiredWorkflow],
        *,
        instance: str,
        prune: bool = False,
        max_prune: PruneLimit = DEFAULT_PRUNE_LIMIT,
    ) -> ApplyGuard:
        owners: dict[str, str | None] = {}
        protected = set()
        for workflow in live:
            owners[workflow.name] = workflow.labels.get(INSTANCE_LABEL)
            if workflow.annotations.get(PROTECT_ANNOTATION) == "true":
                protected.add(workflow.name)
        adoptions = {d.name: d.adopt for d in desired if d.adopt}
        return cls(instance, owners, frozenset(protected), adoptions, prune, max_prune)

    def prune_refusal(self, plan: Plan) -> str | None:
        archiving = plan.count(Action.ARCHIVE)
        if archiving and not self.prune:
            return "refusing to archive: this apply was not asked to prune (--prune)"
        managed = sum(1 for owner in self.owners.values() if owner == self.instance)
        return prune_refusal(archiving, managed, self.max_prune)

    def refusal(self, item: PlannedWorkflow) -> str | None:
        """Why ``item`` must not be carried out, or None."""
        if item.has(Action.CREATE):
            if item.workflow in self.owners and self.owners[item.workflow] != self.instance:
                return f"refusing to create {item.workflow}: a workflow of that name exists and is not ours"
            return None
        if item.workflow not in self.owners:
            return f"refusing to change {item.workflow}: this apply did not read it from the tenant"
        owner = self.owners[item.workflow]
        adopting = (
            owner is None
            and item.has(Action.ADOPT)
            and item.manifest is not None
            and self.adoptions.get(item.manifest) == item.workflow
        )
        if owner != self.instance and not adopting:
            whose = "unmanaged" if owner is None else f"managed by instance {owner!r}"
            return f"refusing to change {item.workflow}: it is {whose}, not by {self.instance!r}"
        if item.has(Action.ARCHIVE) and item.workflow in self.protected:
            return f"refusing to archive {item.workflow}: it is protected (protect: true)"
        return None


class Interruption:
    """SIGINT or SIGTERM during an apply (the CLI's signal handlers call ``signal``).

    The first: no new item starts, waiting for runs stops, and the items in flight get ``grace``
    seconds to finish; the second (or the end of the grace period): they are interrupted at once.
    A rerun claim whose submit was cut off stays pending, and the next plan asks for the run
    again (reconciler/engine.py), so no interruption loses a requested run.
    """

    def __init__(self, grace: float = 10.0) -> None:
        self.grace = grace
        self.count = 0
        self._changed = asyncio.Event()

    def signal(self) -> None:
        self.count += 1
        self._changed.set()

    async def first(self, work: asyncio.Future[Any], count: int, within: float | None = None) -> bool:
        """Wait for ``work``, for the ``count``-th signal, or for ``within`` seconds, whichever
        comes first; True when ``work`` is done."""
        signalled = asyncio.ensure_future(self.reached(count))
        await asyncio.wait({work, signalled}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        signalled.cancel()
        return work.done()

    async def reached(self, count: int) -> None:
        """Return once ``signal`` was called ``count`` times."""
        while self.count < count:
            self._changed.clear()
            await self._changed.wait()


@dataclass
class _Runner:
    plan: Plan
    desired: Mapping[str, DesiredWorkflow]
    api: WorkflowApi
    parallelism: int
    wait: WaitPolicy | None
    guard: ApplyGuard
    sleep: Callable[[float], Awaitable[None]]
    clock: Callable[[], float]
    progress: ApplyProgress | None = None
    interruption: Interruption = field(default_factory=Interruption)
    active: dict[str, list[str]] = field(default_factory=dict)  # template -> its Pending/Running runs
    # This apply's own id, written into the rerun claims it makes.
    claim: str = field(default_factory=lambda: secrets.token_hex(8))
    results: dict[str, ItemResult] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)  # manifest name -> plan address
    started: dict[str, str] = field(default_factory=dict)  # address -> the step under way
    prune_refused: str | None = None
    watcher: _RunWatcher | None = None
    uploads: ContentUploads | None = None

    async def run(self) -> ApplyResult:
        self.prune_refused = self.guard.prune_refusal(self.plan)
        reruns = [i.workflow for i in self.plan.items if any(isinstance(s, Submit) for s in i.steps)]
        if reruns:
            runs = await self._unless_interrupted(self.api.runs_for(reruns, phases=ACTIVE_PHASES))
            if runs is None:
                return self._outcomes()
            self.active = {name: [r.name for r in found if r.is_active] for name, found in runs.items()}
        self.done = {item.address: asyncio.Event() for item in self.plan.items}
        self.addresses = {item.manifest: item.address for item in self.plan.items if item.manifest}
        gate = asyncio.Semaphore(self.parallelism)
        if self.wait:
            self.watcher = _RunWatcher(self.api, self.wait, self.sleep, self.clock)
        if self.progress is not None:
            self.progress.begin(len(self.plan.items))
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {item.address: group.create_task(self._one(item, gate)) for item in self.plan.items}
                await self._supervise(tasks)
        finally:
            if self.progress is not None:
                self.progress.end()
        return self._outcomes()

    def _outcomes(self) -> ApplyResult:
        return ApplyResult(
            tuple(
                self.results.get(item.address) or self._result(item, "not started", _NOT_STARTED)
                for item in self.plan.items
            )
        )

    async def _unless_interrupted(self, read: Awaitable[T]) -> T | None:
        """A read made before any item starts, given up (None) when the apply is interrupted."""
        reading = asyncio.ensure_future(read)
        if not await self.interruption.first(reading, 1):
            reading.cancel()
            await asyncio.wait({reading})
            return None
        return reading.result()

    async def _supervise(self, tasks: Mapping[str, asyncio.Task[None]]) -> None:
        """Wait for every item, or for an interruption: then cancel what has not started, give
        what is under way the grace period (cut short by a second signal), and cancel the rest."""
        everything = asyncio.ensure_future(asyncio.wait(tasks.values()))
        if await self.interruption.first(everything, 1):
            return
        if self.watcher is not None:
            self.watcher.stop()
        for address, task in tasks.items():
            if address not in self.started:
                task.cancel()
        await self.interruption.first(everything, 2, within=self.interruption.grace)
        for task in tasks.values():
            task.cancel()
        await everything

    @property
    def stopping(self) -> bool:
        return self.interruption.count > 0

    def _record(self, result: ItemResult) -> None:
        self.results[result.address] = result
        if self.progress is not None:
            self.progress.finished(result)

    async def _one(self, item: PlannedWorkflow, gate: asyncio.Semaphore) -> None:
        try:
            blocked = await self._dependencies_failed(item)
            if blocked:
                self._record(self._result(item, "skipped", f"dependency {blocked} did not succeed"))
                return
            if item.is_noop:
                self._record(self._result(item, "unchanged"))
                return
            async with gate:
                if self.stopping:
                    raise asyncio.CancelledError
                self._step(item, "starting")
                if self.progress is not None:
                    self.progress.started(item.address)
                result = await self._execute(item)
            if self.watcher is not None and result.outcome == "done" and item.starts_run:
                result = await self._follow(item, result, self.watcher)
            self._record(result)
        except asyncio.CancelledError:
            # Interrupted (reconciler/commands/apply.py turns SIGINT/SIGTERM into cancellations).
            step = self.started.get(item.address)
            if step is None:
                self._record(self._result(item, "not started", _NOT_STARTED))
            else:
                self._record(
                    self._result(
                        item, "interrupted", f"interrupted while {step}; plan again to see what is left"
                    )
                )
        except Exception as exc:  # one item's failure must not stop the others
            if not isinstance(exc, ReconcilerError):
                logger.exception("unexpected error applying %s", item.address)
            self._record(self._result(item, "failed", str(exc)))
        finally:
            self.done[item.address].set()

    def _step(self, item: PlannedWorkflow, step: str) -> None:
        self.started[item.address] = step

    async def _follow(self, item: PlannedWorkflow, result: ItemResult, watcher: _RunWatcher) -> ItemResult:
        """``--wait``: the item's result once its run reached a final phase."""
        self._step(item, "waiting for its run")
        final = await watcher.wait_for(item.workflow, result.run)
        if final is None:
            if watcher.stopped:
                return replace(result, detail=f"{result.detail}; not followed to its end (interrupted)")
            detail = f"its run did not finish within {watcher.policy.timeout:g} s"
            return self._result(item, "failed", detail, run=result.run)
        ok = final.phase == SUCCEEDED
        detail = result.detail
        if not ok:
            why = final.first_error
            detail = f"run {final.name} ended {final.phase}" + (f": {why}" if why else "")
        return ItemResult(
            item.address,
            item.workflow,
            item.actions,
            "done" if ok else "failed",
            detail,
            final.name,
            final.phase,
            final.results,
        )

    async def _dependencies_failed(self, item: PlannedWorkflow) -> str | None:
        for name in item.depends_on:
            address = self.addresses.get(name)
            if address is None:
                continue
            await self.done[address].wait()
            if self.results[address].outcome not in ("done", "unchanged", "already running"):
                return address
        return None

    def _result(
        self, item: PlannedWorkflow, outcome: Outcome, detail: str = "", run: str | None = None
    ) -> ItemResult:
        return ItemResult(item.address, item.workflow, item.actions, outcome, detail, run)

    async def _runs_in_progress_ended(self, item: PlannedWorkflow) -> bool:
        """With ``--wait``, wait for the item's Pending or Running runs to end, so that the rerun
        asked for is submitted after them. False without ``--wait``; raises when they did not
        end in time (the rerun is still pending) or the apply was interrupted meanwhile."""
        if self.watcher is None:
            return False
        self._step(item, "waiting for the run in progress")
        for run in self.active.get(item.workflow, []):
            if await self.watcher.wait_for(item.workflow, run) is None:
                if self.stopping:
                    raise asyncio.CancelledError
                raise _ItemFailedError(
                    f"run {run} was still in progress after {self.watcher.policy.timeout:g} s; "
                    "the rerun asked for is still pending"
                )
        return True

    async def _execute(self, item: PlannedWorkflow) -> ItemResult:
        """Run the item's steps in order. What to do was decided by the planner; the only thing
        looked at here is what the apply observed itself: whether a run is already Pending or
        Running (then, without --wait, the Submit reports it, its claim is not written, and an
        Update made only for the claim is skipped), and the guard's refusals."""
        refused = self.guard.refusal(item) or (self.prune_refused if item.has(Action.ARCHIVE) else None)
        if refused:
            raise _ItemFailedError(refused)
        desired = self.desired.get(item.manifest or "")
        if desired is None and not all(isinstance(step, Archive) for step in item.steps):
            raise _ItemFailedError(f"no manifest {item.manifest!r} in this apply")
        running = bool(self.active.get(item.workflow)) and any(isinstance(s, Submit) for s in item.steps)
        if running and await self._runs_in_progress_ended(item):
            running = False
        notes: list[str] = []
        run: str | None = None
        claimed_at: tuple[str | None, str] | None = None  # resourceVersion and record of the claim
        uploaded: dict[str, str] = {}  # section -> the version token this apply wrote
        for step in item.steps:
            if isinstance(step, Upload):
                if running and item.claim_annotations:
                    # Its record goes with the claim, which waits for the run in progress: so
                    # does the upload, left to the apply that submits the run.
                    continue
                assert desired is not None
                uploaded[step.section] = await self._upload(item, desired, step)
                notes.append(f"{step.section} uploaded")
                continue
            if uploaded:
                item = _with_versions(item, uploaded)
                uploaded = {}
            if isinstance(step, Archive):
                self._step(item, "archiving")
                await self.api.archive(item.workflow)
                notes.append("archived")
            elif isinstance(step, Create):
                assert desired is not None
                self._step(item, "creating")
                created = await self._create(item, desired, step)
                return replace(created, detail="; ".join([*notes, created.detail]))
            elif isinstance(step, Update):
                assert desired is not None
                claim = step.claim and not running
                if not claim and not step.changes_workflow:
                    continue
                outcome = await self._update(item, desired, step, claim)
                if isinstance(outcome, ItemResult):
                    return outcome
                item, claimed_at = outcome
                if step.changes_workflow:
                    notes.append("adopted" if item.action is Action.ADOPT else "updated")
            elif isinstance(step, Submit):
                if running:
                    notes.append(_STILL_PENDING)
                    return self._result(item, "already running", "; ".join(notes))
                run = await self._submit(item, desired, step, claimed_at)
                notes.append(f"run {run} submitted")
        return self._result(item, "done", "; ".join(notes) if run else ", ".join(notes), run=run)

    async def _upload(self, item: PlannedWorkflow, desired: DesiredWorkflow, step: Upload) -> str:
        self._step(item, f"uploading {step.section}")
        if self.uploads is None:
            raise _ItemFailedError(f"{step.section}: no object store to upload to in this apply")
        return await self.uploads.upload(desired, step)

    async def _submit(
        self,
        item: PlannedWorkflow,
        desired: DesiredWorkflow | None,
        step: Submit,
        claimed_at: tuple[str | None, str] | None,
    ) -> str:
        """Submit the rerun; then confirm the claim (if one was written), so that the next plan
        need not look for its run."""
        self._step(item, "submitting its run")
        try:
            submitted = await self.api.submit(item.workflow)
        except ApiError as exc:
            if step.claimed and claimed_at is not None and not isinstance(exc, OutcomeUnknownError):
                assert desired is not None
                await self._write_record(item, desired, claimed_at[0], None, "reset")
            raise
        if step.claimed and claimed_at is not None:
            assert desired is not None
            self._step(item, "recording its run")
            await self._write_record(
                item, desired, claimed_at[0], confirmed(claimed_at[1], submitted.name), "confirmed"
            )
        return submitted.name

    async def _update(
        self, item: PlannedWorkflow, desired: DesiredWorkflow, step: Update, claim: bool
    ) -> ItemResult | tuple[PlannedWorkflow, tuple[str | None, str] | None]:
        """The Update step; the item as it goes on (with the credential the tenant now holds) and,
        when it claimed the run, the new resourceVersion with the claim written; or the item's
        result when another apply claimed the run first."""
        claimed = None
        if claim and item.run_record:
            # The newest run now: a pending claim is settled by a run newer than this one.
            self._step(item, "reading its newest run")
            newest = await self.api.newest_run(item.workflow)
            claimed = with_claim(item.run_record, self.claim, after=None if newest is None else newest.name)
        # With the claim go the records of new content: written before the submit, never without it.
        annotations = (
            {**item.annotations, **item.claim_annotations, LAST_RUN_ANNOTATION: claimed} if claimed else None
        )
        body = request_body(
            desired,
            item,
            resource_version=step.resource_version,
            annotations=annotations,
            credentials=step.send_credentials,
        )
        self._step(item, "claiming its run" if claimed and not step.changes_workflow else "updating")
        try:
            updated = await self.api.update_workflow(item.workflow, body)
        except ConflictError as exc:
            if claim and not step.changes_workflow:
                live = await self.api.get_workflow(item.workflow)
                recorded = None if live is None else live.annotations.get(LAST_RUN_ANNOTATION)
                if item.run_record and same_run(recorded, item.run_record):
                    return self._result(item, "already running", "another apply started this run")
            raise _ItemFailedError(
                f"{item.workflow} changed on the tenant since it was planned; plan again ({exc})"
            ) from exc
        # A credential sent with the update is a new one on the tenant: later writes keep it.
        item = replace(item, credential_ref=cloud_source(updated.spec) or item.credential_ref)
        return item, (updated.resource_version, claimed) if claimed else None

    async def _write_record(
        self,
        item: PlannedWorkflow,
        desired: DesiredWorkflow,
        version: str | None,
        record: str | None,
        what: str,
    ) -> None:
        """Write the run record alone: ``record`` confirms a claim whose run started, None resets a
        claim whose submit definitely failed (so the next plan still asks for the run). Failing
        here fails nothing: a pending claim is settled by the next plan."""
        claimed = {**item.annotations, **item.claim_annotations}  # as the claim wrote them
        annotations = None if record is None else {**claimed, LAST_RUN_ANNOTATION: record}
        body = request_body(
            desired, item, resource_version=version, annotations=annotations, credentials=False
        )
        try:
            await self.api.update_workflow(item.workflow, body)
        except ApiError as exc:
            logger.warning(
                "%s: the run record could not be %s (%s); the next plan reads the runs to settle it",
                item.address,
                what,
                exc,
            )

    async def _create(self, item: PlannedWorkflow, desired: DesiredWorkflow, step: Create) -> ItemResult:
        body = request_body(desired, item, resource_version=None, credentials=True)
        try:
            await self.api.create_workflow(body, submit=step.submit)
        except ConflictError:
            # Someone (another apply, or an earlier attempt) created it meanwhile: fine if it is ours.
            live = await self.api.get_workflow(item.workflow)
            ours = body["metadata"]["labels"]
            if live is None or any(live.labels.get(k) != ours[k] for k in (INSTANCE_LABEL, MANIFEST_LABEL)):
                raise
            return self._result(item, "done", "already created by a concurrent apply")
        return self._result(item, "done", "created and its first run started" if step.submit else "created")


def _with_versions(item: PlannedWorkflow, uploaded: Mapping[str, str]) -> PlannedWorkflow:
    """``item`` with the version tokens of the objects just uploaded in the content record it
    writes: with the claim when there is one, else in the update's own annotations."""
    if item.claim_annotations:
        return replace(item, claim_annotations=with_uploaded(item.claim_annotations, uploaded))
    return replace(item, annotations=with_uploaded(item.annotations, uploaded))


_NOT_STARTED = "not started: the apply was interrupted"
_STILL_PENDING = (
    "not submitted: a run is already Pending or Running; the rerun asked for is still pending "
    "(apply again once it ends, or apply --wait)"
)


def request_body(
    desired: DesiredWorkflow,
    item: PlannedWorkflow,
    *,
    resource_version: str | None,
    credentials: bool,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The create/update request: the compiled body, the live values of ignored fields, and the
    planner's bookkeeping annotations.

    With ``credentials`` the credential payload goes along; otherwise it is left out and
    ``cloud_source`` keeps pointing at the credential the tenant already holds.
    """
    body = copy.deepcopy(desired.compiled.body)
    tracking = {key: body["metadata"]["labels"][key] for key in (INSTANCE_LABEL, MANIFEST_LABEL)}
    KeptLive(item.keep_live).patch(body)
    metadata = body["metadata"]
    metadata["labels"].update(tracking)  # never given up to an `ignore`
    metadata["annotations"].update(item.annotations if annotations is None else annotations)
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    if not credentials:
        body["payload"] = []
        if item.credential_ref and item.credential_ref != CREDENTIAL_PLACEHOLDER:
            for task in tasks(body["spec"]):
                for parameter in parameters(task):
                    if parameter["name"] == "cloud_source":
                        parameter["value"] = item.credential_ref
    return body


class _RunWatcher:
    """Follows many runs to a final phase with one runs search per poll for all of them.

    A run is named, or (``None``) it is the newest run of its template, as after a create.
    """

    def __init__(
        self,
        api: WorkflowApi,
        policy: WaitPolicy,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
    ) -> None:
        self.api = api
        self.policy = policy
        self.sleep = sleep
        self.clock = clock
        self.deadline = clock() + policy.timeout
        self.waiting: dict[tuple[str, str | None], asyncio.Future[LiveRun | None]] = {}
        self.poller: asyncio.Task[None] | None = None
        self.stopped = False

    def stop(self) -> None:
        """Stop following runs (the apply was interrupted): every wait ends with None."""
        self.stopped = True
        if self.poller is not None:
            self.poller.cancel()
        for future in self.waiting.values():
            if not future.done():
                future.set_result(None)
        self.waiting.clear()

    async def wait_for(self, template: str, run: str | None) -> LiveRun | None:
        """The run in a final phase, or None when the timeout passed first (or ``stop`` was called)."""
        if self.stopped:
            return None
        future: asyncio.Future[LiveRun | None] = asyncio.get_running_loop().create_future()
        self.waiting[(template, run)] = future
        if self.poller is None or self.poller.done():
            self.poller = asyncio.create_task(self._poll())
        return await future

    async def _poll(self) -> None:
        try:
            await self._poll_until_settled()
        except Exception as exc:  # e.g. an unreadable answer: end the waits rather than leave them hanging
            logger.exception("could not follow runs")
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(_ItemFailedError(f"could not follow its run: {exc}"))
            self.waiting.clear()

    async def _poll_until_settled(self) -> None:
        interval = self.policy.first_poll
        while self.waiting:
            await self.sleep(interval)
            interval = min(interval * 1.5, self.policy.max_poll)
            try:
                found = await self.api.runs_for({template for template, _ in self.waiting})
            except ApiError as exc:
                logger.warning("could not check runs (%s); will retry", exc)
                found = {}
            for key, future in list(self.waiting.items()):
                template, name = key
                runs = found.get(template, [])  # newest first
                run = runs[0] if name is None and runs else next((r for r in runs if r.name == name), None)
                if run is not None and run.phase in FINISHED_PHASES:
                    future.set_result(run)
                    del self.waiting[key]
            if self.clock() >= self.deadline:
                for future in self.waiting.values():
                    future.set_result(None)
                self.waiting.clear()


async def apply_plan(
    plan: Plan,
    desired: Iterable[DesiredWorkflow],
    api: WorkflowApi,
    *,
    guard: ApplyGuard,
    parallelism: int = 8,
    wait: WaitPolicy | None = None,
    progress: ApplyProgress | None = None,
    interruption: Interruption | None = None,
    uploads: ContentUploads | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ApplyResult:
    """Carry out ``plan``; every item gets a result, and nothing raises for one item's failure.

    ``guard`` (ApplyGuard.of the live workflows this apply read) refuses, item by item, what no
    plan may ask for. ``interruption`` is signalled to stop (see ``Interruption``); the items it
    stopped are "interrupted" or "not started". ``uploads`` carries out the Upload steps."""
    runner = _Runner(
        plan,
        {d.name: d for d in desired},
        api,
        parallelism,
        wait,
        guard,
        sleep,
        clock,
        progress,
        interruption or Interruption(),
        uploads=uploads,
    )
    return await runner.run()

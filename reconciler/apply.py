"""Carry out a Plan: the only place that changes remote state.

Items run concurrently (bounded by ``parallelism``) except where ``depends_on`` orders them; an
item whose dependency failed is skipped, and independent items carry on after a failure. Before
any rerun, one runs search finds the workflows that already have a Pending or Running run: those
are reported as already running and not submitted again. Creates and submits are never blindly
retried (the client re-reads after a lost answer); a create that meets an existing workflow with
our labels counts as done, so two applies at once cannot make a duplicate.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from reconciler.desired import DesiredWorkflow
from reconciler.errors import ApiError, ConflictError, OutcomeUnknownError, ReconcilerError
from reconciler.live import ACTIVE_PHASES, FINISHED_PHASES, SUCCEEDED, LiveRun, LiveWorkflow
from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, PROTECT_ANNOTATION
from reconciler.packages.spec import cloud_source, parameters, tasks
from reconciler.plan.model import Action, Archive, Create, Plan, PlannedWorkflow, Submit, Update
from reconciler.plan.normalise import LAST_RUN_ANNOTATION, KeptLive
from reconciler.plan.planner import prune_refusal, same_run, with_claim

logger = logging.getLogger(__name__)

Outcome = Literal["done", "failed", "already running", "skipped", "unchanged", "interrupted", "not started"]


class WorkflowApi(Protocol):
    """The client calls the applier needs (``AtlanWorkflowClient`` provides them)."""

    async def get_workflow(self, name: str) -> LiveWorkflow | None: ...
    async def create_workflow(self, body: Mapping[str, Any], *, submit: bool) -> LiveWorkflow: ...
    async def update_workflow(self, name: str, body: Mapping[str, Any]) -> LiveWorkflow: ...
    async def submit(self, name: str) -> LiveRun: ...
    async def archive(self, name: str) -> None: ...
    async def runs_for(
        self, template_names: Iterable[str], *, phases: Iterable[str] | None = None
    ) -> dict[str, list[LiveRun]]: ...


@dataclass(frozen=True)
class ItemResult:
    address: str
    workflow: str
    actions: tuple[Action, ...]
    outcome: Outcome
    detail: str = ""
    run: str | None = None
    run_phase: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    items: tuple[ItemResult, ...]

    @property
    def failed(self) -> bool:
        return any(item.outcome in ("failed", "skipped") for item in self.items)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.items if item.outcome == outcome)


@dataclass(frozen=True)
class WaitPolicy:
    """How ``--wait`` follows runs: one runs search per poll for all of them, backing off."""

    timeout: float = 1800.0
    first_poll: float = 1.0
    max_poll: float = 15.0


class _ItemFailedError(ReconcilerError):
    pass
    @property
    def interrupted(self) -> bool:
        return any(item.outcome in ("interrupted", "not started") for item in self.items)



@dataclass(frozen=True)
class ApplyGuard:
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
    max_prune_percent: float = 20.0

    @classmethod
    def of(
        cls,
        live: Iterable[LiveWorkflow],
        desired: Iterable[DesiredWorkflow],
        *,
        instance: str,
        prune: bool = False,
        max_prune_percent: float = 20.0,
    ) -> ApplyGuard:
        owners: dict[str, str | None] = {}
        protected = set()
        for workflow in live:
            owners[workflow.name] = workflow.labels.get(INSTANCE_LABEL)
            if workflow.annotations.get(PROTECT_ANNOTATION) == "true":
                protected.add(workflow.name)
        adoptions = {d.name: d.adopt for d in desired if d.adopt}
        return cls(instance, owners, frozenset(protected), adoptions, prune, max_prune_percent)

    def prune_refusal(self, plan: Plan) -> str | None:
        archiving = plan.count(Action.ARCHIVE)
        if archiving and not self.prune:
            return "refusing to archive: this apply was not asked to prune (--prune)"
        managed = sum(1 for owner in self.owners.values() if owner == self.instance)
        return prune_refusal(archiving, managed, self.max_prune_percent)

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
    active: set[str] = field(default_factory=set)
    # This apply's own id, written into the rerun claims it makes.
    claim: str = field(default_factory=lambda: secrets.token_hex(8))
    results: dict[str, ItemResult] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)  # manifest name -> plan address
    prune_refused: str | None = None

    async def run(self) -> ApplyResult:
        self.prune_refused = self.guard.prune_refusal(self.plan)
        reruns = [i.workflow for i in self.plan.items if any(isinstance(s, Submit) for s in i.steps)]
        if reruns:
            runs = await self.api.runs_for(reruns, phases=ACTIVE_PHASES)
            self.active = {name for name, found in runs.items() if any(r.is_active for r in found)}
        self.done = {item.address: asyncio.Event() for item in self.plan.items}
        self.addresses = {item.manifest: item.address for item in self.plan.items if item.manifest}
        gate = asyncio.Semaphore(self.parallelism)
        watcher = _RunWatcher(self.api, self.wait, self.sleep, self.clock) if self.wait else None
        async with asyncio.TaskGroup() as group:
            for item in self.plan.items:
                group.create_task(self._one(item, gate, watcher))
        return ApplyResult(tuple(self.results[item.address] for item in self.plan.items))

    async def _one(self, item: PlannedWorkflow, gate: asyncio.Semaphore, watcher: _RunWatcher | None) -> None:
        try:
            blocked = await self._dependencies_failed(item)
            if blocked:
                self.results[item.address] = self._result(
                    item, "skipped", f"dependency {blocked} did not succeed"
                )
                return
            if item.is_noop:
                self.results[item.address] = self._result(item, "unchanged")
                return
            async with gate:
                result = await self._execute(item)
            if watcher is not None and result.outcome == "done" and item.starts_run:
                final = await watcher.wait_for(item.workflow, result.run)
                if final is None:
                    detail = f"its run did not finish within {watcher.policy.timeout:g} s"
                    result = self._result(item, "failed", detail, run=result.run)
                else:
                    ok = final.phase == SUCCEEDED
                    detail = result.detail if ok else f"run {final.name} ended {final.phase}"
                    result = ItemResult(
                        item.address,
                        item.workflow,
                        item.actions,
                        "done" if ok else "failed",
                        detail,
                        final.name,
                        final.phase,
                    )
            self.results[item.address] = result
        except Exception as exc:  # one item's failure must not stop the others
            if not isinstance(exc, ReconcilerError):
                logger.exception("unexpected error applying %s", item.address)
            self.results[item.address] = self._result(item, "failed", str(exc))
        finally:
            self.done[item.address].set()

    async def _dependencies_failed(self, item: PlannedWorkflow) -> str | None:
        for name in item.depends_on:
            address = self.addresses.get(name)
            if address is None:
                continue
            await self.done[address].wait()
            if self.results[address].outcome in ("failed", "skipped"):
                return address
        return None

    def _result(
        self, item: PlannedWorkflow, outcome: Outcome, detail: str = "", run: str | None = None
    ) -> ItemResult:
        return ItemResult(item.address, item.workflow, item.actions, outcome, detail, run)

    async def _execute(self, item: PlannedWorkflow) -> ItemResult:
        """Run the item's steps in order. What to do was decided by the planner; the only thing
        looked at here is what the apply observed itself: whether a run is already Pending or
        Running (then the Submit reports it, its claim is not written, and an Update made only
        for the claim is skipped), and the guard's refusals."""
        refused = self.guard.refusal(item) or (self.prune_refused if item.has(Action.ARCHIVE) else None)
        if refused:
            raise _ItemFailedError(refused)
        desired = self.desired.get(item.manifest or "")
        if desired is None and not all(isinstance(step, Archive) for step in item.steps):
            raise _ItemFailedError(f"no manifest {item.manifest!r} in this apply")
        running = item.workflow in self.active
        notes: list[str] = []
        run: str | None = None
        claimed_at: str | None = None  # the resourceVersion the claim was written with
        for step in item.steps:
            if isinstance(step, Archive):
                await self.api.archive(item.workflow)
                notes.append("archived")
            elif isinstance(step, Create):
                assert desired is not None
                return await self._create(item, desired, step)
            elif isinstance(step, Update):
                assert desired is not None
                claim = step.claim and not running
                if not claim and not step.changes_workflow:
                    continue
                outcome = await self._update(item, desired, step, claim)
                if isinstance(outcome, ItemResult):
                    return outcome
                item, version = outcome
                claimed_at = version if claim else None
                if step.changes_workflow:
                    notes.append("adopted" if item.action is Action.ADOPT else "updated")
            elif isinstance(step, Submit):
                if running:
                    notes.append("not submitted: a run is already Pending or Running")
                    return self._result(item, "already running", "; ".join(notes))
                try:
                    submitted = await self.api.submit(item.workflow)
                except ApiError as exc:
                    if step.claimed and claimed_at is not None and not isinstance(exc, OutcomeUnknownError):
                        assert desired is not None
                        await self._release(item, desired, claimed_at)
                    raise
                run = submitted.name
                notes.append(f"run {run} submitted")
        return self._result(item, "done", "; ".join(notes) if run else ", ".join(notes), run=run)

    async def _update(
        self, item: PlannedWorkflow, desired: DesiredWorkflow, step: Update, claim: bool
    ) -> ItemResult | tuple[PlannedWorkflow, str | None]:
        """The Update step; the item as it goes on (with the credential the tenant now holds) and
        the new resourceVersion, or the item's result when another apply claimed the run first."""
        claimed = with_claim(item.run_record, self.claim) if claim and item.run_record else None
        annotations = {**item.annotations, LAST_RUN_ANNOTATION: claimed} if claimed else None
        body = request_body(
            desired,
            item,
            resource_version=step.resource_version,
            annotations=annotations,
            credentials=step.send_credentials,
        )
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
        return replace(
            item, credential_ref=cloud_source(updated.spec) or item.credential_ref
        ), updated.resource_version

    async def _release(self, item: PlannedWorkflow, desired: DesiredWorkflow, version: str | None) -> None:
        """Undo a rerun claim whose submit definitely failed, so the next plan still asks for it."""
        body = request_body(desired, item, resource_version=version, credentials=False)
        try:
            await self.api.update_workflow(item.workflow, body)
        except ApiError as exc:
            logger.warning(
                "%s: the run record could not be reset after a failed submit (%s); "
                "bump run.token to ask for the run again",
                item.address,
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

    async def wait_for(self, template: str, run: str | None) -> LiveRun | None:
        """The run in a final phase, or None when the timeout passed first."""
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
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ApplyResult:
    """Carry out ``plan``; every item gets a result, and nothing raises for one item's failure.

    ``guard`` (ApplyGuard.of the live workflows this apply read) refuses, item by item, what no
    plan may ask for."""
    runner = _Runner(plan, {d.name: d for d in desired}, api, parallelism, wait, guard, sleep, clock)
    return await runner.run()

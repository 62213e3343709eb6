"""The engine plan, apply and drift share: read the desired and the live state, and plan.

The manifests load in a worker thread while the managed set is listed (``desired_and_live``);
``read_content`` reads the object of each file whose digest is not the one recorded (no request
at all when every digest is); ``plan_state`` plans from all three. ``Uploads`` writes the files
for the applier. Subcommand modules (reconciler/commands/) stay thin: they call these, render,
and report.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from reconciler.atlan import AtlanWorkflowClient
from reconciler.desired import DesiredWorkflow, reading_desired
from reconciler.drift import SeenObject
from reconciler.errors import PlanningError, PreconditionFailedError, ReconcilerError
from reconciler.live import LiveWorkflow
from reconciler.packages.compiler import CompiledFile
from reconciler.packages.sources import PreparedSource
from reconciler.plan.content import ObjectRead, Reads, content_changed, content_in_place
from reconciler.plan.model import Plan, PruneOptions, Upload
from reconciler.plan.normalise import LAST_RUN_ANNOTATION
from reconciler.plan.planfile import resource_versions
from reconciler.plan.planner import claimed_after, confirmed, handed_over, managed_by_manifest, plan
from reconciler.settings import Settings
from reconciler.stores import ObjectStore, StoredObject
from reconciler.target import ObjectStores, connect_with_stores, manifest_credentials

T = TypeVar("T")


@asynccontextmanager
async def desired_and_live(
    settings: Settings, paths: Sequence[Path], environ: Mapping[str, str]
) -> AsyncIterator[tuple[AtlanWorkflowClient, list[DesiredWorkflow], list[LiveWorkflow]]]:
    """A client on the tenant, and the desired and live states, read at once: the managed set is
    listed while the manifests load (see ``reading_desired``); adoption targets are read once the
    manifests name them."""
    async with session(settings, paths, environ) as (client, _, desired, live):
        yield client, desired, live


@asynccontextmanager
async def session(
    settings: Settings, paths: Sequence[Path], environ: Mapping[str, str]
) -> AsyncIterator[tuple[AtlanWorkflowClient, ObjectStores, list[DesiredWorkflow], list[LiveWorkflow]]]:
    """``desired_and_live``, and the object stores of the same target (opened on first use)."""
    async with (
        reading_desired(
            paths,
            instance=settings.instance,
            environ=settings.manifest_environ(environ),
            cache=settings.manifest_cache(),
        ) as loading,
        connect_with_stores(settings) as (client, stores),
    ):
        listing = asyncio.ensure_future(client.list_managed(settings.instance))
        try:
            desired = await loading
        except BaseException:
            listing.cancel()
            await asyncio.gather(listing, return_exceptions=True)
            raise
        live = await _with_adoption_targets(client, desired, await listing)
        yield client, stores, desired, await _with_claims_settled(client, live)


async def _with_adoption_targets(
    client: AtlanWorkflowClient, desired: Sequence[DesiredWorkflow], live: list[LiveWorkflow]
) -> list[LiveWorkflow]:
    known = {workflow.name for workflow in live}
    missing = [name for d in desired if (name := d.adopt) and name not in known]
    if missing:
        live += (await client.get_workflows(missing)).values()
    return live


async def _with_claims_settled(client: AtlanWorkflowClient, live: list[LiveWorkflow]) -> list[LiveWorkflow]:
    """``live``, with each pending rerun claim whose run did start shown as confirmed.

    An apply writes its claim, submits, then confirms (reconciler/apply.py); one stopped in
    between leaves the claim pending. A run newer than the one the claim saw means the submit
    happened; otherwise the claim stays pending and the planner asks for the run again. Only
    interrupted applies leave pending claims, so this is usually no request at all.
    """
    pending = {
        index: after
        for index, workflow in enumerate(live)
        if (after := claimed_after(workflow.annotations.get(LAST_RUN_ANNOTATION))) is not None
    }
    newest = await asyncio.gather(*(client.newest_run(live[index].name) for index in pending))
    for (index, after), run in zip(pending.items(), newest, strict=True):
        if run is not None and run.name != after:
            workflow = live[index]
            record = confirmed(workflow.annotations[LAST_RUN_ANNOTATION], run.name)
            live[index] = workflow.model_copy(
                update={"annotations": {**workflow.annotations, LAST_RUN_ANNOTATION: record}}
            )
    return live


def plan_state(
    settings: Settings,
    desired: Sequence[DesiredWorkflow],
    live: list[LiveWorkflow],
    prune: PruneOptions | None = None,
    content: Reads | None = None,
) -> tuple[Plan, dict[str, str | None]]:
    """The plan from the desired to the live state (with ``content``, from ``read_content``, the
    sources' files too); also the resourceVersion of each live workflow read (what a saved plan
    records). Takes ``live`` over: the list is emptied."""
    versions = resource_versions(live)
    result = plan(
        desired,
        handed_over(live),  # so each live workflow is freed once planned
        instance=settings.instance,
        prune=prune is not None and prune.prune,
        max_prune=(prune or PruneOptions()).limit,
        content=content,
    )
    return result, versions


async def plan_with_content(
    settings: Settings,
    stores: ObjectStores,
    desired: Sequence[DesiredWorkflow],
    live: list[LiveWorkflow],
    prune: PruneOptions | None = None,
) -> tuple[Plan, dict[str, str | None], Reads]:
    """``plan_state`` after ``read_content``; also what was read (a saved plan is planned again
    from it). Takes ``live`` over, as ``plan_state`` does."""
    content = await read_content(
        stores, desired, live, instance=settings.instance, parallelism=settings.parallelism
    )
    return *plan_state(settings, desired, live, prune, content), content


async def plan_against_tenant(
    settings: Settings, paths: Sequence[Path], environ: Mapping[str, str], prune: PruneOptions
) -> tuple[list[DesiredWorkflow], Plan, dict[str, str | None]]:
    """Read the manifests, the tenant and the changed files' objects, then plan: the desired
    workflows, the plan and the resourceVersions it was made from."""
    async with session(settings, paths, environ) as (_, stores, desired, live):
        result, versions, _ = await plan_with_content(settings, stores, desired, live, prune)
    return desired, result, versions


# -- the sources' files in their object stores -----------------------------------------------------


def live_of(
    desired: Sequence[DesiredWorkflow], live: Sequence[LiveWorkflow], *, instance: str
) -> dict[str, LiveWorkflow]:
    """Manifest name -> the live workflow the planner will compare it with (reconciler/plan/
    planner.py: the one labelled with this instance and the manifest, else the one of its name)."""
    by_name = {workflow.name: workflow for workflow in live}
    managed, _ = managed_by_manifest(live, instance)
    found = {d.name: managed.get(d.name) or by_name.get(d.compiled.name) for d in desired}
    return {name: workflow for name, workflow in found.items() if workflow is not None}


def _store_of(stores: ObjectStores, desired: DesiredWorkflow, file: CompiledFile) -> ObjectStore:
    credentials = (
        manifest_credentials(desired.compiled.body["payload"]) if file.store.manifest_credentials else None
    )
    return stores.store(file.store, credentials)


async def read_content(
    stores: ObjectStores,
    desired: Sequence[DesiredWorkflow],
    live: Sequence[LiveWorkflow],
    *,
    instance: str,
    parallelism: int,
) -> dict[tuple[str, str], ObjectRead]:
    """For each file whose digest is not the one recorded on its workflow: the object at its key
    (one GET) and the file rendered again, ``parallelism`` at a time. Files whose digest is the
    recorded one cost nothing: no request, no rendering."""

    async def read(item: DesiredWorkflow, file: CompiledFile) -> ObjectRead:
        found = await _store_of(stores, item, file).get(file.key)
        data = await _rendered(item, file.section, file.sha256)
        stored, before = found if found is not None else (None, None)
        return ObjectRead(None if stored is None else stored.etag, before, data)

    return await _each_file(desired, live, instance, parallelism, content_changed, read)


async def check_content(
    stores: ObjectStores,
    desired: Sequence[DesiredWorkflow],
    live: Sequence[LiveWorkflow],
    *,
    instance: str,
    parallelism: int,
) -> dict[tuple[str, str], SeenObject | None]:
    """For drift: one HEAD of each file whose digest is the one its workflow records (no body
    read), ``parallelism`` at a time."""

    async def head(item: DesiredWorkflow, file: CompiledFile) -> SeenObject | None:
        found = await _store_of(stores, item, file).head(file.key)
        return None if found is None else SeenObject(found.etag, found.sha256)

    return await _each_file(desired, live, instance, parallelism, content_in_place, head)


async def _each_file(
    desired: Sequence[DesiredWorkflow],
    live: Sequence[LiveWorkflow],
    instance: str,
    parallelism: int,
    chosen: Callable[[Sequence[CompiledFile], Mapping[str, str]], list[CompiledFile]],
    visit: Callable[[DesiredWorkflow, CompiledFile], Awaitable[T]],
) -> dict[tuple[str, str], T]:
    """(manifest, section) -> ``visit`` of each file ``chosen`` picks by the records on the
    workflow it belongs to, ``parallelism`` at a time."""
    workflows = live_of(desired, live, instance=instance)
    wanted = [
        (d, f)
        for d in desired
        if d.compiled.files
        for f in chosen(d.compiled.files, workflows[d.name].annotations if d.name in workflows else {})
    ]
    gate = asyncio.Semaphore(parallelism)

    async def one(item: DesiredWorkflow, file: CompiledFile) -> tuple[tuple[str, str], T]:
        async with gate:
            return (item.name, file.section), await visit(item, file)

    return dict(await asyncio.gather(*(one(d, f) for d, f in wanted)))


async def _rendered(item: DesiredWorkflow, section: str, sha256: str, *, again: bool = False) -> bytes:
    """The file ``item``'s source generates for ``section``: as compiling kept it, or rendered
    again (in a worker thread; always ``again`` for an upload); refused unless it is the one
    planned (``sha256``): its source changed meanwhile."""
    kept = None if again else item.rendered.get(section)
    if kept is not None and hashlib.sha256(kept).hexdigest() == sha256:
        return kept
    source: PreparedSource = item.sources[section]
    rendered, data = await asyncio.to_thread(source.render_bytes)
    if rendered.sha256 != sha256:
        raise PlanningError(
            f"{item.file}: {source.display} changed while reconciler was working ({section}); plan again"
        )
    return data


class Uploads:
    """The applier's ``ContentUploads``: each Upload step rendered again and written, conditional
    on the object being the version the plan read."""

    def __init__(self, stores: ObjectStores) -> None:
        self._stores = stores

    async def upload(self, desired: DesiredWorkflow, step: Upload) -> str:
        file = next((f for f in desired.compiled.files if f.section == step.section), None)
        if file is None or file.key != step.key:
            raise ReconcilerError(f"{desired.file}: no {step.section} file goes to {step.key!r}; plan again")
        data = await _rendered(desired, step.section, step.sha256, again=True)
        expected = None if step.expected is None else StoredObject(step.key, step.expected, 0)
        try:
            written = await _store_of(self._stores, desired, file).put(
                step.key, data, sha256=step.sha256, expected=expected
            )
        except PreconditionFailedError as exc:
            what = "was created" if step.expected is None else "was replaced"
            raise ReconcilerError(
                f"{step.section}: {file.url} {what} since the plan read it; nothing was uploaded and "
                "nothing run: plan again to see its rows"
            ) from exc
        return written.etag

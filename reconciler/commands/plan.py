"""``reconciler plan PATH...``: what apply would do, as text, markdown or JSON; optionally saved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from enum import StrEnum
from pathlib import Path

from reconciler import console
from reconciler.atlan import AtlanWorkflowClient, LiveWorkflow
from reconciler.desired import DesiredWorkflow, reading_desired
from reconciler.github import (
    GitHubClient,
    GitHubContext,
    plan_marker,
    publish_plan_comment,
    write_step_summary,
)
from reconciler.manifest.loader import manifest_files
from reconciler.plan.model import Plan, PruneOptions
from reconciler.plan.planfile import dump_plan_file, fingerprints, resource_versions
from reconciler.plan.planner import handed_over, plan
from reconciler.render.plan import plan_as_dict, render_json, render_markdown, render_text
from reconciler.settings import Settings
from reconciler.target import connect


class PlanFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


@asynccontextmanager
async def desired_and_live(
    settings: Settings, paths: Sequence[Path], environ: Mapping[str, str]
) -> AsyncIterator[tuple[AtlanWorkflowClient, list[DesiredWorkflow], list[LiveWorkflow]]]:
    """A client on the tenant, and the desired and live states, read at once: the managed set is
    listed while the manifests load (see ``reading_desired``); adoption targets are read once the
    manifests name them."""
    async with (
        reading_desired(
            paths,
            instance=settings.instance,
            environ=settings.manifest_environ(environ),
            cache=settings.manifest_cache(),
        ) as loading,
        connect(settings) as client,
    ):
        listing = asyncio.ensure_future(client.list_managed(settings.instance))
        try:
            desired = await loading
        except BaseException:
            listing.cancel()
            await asyncio.gather(listing, return_exceptions=True)
            raise
        yield client, desired, await _with_adoption_targets(client, desired, await listing)


async def _with_adoption_targets(
    client: AtlanWorkflowClient, desired: Sequence[DesiredWorkflow], live: list[LiveWorkflow]
) -> list[LiveWorkflow]:
    known = {workflow.name for workflow in live}
    missing = [name for d in desired if (name := d.adopt) and name not in known]
    if missing:
        live += (await client.get_workflows(missing)).values()
    return live


def plan_state(
    settings: Settings,
    desired: Sequence[DesiredWorkflow],
    live: list[LiveWorkflow],
    prune: PruneOptions | None = None,
) -> tuple[Plan, dict[str, str | None]]:
    """The plan from the desired to the live state; also the resourceVersion of each live
    workflow read (what a saved plan records). Takes ``live`` over: the list is emptied."""
    versions = resource_versions(live)
    result = plan(
        desired,
        handed_over(live),  # so each live workflow is freed once planned
        instance=settings.instance,
        prune=prune is not None and prune.prune,
        max_prune_percent=20.0 if prune is None else prune.max_percent,
    )
    return result, versions


async def plan_against_tenant(
    settings: Settings, paths: Sequence[Path], environ: Mapping[str, str], prune: PruneOptions
) -> tuple[list[DesiredWorkflow], Plan, dict[str, str | None]]:
    """Read the manifests and the tenant at once, then plan: the desired workflows, the plan and
    the resourceVersions it was made from."""
    async with desired_and_live(settings, paths, environ) as (_, desired, live):
        pass
    return desired, *plan_state(settings, desired, live, prune)


def publish_to_pull_request(context: GitHubContext, result: Plan, instance: str) -> None:
    """One sticky comment per pull request and instance, updated in place; also the job summary."""
    marker = plan_marker(instance)
    markdown = render_markdown(result, marker=marker)
    with GitHubClient(context) as client:
        published = publish_plan_comment(
            context, markdown, marker=marker, client=client, plan=plan_as_dict(result)
        )
    console.err(f"Plan comment {published}.")
    write_step_summary(context, markdown)


def render(result: Plan, output: PlanFormat) -> str:
    if output is PlanFormat.json:
        return render_json(result)
    if output is PlanFormat.markdown:
        return render_markdown(result)
    return render_text(result, color=console.color_enabled())


def plan_command(
    paths: Sequence[Path],
    *,
    output: PlanFormat,
    detailed_exitcode: bool,
    prune: PruneOptions,
    out: Path | None,
    github_comment: bool = False,
    settings: Settings,
    environ: Mapping[str, str],
) -> int:
    """Exit 0; with --detailed-exitcode, 0 when nothing is to do and 2 when changes are pending."""
    context = GitHubContext.from_environ(environ) if github_comment else None
    desired, result, versions = asyncio.run(plan_against_tenant(settings, paths, environ, prune))
    console.out(render(result, output))
    if context is not None:
        publish_to_pull_request(context, result, settings.instance)
    if out is not None:
        files, _ = manifest_files(paths)
        out.write_text(
            dump_plan_file(
                result,
                fingerprints(files, desired, versions),
                paths=[str(p) for p in paths],
                options={"prune": prune.prune, "max_prune_percent": prune.max_percent},
            )
        )
        console.err(f"Saved the plan to {out}. To carry out exactly these actions: reconciler apply {out}")
    return 2 if detailed_exitcode and result.has_changes else 0

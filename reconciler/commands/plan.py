"""``reconciler plan PATH...``: what apply would do, as text, markdown or JSON; optionally saved."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler import console
from reconciler.commands._files import write_text_files
from reconciler.engine import plan_against_tenant
from reconciler.github import (
    GitHubClient,
    GitHubContext,
    plan_marker,
    publish_plan_comment,
    write_step_summary,
)
from reconciler.manifest.loader import manifest_files
from reconciler.plan.model import Plan, PruneOptions
from reconciler.plan.planfile import dump_plan_file, fingerprints
from reconciler.render.formats import OutputFormat
from reconciler.render.plan import render_markdown, render_plan
from reconciler.settings import Settings


def publish_to_pull_request(context: GitHubContext, result: Plan, instance: str) -> None:
    """One sticky comment per pull request and instance, updated in place; also the job summary."""
    marker = plan_marker(instance)
    markdown = render_markdown(result, marker=marker)
    with GitHubClient(context) as client:
        published = publish_plan_comment(context, markdown, marker=marker, client=client, plan=result)
    console.err(f"Plan comment {published}.")
    write_step_summary(context, markdown)


def plan_command(
    paths: Sequence[Path],
    *,
    output: OutputFormat,
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
    console.out(render_plan(result, output, color=console.color_enabled()))
    if context is not None:
        publish_to_pull_request(context, result, settings.instance)
    if out is not None:
        files, _ = manifest_files(paths)
        text = dump_plan_file(
            result,
            fingerprints(files, desired, versions),
            paths=[str(p) for p in paths],
            options={"prune": prune.prune, "max_prune": str(prune.limit)},
        )
        write_text_files([(out, text)])
        console.err(f"Saved the plan to {out}. To carry out exactly these actions: reconciler apply {out}")
    return 2 if detailed_exitcode and result.has_changes else 0

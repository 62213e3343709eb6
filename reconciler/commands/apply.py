"""``reconciler apply PATH... | PLANFILE``: plan (or load a saved plan), confirm, carry out, report."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer

from reconciler import console
from reconciler.apply import ApplyGuard, ApplyResult, Interruption, WaitPolicy, apply_plan
from reconciler.commands._progress import progress_for
from reconciler.desired import DesiredWorkflow
from reconciler.engine import Uploads, plan_state, read_content, session
from reconciler.errors import PlanFileError, ReconcilerError
from reconciler.github import GitHubClient, GitHubContext, check_plan_against_review, write_step_summary
from reconciler.live import LiveWorkflow
from reconciler.manifest.loader import manifest_files
from reconciler.plan.content import Reads
from reconciler.plan.model import Plan, PruneOptions
from reconciler.plan.planfile import (
    PlanFile,
    fingerprints,
    is_plan_file,
    load_plan_file,
    plan_differences,
    resource_versions,
    saved_prune_options,
    stale_reasons,
)
from reconciler.render.plan import render_markdown, render_text
from reconciler.render.results import render_results_markdown, render_results_text
from reconciler.settings import Settings


def _confirm() -> bool:
    console.err("Do you want to perform these actions? Only 'yes' will be accepted.")
    # typer's prompt: Ctrl-C or end of input aborts (exit 130, "aborted"), as any other answer
    # but "yes" cancels. The prompt blocks inside the event loop, where asyncio's own SIGINT
    # handler would only cancel the (blocked) task and so swallow the first Ctrl-C: Python's
    # default handler is put back while it waits, so Ctrl-C interrupts the read at once.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        answer: str = typer.prompt("  Enter a value", default="", show_default=False, err=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    return answer.strip() == "yes"


@contextmanager
def _interruptible(grace: float) -> Iterator[Interruption]:
    """SIGINT and SIGTERM, while the apply writes, stop it as ``Interruption`` describes."""
    interruption = Interruption(grace)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if interruption.count == 0:
            console.err(
                f"interrupted: starting nothing new; the items in flight get {grace:g} s to finish "
                "(interrupt again to stop them at once)"
            )
        else:
            console.err("interrupted again: stopping the items in flight now")
        interruption.signal()

    handled = (signal.SIGINT, signal.SIGTERM)
    for number in handled:
        loop.add_signal_handler(number, on_signal)
    try:
        yield interruption
    finally:
        for number in handled:
            loop.remove_signal_handler(number)


def _saved_plan(
    settings: Settings,
    saved: PlanFile,
    prune: PruneOptions,
    desired: Sequence[DesiredWorkflow],
    live: list[LiveWorkflow],
    content: Reads,
) -> Plan:
    """The plan made now from the saved plan's manifests and the live tenant, when it is exactly
    what the file recorded. The file is a request, not an authority: nothing it says is carried
    out unless planning again decides the same."""
    files, _ = manifest_files([Path(p) for p in saved.paths])
    reasons = stale_reasons(saved, fingerprints(files, desired, resource_versions(live)), desired)
    if reasons:
        shown = "; ".join(reasons[:5]) + (f"; and {len(reasons) - 5} more" if len(reasons) > 5 else "")
        raise PlanFileError(f"the saved plan is stale ({shown}); run plan again")
    recomputed, _ = plan_state(settings, desired, live, prune, content)
    differences = plan_differences(saved.plan, recomputed)
    if differences:
        more = f" (and {len(differences) - 1} more)" if len(differences) > 1 else ""
        raise PlanFileError(
            f"the saved plan is not what planning decides now: {differences[0]}{more}; "
            "it was edited, or made by another version; run plan again"
        )
    return recomputed


@dataclass(frozen=True)
class GitHubOptions:
    """``--github-check-plan``: compare with the plan reviewed in the PR; ``--github-summary``."""

    context: GitHubContext | None = None
    check_plan: bool = False
    proceed_on_mismatch: bool = False
    summary: bool = False


def _check_reviewed_plan(github: GitHubOptions, result: Plan, instance: str) -> None:
    if github.context is None or not github.check_plan:
        return
    with GitHubClient(github.context) as client:
        check = check_plan_against_review(
            github.context,
            client,
            result,
            instance=instance,
            proceed=github.proceed_on_mismatch,
        )
    console.err(check.message)


async def _run(
    settings: Settings,
    paths: Sequence[Path],
    environ: Mapping[str, str],
    *,
    saved: PlanFile | None,
    prune: PruneOptions,
    auto_approve: bool,
    parallelism: int,
    wait: WaitPolicy | None,
    github: GitHubOptions,
    grace: float,
) -> tuple[Plan, ApplyResult | None]:
    async with session(settings, paths, environ) as (client, stores, desired, live):
        if saved is not None:
            prune = saved_prune_options(saved)
        guard = ApplyGuard.of(
            live,
            desired,
            instance=settings.instance,
            prune=prune.prune,
            max_prune=prune.limit,
        )
        content = await read_content(
            stores, desired, live, instance=settings.instance, parallelism=settings.parallelism
        )
        if saved is not None:
            result = _saved_plan(settings, saved, prune, desired, live, content)
        else:
            result, _ = plan_state(settings, desired, live, prune, content)
        console.out(render_text(result, color=console.color_enabled()))
        _check_reviewed_plan(github, result, settings.instance)
        if not result.has_changes:
            return result, None
        if saved is None and not auto_approve and not _confirm():
            raise ReconcilerError("apply cancelled")
        with _interruptible(grace) as interruption:
            applied = await apply_plan(
                result,
                desired,
                client,
                guard=guard,
                parallelism=parallelism,
                wait=wait,
                interruption=interruption,
                progress=progress_for(sys.stderr, is_terminal=sys.stderr.isatty()),
                uploads=Uploads(stores),
            )
        return result, applied


def apply_command(
    paths: Sequence[Path],
    *,
    auto_approve: bool,
    prune: PruneOptions,
    parallelism: int | None,
    wait: bool,
    timeout: float,
    github_check_plan: bool = False,
    proceed_on_plan_mismatch: bool = False,
    github_summary: bool = False,
    settings: Settings,
    environ: Mapping[str, str],
) -> int:
    """Exit 0 when every item succeeded (or nothing was to do), 1 when anything failed.

    A saved plan (``apply FILE``) was reviewed already and needs no confirmation.
    """
    wants_github = github_check_plan or github_summary
    github = GitHubOptions(
        GitHubContext.from_environ(environ) if wants_github else None,
        github_check_plan,
        proceed_on_plan_mismatch,
        github_summary,
    )
    saved = load_plan_file(paths[0]) if len(paths) == 1 and is_plan_file(paths[0]) else None
    if saved is None and not auto_approve and not sys.stdin.isatty():
        raise ReconcilerError("stdin is not a terminal: pass --auto-approve to apply without confirmation")
    if saved is not None and saved.plan.instance != settings.instance:
        raise PlanFileError(
            f"the saved plan is for instance {saved.plan.instance!r}, not {settings.instance!r}"
        )
    sources = [Path(p) for p in saved.paths] if saved is not None else list(paths)
    planned, result = asyncio.run(
        _run(
            settings,
            sources,
            environ,
            saved=saved,
            prune=prune,
            auto_approve=auto_approve,
            parallelism=parallelism or settings.parallelism,
            wait=WaitPolicy(timeout=timeout) if wait else None,
            github=github,
            grace=settings.interrupt_grace,
        )
    )
    if result is not None:
        console.out(render_results_text(result, color=console.color_enabled()))
    if github.context is not None and github.summary:
        summary = render_markdown(planned) + ("\n" + render_results_markdown(result) if result else "")
        write_step_summary(github.context, summary)
    if result is not None and result.interrupted:
        console.err(
            "apply interrupted: run `reconciler plan` to see what is left, then apply again "
            "(a rerun it asked for and did not start is planned again)"
        )
        return 130
    return 1 if result is not None and result.failed else 0

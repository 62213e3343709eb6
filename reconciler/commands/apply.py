"""``reconciler apply PATH...``: plan, show, confirm, carry out, report per item."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler import console
from reconciler.apply import ApplyResult, WaitPolicy, apply_plan
from reconciler.commands.plan import read_live
from reconciler.desired import DesiredWorkflow, read_desired
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Plan
from reconciler.plan.planner import plan
from reconciler.render.plan import render_text
from reconciler.render.results import render_results_text
from reconciler.settings import Settings
from reconciler.target import connect


def _confirm() -> bool:
    console.err("Do you want to perform these actions? Only 'yes' will be accepted.")
    sys.stderr.write("  Enter a value: ")
    sys.stderr.flush()
    return sys.stdin.readline().strip() == "yes"


async def _plan_and_apply(
    settings: Settings,
    desired: Sequence[DesiredWorkflow],
    *,
    auto_approve: bool,
    parallelism: int,
    wait: WaitPolicy | None,
) -> tuple[Plan, ApplyResult | None]:
    async with connect(settings) as client:
        live = await read_live(client, desired, settings.instance)
        result = plan(desired, live, instance=settings.instance)
        console.out(render_text(result, color=console.color_enabled()))
        if not result.has_changes:
            return result, None
        if not auto_approve and not _confirm():
            raise ReconcilerError("apply cancelled")
        return result, await apply_plan(result, desired, client, parallelism=parallelism, wait=wait)


def apply_command(
    paths: Sequence[Path],
    *,
    auto_approve: bool,
    parallelism: int | None,
    wait: bool,
    timeout: float,
    settings: Settings,
    environ: Mapping[str, str],
) -> int:
    """Exit 0 when every item succeeded (or nothing was to do), 1 when anything failed."""
    if not auto_approve and not sys.stdin.isatty():
        raise ReconcilerError("stdin is not a terminal: pass --auto-approve to apply without confirmation")
    desired = read_desired(paths, instance=settings.instance, environ=environ)
    _, result = asyncio.run(
        _plan_and_apply(
            settings,
            desired,
            auto_approve=auto_approve,
            parallelism=parallelism or settings.parallelism,
            wait=WaitPolicy(timeout=timeout) if wait else None,
        )
    )
    if result is None:
        return 0
    console.out(render_results_text(result, color=console.color_enabled()))
    return 1 if result.failed else 0

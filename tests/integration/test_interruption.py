"""Issue 14: an apply interrupted at any await point loses no requested run and makes no duplicate.

Each item's calls to the tenant are its await points. ``Interrupting`` wraps the real client (real
HTTP to the emulator) and, at its k-th call, signals the apply's ``Interruption`` as the CLI's
SIGINT handler does, before the request is sent or after its answer came back; with two signals
the cancellation lands right there. Then plan and apply run again, uninterrupted: whatever the
interruption cut, the tenant converges with exactly one new run. No sleeps, nothing timed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any, Literal

import pytest

from reconciler.apply import ApplyGuard, ApplyResult, Interruption, apply_plan
from reconciler.engine import Uploads, plan_with_content, session
from reconciler.settings import load_settings
from tests.integration.conftest import Tenant
from tests.integration.test_plan_apply import by_address, converged

SNOWFLAKE = "asset-import/snowflake-assets.yaml"
ADDRESS = "AssetImport.snowflake-assets"
When = Literal["before", "after"]


class Interrupting:
    """The workflow client, interrupting the apply at its ``at``-th call (``when``: before the
    request is sent, or after its answer); every call's method is recorded in ``calls``."""

    def __init__(self, client: Any, interruption: Interruption, at: int, when: When, signals: int) -> None:
        self.client = client
        self.interruption = interruption
        self.at = at
        self.when = when
        self.signals = signals
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            hit = len(self.calls) == self.at
            if hit and self.when == "before":
                await self._interrupt()
            answer = await method(*args, **kwargs)
            if hit and self.when == "after":
                await self._interrupt()
            return answer

        return call

    async def _interrupt(self) -> None:
        for _ in range(self.signals):
            self.interruption.signal()
        if self.signals > 1:
            await asyncio.Event().wait()  # the apply cancels this item here


async def _apply(tenant: Tenant, at: int, when: When, signals: int = 2) -> tuple[ApplyResult, list[str]]:
    settings = load_settings()
    async with session(settings, [tenant.manifests], os.environ) as (client, stores, desired, live):
        guard = ApplyGuard.of(live, desired, instance=settings.instance)
        planned, _, _ = await plan_with_content(settings, stores, desired, live)
        interruption = Interruption()
        api = Interrupting(client, interruption, at, when, signals)
        result = await apply_plan(
            planned, desired, api, guard=guard, interruption=interruption, uploads=Uploads(stores)
        )
    return result, api.calls


def _only_snowflake(tenant: Tenant) -> None:
    for path in tenant.manifests.rglob("*.yaml"):
        if path.relative_to(tenant.manifests).as_posix() != SNOWFLAKE:
            path.unlink()


def _create(tenant: Tenant) -> None:
    _only_snowflake(tenant)


def _rerun(tenant: Tenant) -> None:
    _only_snowflake(tenant)
    assert tenant.apply().code == 0
    tenant.finish_runs()
    tenant.edit(SNOWFLAKE, 'token: "2026-11-21"', 'token: "2026-11-22"')


def _update(tenant: Tenant) -> None:
    _only_snowflake(tenant)
    assert tenant.apply().code == 0
    tenant.finish_runs()
    tenant.edit(SNOWFLAKE, "batch_size: 20", "batch_size: 40")


SCENARIOS: dict[str, tuple[Callable[[Tenant], None], list[str]]] = {
    "create": (_create, ["create_workflow"]),
    # the runs in progress, the newest run, the claim (with the update), the submit, the confirmation
    "rerun": (_rerun, ["runs_for", "newest_run", "update_workflow", "submit", "update_workflow"]),
    "update": (_update, ["runs_for", "newest_run", "update_workflow", "submit", "update_workflow"]),
}
POINTS = [
    (scenario, at, when)
    for scenario, (_, calls) in SCENARIOS.items()
    for at in range(1, len(calls) + 1)
    for when in ("before", "after")
]


def _workflow(tenant: Tenant) -> str | None:
    entry = by_address(tenant.plan("-o", "json").json()).get(ADDRESS)
    return None if entry is None else str(entry["workflow"])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_await_points_are_the_calls_listed(tenant: Tenant, scenario: str) -> None:
    """POINTS covers every call an item makes: an uninterrupted apply makes exactly these."""
    setup, calls = SCENARIOS[scenario]
    setup(tenant)
    result, made = asyncio.run(_apply(tenant, at=0, when="before"))
    assert made == calls
    assert [item.outcome for item in result.items] == ["done"]
    assert converged(tenant)


@pytest.mark.parametrize(("scenario", "at", "when"), POINTS)
def test_no_interruption_loses_a_run_or_starts_two(
    tenant: Tenant, scenario: str, at: int, when: When
) -> None:
    setup, _ = SCENARIOS[scenario]
    setup(tenant)
    workflow = _workflow(tenant)
    runs_before = len(tenant.runs_of(workflow)) if workflow else 0

    result, _ = asyncio.run(_apply(tenant, at=at, when=when))

    [item] = result.items
    assert item.outcome in ("interrupted", "not started"), item
    assert result.interrupted
    workflow = _workflow(tenant)
    assert workflow is not None
    started = len(tenant.runs_of(workflow)) - runs_before
    assert started in (0, 1)
    entry = by_address(tenant.plan("-o", "json").json())[ADDRESS]
    if started:
        # The run started: nothing asks for it again, even if its confirmation was cut off.
        assert not {"rerun", "create"} & set(entry["actions"]), entry
    else:
        # It did not: the plan still asks for it, whatever step was cut.
        assert {"rerun", "create"} & set(entry["actions"]), entry

    assert tenant.apply().code == 0
    assert len(tenant.runs_of(workflow)) - runs_before == 1
    assert converged(tenant)


def test_a_claim_cut_off_before_its_submit_is_a_pending_rerun(tenant: Tenant) -> None:
    """The case the issue found: claim written, SIGINT before the submit, the run lost for good."""
    _rerun(tenant)
    result, calls = asyncio.run(_apply(tenant, at=4, when="before"))  # before "submit"
    assert calls[-1] == "submit"
    assert result.items[0].detail.startswith("interrupted while submitting its run")

    entry = by_address(tenant.plan("-o", "json").json())[ADDRESS]
    assert entry["actions"] == ["rerun"]
    assert entry["reason"] == "an apply asked for this run and was stopped before it started"
    drift = tenant.cli("drift", str(tenant.manifests), "-o", "json")
    assert drift.code == 3
    [finding] = [f for f in drift.json()["findings"] if f["kind"] == "pending"]
    assert finding["address"] == ADDRESS
    assert "was interrupted (run apply)" in finding["message"]

    assert tenant.apply().code == 0
    assert tenant.cli("drift", str(tenant.manifests)).code == 0


def test_the_first_signal_lets_the_item_in_flight_finish_and_starts_nothing_new(tenant: Tenant) -> None:
    # The examples' workflows to create, one at a time: the signal comes as the first is created.
    settings = load_settings()

    async def apply_once() -> tuple[ApplyResult, list[str]]:
        async with session(settings, [tenant.manifests], os.environ) as (client, stores, desired, live):
            guard = ApplyGuard.of(live, desired, instance=settings.instance)
            planned, _, _ = await plan_with_content(settings, stores, desired, live)
            interruption = Interruption()
            api = Interrupting(client, interruption, 1, "before", signals=1)
            return await apply_plan(
                planned,
                desired,
                api,
                guard=guard,
                interruption=interruption,
                parallelism=1,
                uploads=Uploads(stores),
            ), api.calls

    result, calls = asyncio.run(apply_once())

    outcomes = [item.outcome for item in result.items]
    assert outcomes.count("done") == 1
    assert outcomes.count("not started") == len(outcomes) - 1
    assert calls == ["create_workflow"]
    assert len(tenant.templates()) == 1
    assert tenant.apply().code == 0
    assert converged(tenant)

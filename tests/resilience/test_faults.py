"""Issue 7: apply converges under faults, with no duplicate workflows or runs, and never touches
workflows it does not manage. Real HTTP on 127.0.0.1; seeded faults; bounded in time."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

from reconciler.apply import ApplyResult
from reconciler.plan.model import Plan
from tests.resilience.conftest import FAULTS, LOST_MODES, UNMANAGED, Spec, Tenant, planned_runs

ROUNDS = 30
FIRST = [f"wf-{i}" for i in range(5)]


def failures(result: ApplyResult | None) -> list[str]:
    if result is None:
        return []
    return [
        f"{i.address}: {i.outcome} {i.detail}" for i in result.items if i.outcome in ("failed", "skipped")
    ]


def edit(tenant: Tenant, round_: int) -> None:
    """Round n: a new manifest every 7th round, otherwise one spec, token or label edit."""
    if round_ % 7 == 3:
        tenant.write(f"wf-new-{round_}", Spec())
        return
    name = sorted(tenant.specs)[round_ % len(tenant.specs)]
    spec = tenant.specs[name]
    if round_ % 3 == 0:
        tenant.write(name, Spec(spec.team, spec.batch + 1, spec.token))  # update + rerun
    elif round_ % 3 == 1:
        tenant.write(name, Spec(spec.team, spec.batch, f"t{round_}"))  # rerun only
    else:
        tenant.write(name, Spec(f"team-{round_}", spec.batch, spec.token))  # update only


def test_thirty_rounds_of_edit_and_apply_converge_under_faults(tenant: Tenant) -> None:
    unmanaged = tenant.create_unmanaged()
    assert sorted(unmanaged) == sorted(UNMANAGED)
    for name in FIRST:
        tenant.write(name, Spec())
    tenant.server.app.emulator.log.clear()
    expected: Counter[str] = Counter()
    deadline = time.monotonic() + 90
    for round_ in range(ROUNDS):
        if round_:
            edit(tenant, round_)
        tenant.faults(**FAULTS, lost_response_mode=LOST_MODES[round_ % len(LOST_MODES)])
        planned, result = tenant.apply()
        assert planned.has_changes, f"round {round_}: the edit planned nothing"
        expected += planned_runs(planned)
        assert failures(result) == [], f"round {round_}"
        tenant.faults()  # check the outcome without faults
        assert not tenant.plan().has_changes, f"round {round_}: not converged"
        assert tenant.unmanaged_state() == unmanaged, f"round {round_}: an unmanaged workflow changed"
        assert max(tenant.managed_by_manifest().values()) == 1, f"round {round_}: duplicate workflow"
        runs = tenant.runs_by_template()
        surplus = {name: runs[name] - want for name, want in expected.items() if runs[name] != want}
        assert surplus == {}, f"round {round_}: runs beyond (or short of) those planned: {result}"
        tenant.advance(2 * 60)  # every run of this round finishes before the next
        assert time.monotonic() < deadline, f"too slow: {round_ + 1} rounds"

    assert len(tenant.managed_by_manifest()) == len(tenant.specs) == len(FIRST) + 4
    requests = tenant.requests()
    # The faults were really on: about a fifth of all requests met one, of every kind.
    kinds = Counter(r["fault"] for r in requests if r["fault"])
    assert sum(kinds.values()) >= 0.12 * len(requests), kinds
    assert {"500", "503", "429", "drop"} <= set(kinds), kinds
    assert {"lost-503", "lost-drop", "lost-500"} & set(kinds), kinds
    # No request ever named an unmanaged workflow, in its path or its body.
    for record in requests:
        text = record["path"] + json.dumps(record["body"])
        assert not any(name in text for name in UNMANAGED), record["endpoint"]


def concurrent_applies(tenant: Tenant, count: int = 2) -> list[tuple[Plan, ApplyResult | None]]:
    """``count`` applies started at once (threads released together), each with its own client."""
    barrier = threading.Barrier(count)
    results: list[tuple[Plan, ApplyResult | None]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(tenant.apply())
        except BaseException as exc:  # reported below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == count
    return results


@pytest.mark.parametrize("faults", [False, True], ids=["no-faults", "faults"])
def test_two_applies_at_once_create_no_duplicate_workflows(tenant: Tenant, faults: bool) -> None:
    unmanaged = tenant.create_unmanaged()
    for name in FIRST:
        tenant.write(name, Spec())
    if faults:
        tenant.faults(**FAULTS)
    results = concurrent_applies(tenant)
    tenant.faults()
    assert all(failures(result) == [] for _, result in results)
    assert tenant.managed_by_manifest() == Counter(dict.fromkeys(FIRST, 1))
    runs = tenant.runs_by_template()
    assert sorted(runs[name] for name in tenant.templates() if name not in UNMANAGED) == [1] * len(FIRST)
    assert not tenant.plan().has_changes
    assert tenant.unmanaged_state() == unmanaged


@pytest.mark.parametrize("faults", [False, True], ids=["no-faults", "faults"])
def test_two_applies_at_once_start_no_duplicate_runs(tenant: Tenant, faults: bool) -> None:
    for name in FIRST:
        tenant.write(name, Spec())
    planned, result = tenant.apply()
    assert failures(result) == []
    tenant.advance(2 * 60)
    for name in FIRST:
        tenant.write(name, Spec(token="t1"))  # a rerun of every workflow, asked for once
    if faults:
        tenant.faults(**FAULTS)
    results = concurrent_applies(tenant)
    tenant.faults()
    assert all(failures(result) == [] for _, result in results)
    submitted = Counter(i.workflow for _, result in results if result for i in result.items if i.run)
    # Each rerun was started by exactly one of the two applies; the other saw it claimed.
    assert submitted == Counter(item.workflow for item in planned.items)
    runs = tenant.runs_by_template()
    assert {name: runs[name] for name in submitted} == dict.fromkeys(submitted, 2)
    assert not tenant.plan().has_changes

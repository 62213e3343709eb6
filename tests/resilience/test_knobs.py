"""The pieces the resilience suite and the benchmark lean on: the rate limiter's one-second window,
the emulator's 429 knob and search cache, and the settling of a conditional update after a lost answer."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import httpx
import pytest

from reconciler.atlan import AtlanWorkflowClient, RateLimit, RetryPolicy, TokenBucket
from reconciler.emulator import EmulatorConfig, EmulatorServer, FaultConfig
from reconciler.emulator.faults import FaultInjector
from reconciler.errors import ConflictError
from tests.helpers import FIXTURES

KEY = "knobs-test-key"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.mark.parametrize(("per_second", "burst"), [(50.0, 50), (20.0, 5), (10.0, 30)])
def test_no_one_second_window_holds_more_than_the_limit(per_second: float, burst: int) -> None:
    clock = FakeClock()
    bucket = TokenBucket(RateLimit(per_second, burst), clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def go() -> None:
        for _ in range(300):
            await bucket.acquire()
            sent.append(clock.now)

    asyncio.run(go())
    cap = max(burst, per_second)
    assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) <= cap
    # ... and still close to the rate: 300 requests at the limit, within 10%.
    assert sent[-1] - sent[0] <= 1.1 * 300 / per_second


def test_error_rate_429_answers_with_retry_after() -> None:
    injector = FaultInjector(FaultConfig(error_rate_429=1.0, rate_limit_window_seconds=0.2), seed=1)
    decision = injector.decide("POST", "/api/service/workflows/indexsearch", "POST workflows/indexsearch")
    assert (decision.fault, decision.retry_after) == ("429", 1)
    calm = FaultInjector(FaultConfig(error_rate_429=0.0), seed=1)
    assert calm.decide("GET", "/api/service/whoami", "GET whoami").fault is None


def _body(name: str) -> dict[str, object]:
    body = json.loads((FIXTURES / "pyatlan-package-requests" / "asset_import_s3.json").read_text())
    body = copy.deepcopy(body)
    body["metadata"]["name"] = name
    body["metadata"]["labels"]["reconciler.dev/instance"] = "knobs"
    return body


def test_pages_of_one_listing_see_a_write_made_between_them(tmp_path: Path) -> None:
    config = EmulatorConfig(api_key=KEY, db_path=tmp_path / "e.db")
    query = {"query": {"term": {"metadata.labels.reconciler.dev/instance.keyword": {"value": "knobs"}}}}
    sort = [{"metadata.name.keyword": {"order": "asc"}}]
    with (
        EmulatorServer(config) as server,
        httpx.Client(
            base_url=server.base_url + "/api/service/", headers={"authorization": f"Bearer {KEY}"}
        ) as http,
    ):
        for index in (1, 3, 5):
            assert http.post(
                "workflows?submit=false", json=_body(f"csa-asset-import-100000000{index}")
            ).is_success

        def page(start: int) -> tuple[int, list[str]]:
            answer = http.post(
                "workflows/indexsearch", json={**query, "sort": sort, "from": start, "size": 2}
            )
            hits = answer.json()["hits"]
            return hits["total"]["value"], [h["_id"][-1] for h in hits["hits"]]

        assert page(0) == (3, ["1", "3"])
        assert page(2) == (3, ["5"])  # from the cached sort of the same store version
        assert http.post("workflows?submit=false", json=_body("csa-asset-import-1000000002")).is_success
        assert page(0) == (4, ["1", "2"])
        assert page(2) == (4, ["3", "5"])


def test_a_conditional_update_whose_answer_was_lost_is_settled_not_refused(tmp_path: Path) -> None:
    name = "csa-asset-import-1000000009"
    config = EmulatorConfig(api_key=KEY, db_path=tmp_path / "e.db")
    with EmulatorServer(config) as server:

        async def go() -> tuple[str, str | None]:
            retry = RetryPolicy.no_wait(attempts=4)
            async with AtlanWorkflowClient(server.base_url, KEY, retry=retry, rate_limit=None) as client:
                created = await client.create_workflow(_body(name), submit=False)
                body = _body(name)
                body["metadata"]["annotations"]["reconciler.dev/last-run"] = "claimed"
                body["metadata"]["resourceVersion"] = created.resource_version
                body["payload"] = []
                server.app.emulator.faults.configure(
                    FaultConfig(script=[{"fault": "lost-drop", "path": f"workflows/{name}$"}])
                )
                updated = await client.update_workflow(name, body)
                # A stale conditional update with no lost answer is still a conflict.
                with pytest.raises(ConflictError):
                    await client.update_workflow(name, body)
                return updated.annotations["reconciler.dev/last-run"], updated.resource_version

        claimed, version = asyncio.run(go())
    assert claimed == "claimed"
    assert version is not None
    updates = [r for r in server.app.emulator.log.records() if r["endpoint"] == "POST workflows/{name}"]
    assert [(r["fault"], r["committed"]) for r in updates[:1]] == [("lost-drop", True)]

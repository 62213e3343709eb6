"""The client-side token bucket, on a fake clock: waits are computed, never slept for real."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.atlan import RateLimit, TokenBucket
from tests.atlan.conftest import FakeTime, MakeClient, Server, search_reply

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("per_second", "burst", "requests", "sleeps"),
    [
        pytest.param(10.0, 5, 5, [], id="within-burst"),
        pytest.param(2.0, 1, 4, [0.5, 0.5, 0.5], id="steady"),
        pytest.param(4.0, 2, 4, [0.25, 0.25], id="burst-then-steady"),
    ],
)
async def test_bucket_waits(
    fake_time: FakeTime, per_second: float, burst: int, requests: int, sleeps: list[float]
) -> None:
    bucket = TokenBucket(RateLimit(per_second, burst), clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(requests):
        await bucket.acquire()
    assert fake_time.sleeps == pytest.approx(sleeps)


async def test_bucket_refills_while_idle(fake_time: FakeTime) -> None:
    bucket = TokenBucket(RateLimit(1.0, 2), clock=fake_time.clock, sleep=fake_time.sleep)
    await bucket.acquire()
    await bucket.acquire()
    fake_time.monotonic += 10  # idle: refills to the burst, not beyond
    for _ in range(3):
        await bucket.acquire()
    assert fake_time.sleeps == pytest.approx([1.0])


async def test_concurrent_waiters_share_the_rate(fake_time: FakeTime) -> None:
    bucket = TokenBucket(RateLimit(5.0, 1), clock=fake_time.clock, sleep=fake_time.sleep)
    start = fake_time.monotonic
    await asyncio.gather(*(bucket.acquire() for _ in range(6)))
    assert fake_time.monotonic - start == pytest.approx(1.0)  # 5 waits of 0.2 s, one after another


async def test_pause_holds_every_token(fake_time: FakeTime) -> None:
    bucket = TokenBucket(RateLimit(100.0, 100), clock=fake_time.clock, sleep=fake_time.sleep)
    bucket.pause(3.0)
    bucket.pause(1.0)  # a shorter pause does not shorten the longer one
    await bucket.acquire()
    assert fake_time.sleeps == pytest.approx([3.0])


async def test_client_takes_a_token_per_attempt(make_client: MakeClient, fake_time: FakeTime) -> None:
    server = Server({"POST workflows/indexsearch": search_reply([])})
    async with make_client(server, rate_limit=RateLimit(per_second=2.0, burst=1)) as client:
        for _ in range(3):
            await client.get_workflow("x")
    assert fake_time.sleeps == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize(("per_second", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_rate_limit_validation(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError, match="RateLimit"):
        RateLimit(per_second, burst)

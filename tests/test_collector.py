"""The collector policy of the CLI's process: survivors of a burst are frozen, of a small pause not."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from reconciler.collector import collector_paused, freeze_after_pauses


@pytest.fixture
def short_lived() -> Iterator[None]:
    gc.collect()
    gc.unfreeze()
    freeze_after_pauses()
    try:
        yield
    finally:
        freeze_after_pauses(False)
        gc.unfreeze()


@pytest.mark.usefixtures("short_lived")
def test_survivors_of_a_burst_are_frozen_and_of_a_small_pause_not() -> None:
    with collector_paused():
        small = [[] for _ in range(100)]
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()
    with collector_paused():
        burst = [[] for _ in range(60_000)]
    assert gc.get_freeze_count() >= len(burst)
    assert gc.isenabled()
    assert small


def test_a_library_process_keeps_its_own_policy() -> None:
    gc.unfreeze()
    with collector_paused():
        burst = [[] for _ in range(60_000)]
    assert gc.get_freeze_count() == 0
    assert burst


def test_overlapping_pauses_in_two_threads_resume_the_collector_once_both_end() -> None:
    """The manifests load in a worker thread while the event loop decodes pages: the pause that
    began first may end first, and must not turn the collector back on under the other."""
    worker_in, first_ended = threading.Event(), threading.Event()
    seen: list[bool] = []

    def worker() -> None:
        with collector_paused():
            worker_in.set()
            first_ended.wait(5)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=worker)
    with collector_paused():
        thread.start()
        assert worker_in.wait(5)
    first_ended.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()

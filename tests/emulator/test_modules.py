"""The app's parts in their own modules: public names, the sorted-match cache, the collector pause."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import reconciler.emulator
import reconciler.emulator.app
from reconciler.emulator.gc_pause import gc_paused
from reconciler.emulator.match_cache import SortedMatches


def test_the_public_names_resolve_from_the_package_and_the_app_module() -> None:
    for name in reconciler.emulator.__all__:
        assert getattr(reconciler.emulator, name) is not None
    for name in ("create_app", "Emulator", "EmulatorApp", "DroppedConnection"):
        assert getattr(reconciler.emulator, name) is getattr(reconciler.emulator.app, name)


def test_a_write_to_the_store_makes_cached_matches_unreachable() -> None:
    version = [1]
    cache = SortedMatches(lambda: version[0], size=2)
    body = {"query": {"term": {"metadata.name": "a"}}, "size": 5}
    key = cache.key("templates", body)
    assert key is not None
    cache.put(key, ["a"])
    assert cache.get(key) == ["a"]
    assert cache.key("templates", {**body, "from": 5, "size": 10}) == key  # pages share one entry
    version[0] = 2
    assert cache.key("templates", body) != key
    cache.put(key, ["stale"])  # scanned under the old version: not kept as this version's
    assert cache.get(key) == ["a"]


def test_searches_with_date_math_are_never_cached() -> None:
    cache = SortedMatches(lambda: 1)
    assert cache.key("runs", {"query": {"range": {"status.startedAt": {"gte": "now-2h"}}}}) is None


def test_the_cache_keeps_only_the_last_few_searches() -> None:
    cache = SortedMatches(lambda: 1, size=2)
    keys = [cache.key("templates", {"query": {"term": {"metadata.name": n}}}) for n in "abc"]
    for key, value in zip(keys, "abc", strict=True):
        assert key is not None
        cache.put(key, [value])
    assert [cache.get(key) for key in keys if key is not None] == [None, ["b"], ["c"]]


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_runs_again_when_the_last_overlapping_pause_ends() -> None:
    outer = gc_paused()
    outer.__enter__()
    assert not gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    outer.__exit__(None, None, None)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_pause_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()

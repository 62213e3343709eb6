"""What is shared between requests is read-only, and copies of it are ordinary data."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import orjson
import pytest

from reconciler.live import LiveWorkflow
from reconciler.packages.sharing import ReadOnlyParameter, compiled_parameter
from reconciler.packages.spec import parameters, tasks
from tests.plan.simulate import desired_from, manifest, write_manifests


def test_a_shared_parameter_cannot_be_changed_in_place() -> None:
    shared = compiled_parameter("assets_batch_size", 20)
    assert shared is compiled_parameter("assets_batch_size", 20)
    for change in (
        lambda p: p.__setitem__("value", 21),
        lambda p: p.update(value=21),
        lambda p: p.pop("value"),
        lambda p: p.clear(),
        lambda p: p.setdefault("x", 1),
        lambda p: p.__delitem__("name"),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change(shared)
    assert shared == {"name": "assets_batch_size", "value": 20}


def test_copies_are_plain_data_that_serialise_alike() -> None:
    shared = compiled_parameter("assets_prefix", "/in")
    assert isinstance(shared, ReadOnlyParameter)
    for copied in (copy.copy(shared), copy.deepcopy(shared), pickle.loads(pickle.dumps(shared))):
        assert type(copied) is dict
        assert copied == shared
        copied["value"] = "/out"  # a copy can be changed
    assert orjson.loads(orjson.dumps(shared)) == json.loads(json.dumps(shared)) == dict(shared)


def test_compiled_requests_and_listed_workflows_share_read_only_parameters(tmp_path: Path) -> None:
    desired = desired_from(write_manifests(tmp_path, a=manifest("a"), b=manifest("b")))
    a, b = ([p for t in tasks(d.compiled.body["spec"]) for p in parameters(t)] for d in desired)
    same = [pa for pa, pb in zip(a, b, strict=True) if pa == pb]
    assert same
    assert all(any(pa is pb for pb in b) for pa in same)

    source = copy.deepcopy(desired[0].compiled.body)
    live = LiveWorkflow.from_source(source)
    listed = [p for t in tasks(live.spec) for p in parameters(t)]
    assert all(
        isinstance(p, ReadOnlyParameter) for p in listed if isinstance(p.get("value"), str | int | bool)
    )

"""The desired state: what it keeps of each manifest, and how it is read alongside the live state."""

from __future__ import annotations

import asyncio
import gc
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from reconciler import cli
from reconciler import desired as desired_module
from reconciler.atlan import AtlanWorkflowClient
from reconciler.desired import DesiredWorkflow, read_desired
from reconciler.engine import plan_against_tenant
from reconciler.live import LiveWorkflow
from reconciler.manifest.loader import load_manifests
from reconciler.manifest.models import MANIFEST_MODELS
from reconciler.packages.compiler import compile_workflow
from reconciler.plan.model import Action, PruneOptions
from reconciler.settings import load_settings
from tests.helpers import EXAMPLES
from tests.plan.simulate import ENVIRON


def test_desired_workflows_carry_the_fields_planning_reads() -> None:
    desired = {d.name: d for d in read_desired([EXAMPLES], instance="default", environ=ENVIRON)}
    assert desired, "the examples compile"
    for item in desired.values():
        assert item.kind in MANIFEST_MODELS
        assert item.file.endswith((".yaml", ".yml"))
        assert item.compiled.name
        assert item.run_policy in {"on-change", "always", "never"}
    # Fields that the examples set, read through to the desired workflow.
    assert any(item.depends_on for item in desired.values())
    assert all(dependency in desired for item in desired.values() for dependency in item.depends_on)


def test_no_manifest_model_outlives_compiling() -> None:
    """At 10,000 manifests their models are about 50 MB: read_desired must not keep any."""
    gc.collect()
    before = _manifest_models()
    desired = read_desired([EXAMPLES], instance="default", environ=ENVIRON)
    gc.collect()
    assert desired
    assert _manifest_models() == before


def _manifest_models() -> int:
    return sum(
        1 for o in gc.get_objects() if isinstance(o, BaseModel) and type(o) in MANIFEST_MODELS.values()
    )


def test_the_listing_goes_out_while_the_manifests_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan takes about the longer of loading and listing, not their sum: the search is sent
    before the manifests are read (the load below waits for it, and would time out otherwise)."""
    listing_sent = threading.Event()
    list_managed = AtlanWorkflowClient.list_managed

    async def listing(self: AtlanWorkflowClient, instance: str) -> list[LiveWorkflow]:
        listing_sent.set()
        return await list_managed(self, instance)

    def slow_load(*args: Any, **kwargs: Any) -> list[DesiredWorkflow]:
        assert listing_sent.wait(10), "the listing waited for the manifests"
        return read_desired(*args, **kwargs)

    monkeypatch.setattr(AtlanWorkflowClient, "list_managed", listing)
    monkeypatch.setattr(desired_module, "read_desired", slow_load)
    desired, result, _ = asyncio.run(
        plan_against_tenant(load_settings(), [EXAMPLES], ENVIRON, PruneOptions())
    )
    assert listing_sent.is_set()
    assert {item.manifest for item in result.items} == {d.name for d in desired}
    assert all(item.actions == (Action.CREATE,) for item in result.items)


@pytest.mark.parametrize(
    "tenant",
    [
        {"ATLAN_BASE_URL": "http://127.0.0.1:9"},  # no API key: refused before any request
        {"ATLAN_BASE_URL": "http://127.0.0.1:9", "ATLAN_API_KEY": "k", "RECONCILER_RETRIES": "0"},  # refused
    ],
)
def test_a_problem_in_the_manifests_is_reported_before_the_tenants(
    tenant: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in tenant.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: x}\nspec: {}\n"
    )
    assert cli.main(["plan", str(tmp_path)]) == 1
    _, err = capsys.readouterr()
    assert f"{tmp_path / 'bad.yaml'}:4:7: spec: nothing to import" in err
    assert "127.0.0.1" not in err
    assert "ATLAN_API_KEY" not in err


def test_the_tenants_error_is_reported_when_the_manifests_are_valid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATLAN_BASE_URL", "http://127.0.0.1:9")
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["plan", str(EXAMPLES)]) == 1
    _, err = capsys.readouterr()
    assert "ATLAN_API_KEY is not set" in err


def test_equal_task_parameters_of_the_compiled_requests_are_one_object() -> None:
    desired = read_desired([EXAMPLES], instance="default", environ=ENVIRON)
    imports = [d for d in desired if d.kind == "AssetImport"]
    assert len(imports) > 1

    def parameter(item: DesiredWorkflow, name: str) -> Any:
        (found,) = [
            p
            for t in item.compiled.body["spec"]["templates"]
            for task in t["dag"]["tasks"]
            for p in task["arguments"]["parameters"]
            if p["name"] == name
        ]
        return found

    first, *others = imports
    assert all(parameter(first, "import_type") is parameter(other, "import_type") for other in others)
    # The compiled requests are still what compiling each manifest alone gives.
    alone = {
        item.name: compile_workflow(item.manifest, instance="default", environ=ENVIRON).body
        for item in load_manifests([EXAMPLES])
    }
    assert {d.name: d.compiled.body for d in desired} == alone

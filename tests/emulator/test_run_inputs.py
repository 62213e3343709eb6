"""Runs note which objects they read: ``status.inputs``, as the objects were when the run was created."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import package_body

NAME = "csa-asset-import-1700000000"
LINEAGE = "csa-lineage-builder-1700000000"
CSV = b"typeName,qualifiedName,name\nTable,default/snowflake/1700000000/DB/SCH/T,T\n"
BY_TEMPLATE = "spec.workflowTemplateRef.name.keyword"

Presign = Callable[..., str]


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def set_parameter(body: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    for parameter in body["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]:
        if parameter["name"] == name:
            parameter["value"] = value
    return body


def without_parameters(body: dict[str, Any], suffix: str) -> dict[str, Any]:
    arguments = body["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]
    arguments["parameters"] = [p for p in arguments["parameters"] if not p["name"].endswith(suffix)]
    return body


def tenant_body(name: str = NAME) -> dict[str, Any]:
    """A workflow without an object-store credential: its package reads the tenant's own store."""
    body = package_body("asset_import_default", name)
    body["payload"] = []
    return body


def runs(
    client: httpx.Client, query: dict[str, Any] | None = None, template: str = NAME
) -> list[dict[str, Any]]:
    """The runs' ``_source``, oldest first."""
    query = query or {"term": {BY_TEMPLATE: {"value": template}}}
    response = client.post("runs/indexsearch", json={"size": 50, "query": query})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]["hits"]
    return [hit["_source"] for hit in sorted(hits, key=lambda hit: hit["_seq_no"])]


def inputs(run: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = run["status"]["inputs"]
    return found


def submit(client: httpx.Client, name: str = NAME, path: str = "workflows/submit") -> None:
    body = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": name}
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text


def test_a_run_notes_the_tenant_store_objects_it_reads(client: httpx.Client, presign: Presign) -> None:
    metadata = {"x-amz-meta-reconciler-sha256": "digest-of-the-rendered-file"}
    assert httpx.put(presign("test/prefix/assets-test.csv"), content=CSV, headers=metadata).status_code == 200
    assert client.post("workflows?submit=true", json=tenant_body()).status_code == 200
    (run,) = runs(client)
    assert inputs(run) == [
        {
            "section": "assets",
            "store": "tenant",
            "key": "test/prefix/assets-test.csv",
            "state": "found",
            "etag": md5_etag(CSV),
            "size": len(CSV),
            "metadata": {"reconciler-sha256": "digest-of-the-rendered-file"},
        },
        {
            "section": "glossaries",
            "store": "tenant",
            "key": "test/prefix/glossaries-test.csv",
            "state": "missing",
        },
        {
            "section": "data_products",
            "store": "tenant",
            "key": "test/prefix/data-products-test.csv",
            "state": "missing",
        },
    ]


@pytest.mark.parametrize(
    ("fixture", "name", "store", "section", "key"),
    [
        ("asset_import_s3", NAME, "s3/my-bucket", "assets", "test/prefix/assets-test.csv"),
        ("asset_import_gcs", NAME, "gcs/my-bucket", "glossaries", "test/prefix/glossaries-test.csv"),
        (
            "asset_import_adls",
            NAME,
            "adls/test-adls-container",
            "data_products",
            "test/prefix/data-products-test.csv",
        ),
        ("lineage_builder_s3", LINEAGE, "s3/test-bucket", "lineage", "text-prefix/test-object-key"),
        ("lineage_builder_gcs", LINEAGE, "gcs/test-bucket", "lineage", "text-prefix/test-object-key"),
        ("lineage_builder_adls", LINEAGE, "adls/test-container", "lineage", "text-prefix/test-object-key"),
    ],
)
def test_a_run_notes_the_stand_in_bucket_its_credential_names(
    client: httpx.Client, admin: httpx.Client, fixture: str, name: str, store: str, section: str, key: str
) -> None:
    assert admin.put(f"objects/{store}/{key}", content=CSV).status_code == 200
    assert client.post("workflows?submit=true", json=package_body(fixture, name)).status_code == 200
    (run,) = runs(client, template=name)
    noted = {item["section"]: item for item in inputs(run)}
    assert noted[section] == {
        "section": section,
        "store": store,
        "key": key,
        "state": "found",
        "etag": md5_etag(CSV),
        "size": len(CSV),
        "metadata": {},
    }
    assert {item["state"] for s, item in noted.items() if s != section} <= {"missing"}


def test_each_run_keeps_the_object_as_it_was_when_the_run_was_created(
    client: httpx.Client, admin: httpx.Client
) -> None:
    location = "objects/tenant/test/prefix/assets-test.csv"
    admin.put(location, content=b"version one\n")
    client.post("workflows?submit=true", json=tenant_body())
    admin.put(location, content=b"version two, longer\n")
    submit(client)
    admin.delete(location)
    submit(client, path="workflows/triggerAsOwner")
    assets = [inputs(run)[0] for run in runs(client)]
    assert [(a["state"], a.get("etag"), a.get("size")) for a in assets] == [
        ("found", md5_etag(b"version one\n"), 12),
        ("found", md5_etag(b"version two, longer\n"), 20),
        ("missing", None, None),
    ]


def test_a_submitted_run_reads_the_stored_credential(client: httpx.Client, admin: httpx.Client) -> None:
    admin.put("objects/s3/my-bucket/test/prefix/assets-test.csv", content=CSV)
    assert client.post("workflows", json=package_body("asset_import_s3", NAME)).status_code == 200
    submit(client)
    (run,) = runs(client)
    assert inputs(run)[0]["store"] == "s3/my-bucket"
    assert inputs(run)[0]["state"] == "found"


def test_a_credential_the_emulator_does_not_know_makes_the_store_unknown(client: httpx.Client) -> None:
    body = set_parameter(tenant_body(), "cloud_source", "7d1b54a4-0000-4000-8000-000000000000")
    client.post("workflows?submit=true", json=body)
    (run,) = runs(client)
    assert {(item["store"], item["state"]) for item in inputs(run)} == {("unknown", "unknown")}


def test_a_key_no_file_can_hold_is_noted_as_unknown(client: httpx.Client) -> None:
    body = set_parameter(tenant_body(), "assets_key", "../../outside.csv")
    client.post("workflows?submit=true", json=body)
    (run,) = runs(client)
    assert inputs(run)[0] == {
        "section": "assets",
        "store": "tenant",
        "key": "/test/prefix/../../outside.csv",
        "state": "unknown",
    }


def test_a_workflow_that_names_no_file_gets_no_inputs(client: httpx.Client) -> None:
    client.post("workflows?submit=true", json=without_parameters(tenant_body(), "_key"))
    (run,) = runs(client)
    assert "inputs" not in run["status"]


def test_the_runs_search_filters_on_inputs(client: httpx.Client, admin: httpx.Client) -> None:
    admin.put("objects/tenant/test/prefix/assets-test.csv", content=CSV)
    client.post("workflows?submit=true", json=tenant_body())
    client.post("workflows?submit=true", json=package_body("lineage_builder_s3", LINEAGE))
    query = {"term": {"status.inputs.etag": md5_etag(CSV)}}
    assert [run["spec"]["workflowTemplateRef"]["name"] for run in runs(client, query)] == [NAME]
    missing = {"term": {"status.inputs.store": "s3/test-bucket"}}
    assert [run["spec"]["workflowTemplateRef"]["name"] for run in runs(client, missing)] == [LINEAGE]

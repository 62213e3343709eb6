"""Build desired and "live" workflows for planner, renderer and applier tests.

``live_after_apply`` plays the server: it stores what a create of each planned item would leave
on the tenant, so a plan against it must be empty.
"""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.desired import DesiredWorkflow, read_desired
from reconciler.live import LiveWorkflow
from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER
from reconciler.plan.model import Plan

INSTANCE = "prod"
GUID = "5b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
# Every variable the example manifests reference, with values no test output may show.
ENVIRON = {
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-0c8e1f",
    "GCS_SERVICE_ACCOUNT_JSON": '{"private_key": "gcs-secret-9d2a7b"}',
    "AZURE_CLIENT_SECRET": "azure-secret-4e6f3c",
}


def fixed_salt(value: str = "00" * 16) -> Any:
    """A deterministic ``salt`` for ``plan``."""
    return lambda: value


def write_manifests(directory: Path, **documents: str) -> Path:
    """Write each ``name=yaml`` as ``<name>.yaml`` under ``directory``; returns ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        (directory / f"{name}.yaml").write_text(textwrap.dedent(text))
    return directory


def desired_from(
    paths: Path | Sequence[Path], *, environ: Mapping[str, str] = ENVIRON, instance: str = INSTANCE
) -> list[DesiredWorkflow]:
    return read_desired(
        [paths] if isinstance(paths, Path) else list(paths), instance=instance, environ=environ
    )


def stored_source(
    desired: DesiredWorkflow,
    annotations: Mapping[str, str],
    *,
    resource_version: str = "1",
    guid: str = GUID,
) -> dict[str, Any]:
    """The ``_source`` the server keeps after creating ``desired`` with the planner's annotations."""
    body = copy.deepcopy(desired.compiled.body)
    metadata = body["metadata"]
    metadata["annotations"].update(annotations)
    metadata["resourceVersion"] = resource_version
    if body["payload"]:
        for template in body["spec"]["templates"]:
            for task in template["dag"]["tasks"]:
                for parameter in task["arguments"]["parameters"]:
                    if parameter["name"] == "cloud_source" and parameter["value"] == CREDENTIAL_PLACEHOLDER:
                        parameter["value"] = guid
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": metadata,
        "spec": body["spec"],
    }


def sources_after_apply(plan: Plan, desired: Sequence[DesiredWorkflow]) -> list[dict[str, Any]]:
    by_manifest = {item.name: item for item in desired}
    return [
        stored_source(by_manifest[item.manifest], item.annotations, resource_version=str(index + 1))
        for index, item in enumerate(plan.items)
        if item.manifest is not None
    ]


def live_after_apply(plan: Plan, desired: Sequence[DesiredWorkflow]) -> list[LiveWorkflow]:
    """What the tenant holds once ``plan`` (of creates) was applied."""
    return [LiveWorkflow.from_source(source) for source in sources_after_apply(plan, desired)]


def parameters(source: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The (mutable) parameter list of the single task of a stored source."""
    parameters: list[dict[str, Any]] = source["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"][
        "parameters"
    ]
    return parameters


def manifest(
    name: str = "assets",
    *,
    kind: str = "AssetImport",
    labels: Mapping[str, str] | None = None,
    store: str | None = "s3",
    prefix: str = "/in",
    object_key: str = "assets.csv",
    policy: str | None = None,
    token: str | None = None,
    schedule: Mapping[str, str] | None = None,
    adopt: str | None = None,
    depends_on: Sequence[str] = (),
) -> str:
    """A small manifest as YAML text (JSON is YAML)."""
    spec: dict[str, Any] = {}
    if store == "s3":
        spec["object_store"] = {
            "s3": {
                "bucket": "acme",
                "region": "us-west-1",
                "access_key": "${env:AWS_ACCESS_KEY_ID}",
                "secret_key": "${env:AWS_SECRET_ACCESS_KEY}",
            }
        }
    elif store == "gcs":
        spec["object_store"] = {
            "gcs": {
                "project_id": "acme",
                "service_account_json": "${env:GCS_SERVICE_ACCOUNT_JSON}",
                "bucket": "acme",
            }
        }
    if kind == "AssetImport":
        spec["assets"] = {"prefix": prefix, "object_key": object_key}
    else:
        spec["lineage"] = {"prefix": prefix, "object_key": object_key}
    run = {key: value for key, value in (("policy", policy), ("token", token)) if value is not None}
    if run:
        spec["run"] = run
    if schedule is not None:
        spec["schedule"] = dict(schedule)
    if adopt is not None:
        spec["adopt"] = adopt
    if depends_on:
        spec["depends_on"] = list(depends_on)
    document = {
        "apiVersion": "reconciler/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": spec,
    }
    return json.dumps(document, indent=2) + "\n"

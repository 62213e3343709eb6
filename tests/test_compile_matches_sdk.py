"""Each SDK request fixture is reproduced by a manifest, up to the name-derived fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.manifest.loader import load_manifests
from reconciler.packages.compiler import compile_workflow
from reconciler.packages.identity import CREDENTIAL_ANNOTATION, INSTANCE_LABEL, MANIFEST_LABEL
from tests.helpers import FIXTURES, SDK_SECRETS, TEST_MANIFESTS

FIXTURE_NAMES = sorted(p.stem for p in (FIXTURES / "pyatlan-package-requests").glob("*.json"))


def _with_fixture_name(body: dict[str, Any], ours: str, theirs: str) -> dict[str, Any]:
    """Replace our derived name by the fixture's epoch name, and drop our tracking labels."""
    text = json.dumps(body).replace(ours, theirs)
    renamed: dict[str, Any] = json.loads(text)
    labels = renamed["metadata"]["labels"]
    assert labels.pop(INSTANCE_LABEL) == "default"
    assert labels.pop(MANIFEST_LABEL)
    annotations = renamed["metadata"]["annotations"]
    for key in [k for k in annotations if k.startswith("reconciler.dev/")]:
        assert key == CREDENTIAL_ANNOTATION, f"unexpected annotation {key}"
        visible = json.loads(annotations.pop(key))
        assert set(visible) == {"authType", "username", "extra"}  # never the password
    return renamed


def test_there_are_seven_fixtures() -> None:
    assert len(FIXTURE_NAMES) == 7


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
def test_manifest_compiles_to_the_sdk_request(fixture: str) -> None:
    expected = json.loads((FIXTURES / "pyatlan-package-requests" / f"{fixture}.json").read_text())
    (loaded,) = load_manifests([TEST_MANIFESTS / "sdk" / f"{fixture}.yaml"])
    compiled = compile_workflow(loaded.manifest, instance="default", environ=SDK_SECRETS)

    actual = _with_fixture_name(compiled.body, compiled.name, expected["metadata"]["name"])

    assert actual == expected
    # Parameter order is the SDK's call order, and JSON types survive (true stays true, 20 stays 20).
    ours = actual["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    theirs = expected["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    assert [(p["name"], type(p["value"])) for p in ours] == [(p["name"], type(p["value"])) for p in theirs]


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
def test_name_fields_agree(fixture: str) -> None:
    (loaded,) = load_manifests([TEST_MANIFESTS / "sdk" / f"{fixture}.yaml"])
    compiled = compile_workflow(loaded.manifest, instance="default", environ=SDK_SECRETS)
    metadata = compiled.body["metadata"]
    assert metadata["name"] == compiled.name
    assert metadata["annotations"]["orchestration.atlan.com/atlanName"] == compiled.name
    assert compiled.body["payload"][0]["body"]["name"] == f"{compiled.name}-0"
    assert Path(fixture).stem.replace("_", "-").startswith(compiled.name.rsplit("-", 1)[0][4:])

"""The JSON Schema and the README's field reference are generated, committed, and cannot drift."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from reconciler.manifest.loader import load_text
from reconciler.manifest.schema import field_reference, manifest_json_schema, manifest_json_schema_text
from tests.helpers import EXAMPLES, REPO

EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.yaml"))


def test_committed_schema_is_current() -> None:
    assert (EXAMPLES / "reconciler.schema.json").read_text() == manifest_json_schema_text(), (
        "regenerate with: reconciler schema > manifests/reconciler.schema.json"
    )


def test_readme_field_reference_is_current() -> None:
    readme = (REPO / "README.md").read_text()
    start, end = "<!-- field-reference:start -->\n", "<!-- field-reference:end -->"
    assert start in readme, "README.md lacks the generated field reference"
    assert readme.split(start, 1)[1].split(end, 1)[0].strip() == field_reference().strip(), (
        "regenerate with: make docs"
    )


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_examples_carry_the_modeline_and_satisfy_the_schema(path: Any) -> None:
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../reconciler.schema.json\n")
    validator = jsonschema.Draft202012Validator(manifest_json_schema())
    for document in YAML(typ="safe").load_all(text):
        validator.validate(json.loads(json.dumps(document, default=str)))


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: a}\nspec: {assets: {prefix: p}}\n",
        "apiVersion: reconciler/v1\nkind: LineageBuilder\nmetadata: {name: a}\nspec: {lineage: {prefix: p, object_key: k}, typo: 1}\n",
        "apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: a}\n"
        "spec: {assets: {prefix: p, object_key: k}, object_store: {s3: {bucket: b, region: r, access_key: a, secret_key: literal}}}\n",
    ],
)
def test_schema_rejects_what_the_loader_rejects(text: str) -> None:
    _, problems = load_text(text, "m.yaml")
    assert problems
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(YAML(typ="safe").load(text), manifest_json_schema())

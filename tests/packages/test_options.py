"""Issue 18: every option of the two packages compiles to the package's own parameter name and value.

The names and values below are written out from the packages' option lists, not from the
compiler's table: ../shared/atlan-csv-formats.md §6.1-§6.2 (asset import, package.pkl) and §9.2
(lineage builder, package.pkl and LineageBuilderCfg.kt). Requests the SDK can express are held
to the SDK's own fixtures by tests/test_compile_matches_sdk.py; the rest to the golden requests
in tests/expected/requests/ (its README says where each name comes from).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import DataError
from reconciler.manifest.loader import load_manifests, load_text
from reconciler.packages.compiler import compile_workflow
from reconciler.packages.spec import parameter_values
from tests.helpers import TEST_MANIFESTS

GOLDEN = Path(__file__).resolve().parent.parent / "expected" / "requests"
FILE = {"prefix": "/in", "object_key": "file.csv"}


def compiled_parameters(
    kind: str, spec: dict[str, Any], environ: dict[str, str] | None = None
) -> dict[str, Any]:
    document = {"apiVersion": "reconciler/v1", "kind": kind, "metadata": {"name": "options"}, "spec": spec}
    loaded, problems = load_text(json.dumps(document), "options.yaml")
    assert problems == [], [str(p) for p in problems]
    body = compile_workflow(loaded[0].manifest, instance="default", environ=environ or {}).body
    return parameter_values(body["spec"])


def option(section: str, field: str, value: Any, parameter: str) -> Any:
    """An ``advanced:`` option: its parameter, with the section's config switched to advanced."""
    expected = {parameter: value, f"{section}_config": "advanced"}
    return pytest.param(
        "AssetImport",
        {section: {**FILE, "advanced": {field: value}}},
        expected,
        id=f"{section}.{field}={value}",
    )


HANDLING = (
    ("cm_handling", ("ignore", "merge", "overwrite")),
    ("tag_handling", ("ignore", "append", "replace", "remove")),
    ("link_idempotency", ("url", "name")),
)
ROWS = [
    # the files' input handling (not gated)
    *(
        pytest.param(
            "AssetImport", {"assets": {**FILE, "input_handling": v}}, {"assets_upsert_semantic": v}, id=v
        )
        for v in ("upsert", "partial", "update")
    ),
    *(
        pytest.param(
            "AssetImport", {s: {**FILE, "input_handling": v}}, {f"{s}_upsert_semantic": v}, id=f"{s}.{v}"
        )
        for s in ("glossaries", "data_products")
        for v in ("upsert", "update")
    ),
    # delta: not gated by assets_config
    *(
        pytest.param(
            "AssetImport",
            {"assets": {**FILE, "delta": {"semantic": v}}},
            {"assets_delta_semantic": v, "assets_config": "default"},
            id=f"delta.semantic={v}",
        )
        for v in ("full", "delta")
    ),
    *(
        pytest.param(
            "AssetImport",
            {"assets": {**FILE, "delta": {"semantic": "full", field: v}}},
            {"assets_delta_semantic": "full", parameter: v},
            id=f"delta.{field}={v}",
        )
        for field, parameter, values in (
            ("removal", "assets_delta_removal_type", ("archive", "purge")),
            ("reload", "assets_delta_reload_calculation", ("all", "changes")),
        )
        for v in values
    ),
    # gated options of the three import files
    *(
        option(s, field, v, f"{s}_{field}")
        for s in ("assets", "glossaries", "data_products")
        for field, values in HANDLING
        for v in values
    ),
    *(
        option(s, field, value, f"{s}_{suffix}")
        for s in ("assets", "glossaries", "data_products", "tags")
        for field, suffix, value in (
            ("fail_on_errors", "fail_on_errors", False),
            ("field_separator", "field_separator", ";"),
            ("batch_size", "batch_size", 7),
        )
    ),
    option("assets", "case_sensitive_match", False, "assets_case_sensitive"),
    option("assets", "is_table_view_agnostic", True, "assets_table_view_agnostic"),
    # any attribute name, as the JSON list text the SDK sends
    *(
        pytest.param(
            "AssetImport",
            {
                s: {
                    **FILE,
                    "advanced": {"remove_attributes": ["certificateStatusMessage", "announcementTitle"]},
                }
            },
            {
                f"{s}_attr_to_overwrite": '["certificateStatusMessage","announcementTitle"]',
                f"{s}_config": "advanced",
            },
            id=f"{s}.remove_attributes",
        )
        for s in ("assets", "glossaries", "data_products")
    ),
    # the tags file
    pytest.param(
        "AssetImport",
        {"tags": {"prefix": "/tags", "object_key": "tags.csv"}},
        {"tags_prefix": "/tags", "tags_key": "tags.csv", "tags_config": "default"},
        id="tags",
    ),
    # the input encoding
    *(
        pytest.param(
            "AssetImport", {"assets": FILE, "input_encoding": v}, {"input_encoding": v}, id=f"encoding={v}"
        )
        for v in ("UTF-8", "windows-1252", "ISO-8859-1", "UTF-16LE")
    ),
    # the lineage builder's options (§9.2)
    *(
        pytest.param(
            "LineageBuilder",
            {"lineage": FILE, "options": {field: v}},
            {parameter: v, "lineage_upsert_semantic": "partial"},
            id=f"lineage.{field}={v}",
        )
        for field, parameter, values in (
            ("fail_on_errors", "lineage_fail_on_errors", (True, False)),
            ("case_sensitive_match", "lineage_case_sensitive", (True, False)),
            ("field_separator", "field_separator", (";",)),
            ("batch_size", "batch_size", (50,)),
            ("cm_handling", "cm_handling", ("ignore", "merge", "overwrite")),
            ("tag_handling", "tag_handling", ("ignore", "append", "replace", "remove")),
        )
        for v in values
    ),
    *(
        pytest.param(
            "LineageBuilder",
            {"lineage": FILE, "options": {"input_handling": v}},
            {"lineage_upsert_semantic": v},
            id=f"lineage.input_handling={v}",
        )
        for v in ("upsert", "partial", "update")
    ),
    # parameters the manifest does not model, passed through with their JSON types
    *(
        pytest.param(
            kind, {section: FILE, "parameters": {"a_new_option": v}}, {"a_new_option": v}, id=f"{kind}:{v!r}"
        )
        for kind, section in (("AssetImport", "assets"), ("LineageBuilder", "lineage"))
        for v in ("text", True, 3, 2.5, None)
    ),
]


@pytest.mark.parametrize(("kind", "spec", "expected"), ROWS)
def test_each_option_compiles_to_the_packages_parameter(
    kind: str, spec: dict[str, Any], expected: dict[str, Any]
) -> None:
    found = compiled_parameters(kind, spec)
    assert {name: found.get(name, "<missing>") for name in expected} == expected
    assert {name: type(found[name]) for name in expected} == {name: type(v) for name, v in expected.items()}


def test_only_what_is_set_is_written() -> None:
    # The package applies its own defaults (archive, all; delta; UTF-8; merge...): not repeated.
    found = compiled_parameters("AssetImport", {"assets": {**FILE, "delta": {"semantic": "full"}}})
    assert list(found) == [
        "import_type",
        "cloud_source",
        "assets_prefix",
        "assets_key",
        "assets_upsert_semantic",
        "assets_delta_semantic",
        "assets_config",
        "glossaries_config",
        "data_products_config",
    ]


def test_a_tags_file_alone_is_an_import_and_only_it_adds_tags_config() -> None:
    found = compiled_parameters("AssetImport", {"tags": FILE})
    assert found == {
        "import_type": "CLOUD",
        "cloud_source": "{{credentialGuid}}",
        "tags_prefix": "/in",
        "tags_key": "file.csv",
        "assets_config": "default",
        "glossaries_config": "default",
        "data_products_config": "default",
        "tags_config": "default",
    }


def test_passed_through_text_resolves_references_and_keeps_escaped_ones() -> None:
    found = compiled_parameters(
        "AssetImport",
        {"assets": FILE, "parameters": {"from_env": "${env:OPTION}", "literal": "$${env:OPTION}"}},
        {"OPTION": "value"},
    )
    assert (found["from_env"], found["literal"]) == ("value", "${env:OPTION}")


@pytest.mark.parametrize("name", ["asset_import_all_options", "lineage_builder_all_options"])
def test_the_golden_request(name: str) -> None:
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    (loaded,) = load_manifests([TEST_MANIFESTS / "options" / f"{name}.yaml"])
    compiled = compile_workflow(
        loaded.manifest, instance="default", environ={"TEST_SECRET_KEY": "test-secret-key"}
    )
    assert compiled.body == expected
    # Order too: the package reads parameters by name, but a reviewer reads the request in order.
    assert list(parameter_values(compiled.body["spec"])) == list(parameter_values(expected["spec"]))


def test_the_tags_file_can_come_from_a_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.desired import read_desired

    monkeypatch.chdir(tmp_path)  # outside git, sources stay under the current directory
    (tmp_path / "tags.csv").write_text("Atlan tag name,Color,Description\nPII,Red,Personal data\n")
    (tmp_path / "tags.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: tags}\n"
        "spec: {tags: {prefix: /tags, object_key: tags.csv, source: tags.csv}}\n"
    )
    [desired] = read_desired([tmp_path / "tags.yaml"], instance="default", environ={})
    [file] = desired.compiled.files
    assert (file.section, file.key, file.rows) == ("tags", "tags/tags.csv", 1)

    (tmp_path / "tags.csv").write_text("Color,Description\nRed,Personal data\n")
    with pytest.raises(DataError) as caught:
        read_desired([tmp_path / "tags.yaml"], instance="default", environ={})
    [problem] = caught.value.problems
    assert str(problem).endswith("tags.csv:1: Atlan tag name: is missing: the tags file needs it")

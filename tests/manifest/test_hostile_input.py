"""Hostile manifest text never crashes the loader: deep nesting, characters YAML refuses, the
credential placeholder; and every bad label is reported, each at its own line."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.errors import ManifestError
from reconciler.manifest.loader import load_manifests, load_text
from reconciler.manifest.positions import FieldPath, format_path
from reconciler.manifest.schema import manifest_json_schema
from tests.manifest.test_loader_errors import VALID as ASSET_IMPORT

# One valid manifest of each kind.
VALID = {
    "AssetImport": ASSET_IMPORT,
    "LineageBuilder": ASSET_IMPORT.replace("AssetImport", "LineageBuilder").replace(
        "  assets:", "  lineage:"
    ),
}
MAX_DEPTH = 64  # the documented limit (README, Manifests)
TOO_DEEP = f"YAML is nested more than {MAX_DEPTH} collections deep"


def problems_of(text: str) -> list[str]:
    _, problems = load_text(text, "m.yaml")
    return [str(p) for p in problems]


# -- nesting depth --


def _block_mappings(depth: int) -> str:
    return "".join(" " * level + f"k{level}:\n" for level in range(depth)) + " " * depth + "v\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("[" * 500 + "]" * 500, "1:65", id="flow sequences"),
        pytest.param("a: " + "{b: " * 500 + "c" + "}" * 500, "1:256", id="flow mappings"),
        pytest.param("[a: " * 500 + "c" + "]" * 500, "1:129", id="single-pair mappings"),
        pytest.param("- " * 500 + "x\n", "1:129", id="compact block sequences"),
        pytest.param(_block_mappings(500), "65:65", id="block mappings"),
        pytest.param(VALID["AssetImport"] + "---\n" + "[" * 500, "10:65", id="in a second document"),
    ],
)
def test_too_deep_nesting_is_refused_at_the_first_collection_too_deep(text: str, where: str) -> None:
    assert problems_of(text) == [f"m.yaml:{where}: {TOO_DEEP}"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * MAX_DEPTH + "]" * MAX_DEPTH, id="flow"),
        pytest.param(_block_mappings(MAX_DEPTH - 1), id="block"),
        pytest.param("---\n".join(["x: " + "[" * 40 + "]" * 40 + "\n"] * 3), id="per document"),
    ],
)
def test_nesting_up_to_the_limit_is_read(text: str) -> None:
    found = problems_of(text)
    assert found  # not a manifest, but read: the problems are the models'
    assert not any("nested" in line for line in found), found


def test_nesting_through_aliases_is_refused() -> None:
    # Each line is two levels deep; the aliases stack them 600 deep.
    lines = ["a0: &a0 [x]", *(f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 600))]
    found = problems_of("\n".join(lines) + "\n")
    assert f"m.yaml:1:5: {TOO_DEEP} (through aliases)" in found


def test_nesting_through_merge_keys_is_refused() -> None:
    lines = ["a0: &a0 {x: 1}", *(f"a{i}: &a{i} {{<<: *a{i - 1}, y: 1}}" for i in range(1, 600))]
    found = problems_of("\n".join(lines) + "\n")
    assert f"m.yaml:64:6: {TOO_DEEP} (through aliases)" in found


def test_a_hundred_thousand_levels_exit_1_through_the_cli(tmp_path: Path) -> None:
    # 100 KB of "[": ruamel's C composer recursed on the C stack until the process died (SIGSEGV).
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 100_000)
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(deep)],
        capture_output=True,
        text=True,
        env={**os.environ, "ATLAN_API_KEY": "hostile-input-key"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"{deep}:1:65: {TOO_DEEP}\nerror: 1 problem in 1 file\n"


# -- characters YAML refuses --


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "apiVersion: reconciler/v1\nkind: Asset\x07Import\n",
            ["m.yaml:2:12: control character U+0007 is not allowed in YAML"],
            id="bell",
        ),
        pytest.param(
            # columns count characters, not UTF-8 bytes; \r\n is one line break
            "name: é\r\nlabel: ünï\x00\r\n  x: \x1b[31m\x7f\n",
            [
                "m.yaml:2:11: control character U+0000 is not allowed in YAML",
                "m.yaml:3:6: control character U+001B is not allowed in YAML",
                "m.yaml:3:11: control character U+007F is not allowed in YAML",
            ],
            id="every one, after non-ASCII text",
        ),
        pytest.param(
            "a: b\n\ufffe\n", ["m.yaml:2:1: character U+FFFE is not allowed in YAML"], id="noncharacter"
        ),
        pytest.param("a: \x9f\n", ["m.yaml:1:4: control character U+009F is not allowed in YAML"], id="C1"),
    ],
)
def test_characters_yaml_refuses_are_reported_at_their_line_and_column(
    text: str, expected: list[str]
) -> None:
    assert problems_of(text) == expected


def test_a_file_full_of_nul_characters_gives_a_few_lines() -> None:
    found = problems_of("a: b\n" + "x\x00" * 500)
    assert len(found) == 11  # ten, then how many more
    assert found[0] == "m.yaml:2:2: control character U+0000 is not allowed in YAML"
    assert found[-1] == "m.yaml:2:22: and 490 more characters that are not allowed in YAML"


def test_a_file_that_is_not_utf8_says_where(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes("a: é\nb: c\xff\n".encode("latin-1").replace(b"\xe9", "é".encode()))
    with pytest.raises(ManifestError) as caught:
        load_manifests([path])
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:5: not UTF-8 (byte 0xff); save the file as UTF-8"
    ]


# -- labels: every bad one, each where it stands --


def test_every_bad_label_is_reported_at_its_own_line() -> None:
    labels = ["team: data", "bad key: x", "reconciler.dev/instance: y", "tier: not ok!", "Also_Bad/x: z"]
    text = VALID["AssetImport"].replace(
        "  name: assets\n", "  name: assets\n  labels:\n" + "".join(f"    {label}\n" for label in labels)
    )
    assert problems_of(text) == [
        "m.yaml:7:5: metadata.labels.bad key: label key 'bad key' is not a Kubernetes label key "
        "([prefix/]name, name at most 63 letters, digits, '-', '_', '.')",
        "m.yaml:8:5: metadata.labels.reconciler.dev/instance: label key 'reconciler.dev/instance' "
        "uses a prefix the reconciler or Atlan writes itself",
        "m.yaml:9:11: metadata.labels.tier: label value 'not ok!' is not a Kubernetes label value "
        "(at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)",
        "m.yaml:10:5: metadata.labels.Also_Bad/x: label key 'Also_Bad/x' is not a Kubernetes label key "
        "([prefix/]name, name at most 63 letters, digits, '-', '_', '.')",
    ]


def test_every_unknown_field_of_a_mapping_is_reported_with_a_suggestion() -> None:
    text = VALID["AssetImport"].replace(
        "    prefix: /p\n", "    prefix: /p\n    prefx: /q\n    objectkey: b\n"
    )
    found = problems_of(text)
    assert [line.split(" (valid:")[0] for line in found] == [
        "m.yaml:8:5: spec.assets.prefx: unknown field 'prefx' (did you mean 'prefix'?)",
        "m.yaml:9:5: spec.assets.objectkey: unknown field 'objectkey' (did you mean 'object_key'?)",
    ]


# -- {{credentialGuid}}: in no string of a manifest --

PLACEHOLDER = "{{credentialGuid}}"
REFUSED = "{{credentialGuid}} is not allowed: Atlan replaces it on the server with a credential id"


def _string_fields(node: dict[str, Any], defs: dict[str, Any], path: FieldPath) -> Iterator[FieldPath]:
    """The path of every string a manifest may hold, by its JSON schema (a map's key ends in "")."""
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    for option in node.get("anyOf", ()):
        yield from _string_fields(option, defs, path)
    kind = node.get("type")
    if kind == "string" and "const" not in node and "enum" not in node:
        yield path
    elif kind == "array":
        yield from _string_fields(node["items"], defs, (*path, 0))
    elif kind == "object":
        for name, child in node.get("properties", {}).items():
            yield from _string_fields(child, defs, (*path, name))
        if isinstance(node.get("additionalProperties"), dict):
            yield (*path, "")
            yield from _string_fields(node["additionalProperties"], defs, (*path, "team"))


def _placeholder_cases() -> Iterator[Any]:
    schema = manifest_json_schema()
    for kind in VALID:
        for path in _string_fields(schema["$defs"][f"{kind}Manifest"], schema["$defs"], ()):
            yield pytest.param(kind, path, id=f"{kind}:{format_path(path)}")


def _set(document: Any, path: FieldPath, value: str) -> None:
    for part, following in itertools.pairwise(path):
        if isinstance(document, list):
            document.append({} if isinstance(following, str) else [])
            document = document[-1]
        else:
            document = document.setdefault(part, {} if isinstance(following, str) else [])
    if isinstance(document, list):
        document.append(value)
    elif path[-1] == "":
        document[f"x{value}"] = "v"
    else:
        document[path[-1]] = value


def test_the_schema_lists_the_string_fields() -> None:
    cases = list(_placeholder_cases())
    assert len(cases) > 30
    ids = {case.id for case in cases}
    assert {
        "AssetImport:metadata.labels.",
        "AssetImport:spec.run.token",
        "LineageBuilder:spec.ignore[0]",
    } <= ids


@pytest.mark.parametrize(("kind", "path"), list(_placeholder_cases()))
def test_the_credential_placeholder_is_refused_in_every_string(kind: str, path: FieldPath) -> None:
    document = YAML(typ="safe").load(VALID[kind])
    _set(document, path, f"a-{PLACEHOLDER}-b")
    buffer = io.StringIO()
    YAML(typ="safe").dump(document, buffer)
    shown = format_path((*path[:-1], f"xa-{PLACEHOLDER}-b") if path[-1] == "" else path)
    found = problems_of(buffer.getvalue())
    assert any(f": {shown}: {REFUSED}" in line for line in found), found


def test_the_placeholder_is_refused_at_its_line_without_echoing_a_secret() -> None:
    text = VALID["AssetImport"].replace(
        "spec:\n",
        "spec:\n  object_store:\n    s3:\n      bucket: b\n      region: r\n      access_key: a\n"
        "      secret_key: 'hunter2{{ credentialGuid }}'\n",
    )
    (problem,) = problems_of(text)
    assert problem.startswith(f"m.yaml:11:19: spec.object_store.s3.secret_key: {REFUSED}")
    assert "hunter2" not in problem

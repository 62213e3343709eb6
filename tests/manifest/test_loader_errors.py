"""Every kind of manifest error names file:line:column, the field path, and what was expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.loader import load_manifests, load_text

VALID = """\
apiVersion: reconciler/v1
kind: AssetImport
metadata:
  name: assets
spec:
  assets:
    prefix: /p
    object_key: a.csv
"""


def problems_of(text: str) -> list[str]:
    loaded, problems = load_text(textwrap.dedent(text), "m.yaml")
    assert not (loaded and problems)
    return [str(p) for p in problems]


def test_a_valid_manifest_has_no_problems() -> None:
    loaded, problems = load_text(VALID, "m.yaml")
    assert problems == []
    assert [m.name for m in loaded] == ["assets"]
    assert loaded[0].manifest.spec.assets is not None
    assert loaded[0].manifest.spec.assets.input_handling == "update"  # the SDK's default


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # unknown keys, with the nearest valid key suggested
        (
            "    prefix: /p",
            "    prefx: /p",
            "m.yaml:7:5: spec.assets.prefx: unknown field 'prefx' (did you mean 'prefix'?)",
        ),
        ("spec:", "spek: {}\nspec:", "m.yaml:5:1: spek: unknown field 'spek' (did you mean 'spec'?)"),
        # wrong types
        (
            "    object_key: a.csv",
            "    object_key: [a]",
            "m.yaml:8:17: spec.assets.object_key: expected a string, got a list",
        ),
        (
            "    object_key: a.csv",
            "    object_key: a.csv\n    advanced: {batch_size: '20'}",
            "m.yaml:9:28: spec.assets.advanced.batch_size: expected an integer, got '20' (a string)",
        ),
        (
            "    object_key: a.csv",
            "    object_key: a.csv\n    advanced: {fail_on_errors: yes}",
            "spec.assets.advanced.fail_on_errors: expected true or false, got 'yes' (a string)",
        ),
        # enums list their valid values and suggest
        (
            "    object_key: a.csv",
            "    object_key: a.csv\n    input_handling: upsrt",
            "m.yaml:9:21: spec.assets.input_handling: expected one of upsert, partial, update; got 'upsrt' (did you mean 'upsert'?)",
        ),
        # field separator, batch size, remove_attributes
        (
            "    object_key: a.csv",
            "    object_key: a.csv\n    advanced: {field_separator: ''}",
            "spec.assets.advanced.field_separator: must be exactly one character, got '' (0 characters)",
        ),
        (
            "    object_key: a.csv",
            "    object_key: a.csv\n    advanced: {batch_size: 0}",
            "spec.assets.advanced.batch_size: must be at least 1, got 0",
        ),
        (
            "    object_key: a.csv",
            "    object_key: a.csv\n    advanced: {remove_attributes: [certificate-status]}",
            "spec.assets.advanced.remove_attributes[0]: 'certificate-status' is not an attribute name",
        ),
        # cron and time zone
        (
            "spec:",
            "spec:\n  schedule: {cron: '61 * * * *'}",
            "spec.schedule.cron: '61 * * * *' is not a cron expression",
        ),
        (
            "spec:",
            "spec:\n  schedule: {cron: '0 2 * * *', timezone: Mars/Olympus}",
            "spec.schedule.timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        # names
        ("  name: assets", "  name: Assets_1", "m.yaml:4:9: metadata.name: 'Assets_1' is not a DNS label"),
        ("  name: assets", "  name: " + "a" * 64, "metadata.name: '" + "a" * 64 + "' is not a DNS label"),
        # two object stores
        (
            "spec:",
            "spec:\n  object_store:\n    s3: {bucket: b, region: r, access_key: a, secret_key: '${env:S}'}\n"
            "    gcs: {project_id: p, service_account_json: '${env:G}', bucket: b}",
            "m.yaml:7:5: spec.object_store: choose one object store, found s3 and gcs",
        ),
        # nothing to import
        (
            "  assets:\n    prefix: /p\n    object_key: a.csv\n",
            "  protect: true\n",
            "m.yaml:6:3: spec: nothing to import: give at least one of assets, glossaries, data_products, tags",
        ),
        # apiVersion and kind
        (
            "apiVersion: reconciler/v1",
            "apiVersion: reconciler/v2",
            "m.yaml:1:13: apiVersion: unsupported apiVersion 'reconciler/v2'; supported: reconciler/v1",
        ),
        (
            "kind: AssetImport",
            "kind: AssetImprot",
            "m.yaml:2:7: kind: unknown kind 'AssetImprot' (did you mean 'AssetImport'?); supported: AssetImport, LineageBuilder",
        ),
        # duplicate keys
        (
            "  name: assets",
            "  name: assets\n  name: again",
            "m.yaml:5:3: metadata.name: duplicate key 'name' (first at line 4, column 3)",
        ),
        # missing fields
        (
            "    object_key: a.csv\n",
            "",
            "m.yaml:7:5: spec.assets.object_key: missing required field 'object_key'",
        ),
        # malformed references
        ("    prefix: /p", "    prefix: ${env:}", "spec.assets.prefix: malformed reference"),
        # adoption of another package's workflow
        (
            "spec:",
            "spec:\n  adopt: csa-lineage-builder-1684500411",
            "can only adopt a csa-asset-import workflow (named csa-asset-import-...), not 'csa-lineage-builder-1684500411'",
        ),
        # labels
        (
            "  name: assets",
            "  name: assets\n  labels: {reconciler.dev/instance: x}",
            "uses a prefix the reconciler or Atlan writes itself",
        ),
    ],
)
def test_problem(old: str, new: str, expected: str) -> None:
    assert old in VALID
    found = problems_of(VALID.replace(old, new, 1))
    assert any(expected in line for line in found), found


def test_yaml_syntax_error_has_a_position() -> None:
    (problem,) = problems_of("apiVersion: reconciler/v1\nkind: [AssetImport\n")
    assert problem.startswith("m.yaml:3:1: YAML syntax error")


def test_a_literal_secret_is_refused_without_echoing_it() -> None:
    text = VALID.replace(
        "spec:\n",
        "spec:\n  object_store:\n    s3: {bucket: b, region: r, access_key: a, secret_key: hunter2-literal}\n",
    )
    (problem,) = problems_of(text)
    assert "spec.object_store.s3.secret_key: a secret must be an environment reference" in problem
    assert "hunter2" not in problem


def test_a_secret_of_the_wrong_type_is_not_echoed() -> None:
    text = VALID.replace(
        "spec:\n",
        "spec:\n  object_store:\n    gcs: {project_id: p, bucket: b, service_account_json: 987654321}\n",
    )
    (problem,) = problems_of(text)
    assert "expected a string" in problem
    assert "987654321" not in problem


def test_all_problems_of_all_files_are_reported_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        VALID.replace("prefix", "prefx")
        + "---\n"
        + VALID.replace("assets\n", "b\n", 1).replace("kind: AssetImport", "kind: X")
    )
    nested = tmp_path / "team" / "more"
    nested.mkdir(parents=True)
    (nested / "b.yml").write_text(VALID.replace("a.csv", "[a.csv"))
    (tmp_path / "notes.txt").write_text("ignored: not a manifest")
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path])
    files = [p.file for p in caught.value.problems]
    # a.yaml: 'prefx' is unknown and 'prefix' is missing; the second document's kind is unknown
    assert files.count(str(tmp_path / "a.yaml")) == 3
    assert files.count(str(nested / "b.yml")) == 1
    assert str(caught.value) == "4 problems in 2 files"


def test_the_same_name_in_two_places_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text("# another\n" + VALID)
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path])
    (problem,) = caught.value.problems
    assert str(problem) == (
        f"{tmp_path / 'b.yaml'}:5:9: metadata.name: name 'assets' is also used at {tmp_path / 'a.yaml'}:4; names must be unique"
    )


def test_depends_on_must_name_a_manifest_and_not_cycle(tmp_path: Path) -> None:
    docs = [
        VALID.replace("name: assets", "name: a").replace("spec:", "spec:\n  depends_on: [b]"),
        VALID.replace("name: assets", "name: b").replace("spec:", "spec:\n  depends_on: [a, c]"),
    ]
    (tmp_path / "m.yaml").write_text("---\n".join(docs))
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path])
    messages = sorted(p.message for p in caught.value.problems)
    assert messages == ["dependency cycle: a -> b -> a", "no manifest named 'c'"]


def test_missing_paths_and_empty_directories_are_problems(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path / "nope.yaml", tmp_path])
    assert [p.message for p in caught.value.problems] == [
        "no such file or directory",
        "no manifest files (*.yaml, *.yml)",
    ]


def test_multi_document_files_anchors_and_dates(tmp_path: Path) -> None:
    text = """\
    apiVersion: reconciler/v1
    kind: AssetImport
    metadata: {name: one}
    spec:
      assets: &files {prefix: /p, object_key: a.csv}
      glossaries:
        <<: *files
        input_handling: upsert
      run: {token: 2026-11-21}
    ---
    apiVersion: reconciler/v1
    kind: AssetImport
    metadata: {name: two}
    spec:
      assets: {prefix: /q, object_key: b.csv}
      run: {token: 7}
    """
    (tmp_path / "m.yaml").write_text(textwrap.dedent(text))
    one, two = load_manifests([tmp_path / "m.yaml"])
    assert one.manifest.spec.run.token == "2026-11-21"  # a string, not a date
    assert two.manifest.spec.run.token == "7"
    assert one.manifest.spec.glossaries is not None
    assert one.manifest.spec.glossaries.object_key == "a.csv"
    assert one.manifest.spec.glossaries.input_handling == "upsert"


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    (problem,) = problems_of("\n".join(lines) + "\n")
    assert "document expands to more than" in problem

"""Issue 18: export carries every live parameter, so export -> adopt plans the adoption alone.

Live workflows are generated as the package's UI or the SDK leaves them (../shared/atlan-csv-
formats.md §6.2, §9.2): any of the package's options, gated ones under ``<x>_config: advanced``,
plus parameters the manifest does not model. Each is exported (decompile, then the export
command's YAML), loaded, compiled and planned against itself: the plan adopts, changes nothing,
runs nothing, and the compiled request has exactly the live parameters (as a map: the package
reads them by name), JSON types included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.commands.export import Exported, to_yaml
from reconciler.desired import DesiredWorkflow
from reconciler.live import LiveWorkflow
from reconciler.manifest.loader import load_text
from reconciler.manifest.models import ASSET_ATTRIBUTES, GLOSSARY_ATTRIBUTES
from reconciler.manifest.parameters import FILE_SECTIONS, MODELLED, SDK_SECTIONS
from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER, compile_workflow
from reconciler.packages.decompile import CredentialInfo, Decompiled, NotRepresentable, decompile
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, PACKAGES, workflow_name
from reconciler.packages.spec import parameter_values
from reconciler.plan.model import Action, Update
from reconciler.plan.planner import plan

INSTANCE = "prod"
GUID = "9a1b2c3d-0000-4000-8000-00000000abcd"
SECRET = "exported-secret-value"
EPOCH_NAMES = {
    "AssetImport": "csa-asset-import-1684500411",
    "LineageBuilder": "csa-lineage-builder-1684500412",
}
S3 = CredentialInfo("s3", "AKIAEXPORT", {"region": "eu-west-1", "s3_bucket": "acme-imports"})

# -- what a live workflow's parameters can be -------------------------------------------------------

# Text a person or a program may put in a value: letters, digits, punctuation (`${`, `$$`) and
# spaces, and the odd line break.
text = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")) | st.just("\n"), max_size=12).filter(
    lambda value: "credentialGuid" not in value  # refused in every manifest string, by design
)
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,14}", fullmatch=True)
unmodelled_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
separators = st.characters(categories=("P", "S", "Zs"))


def enum(*values: str) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


# The package's options (§6.2): section -> parameter suffix -> its values.
ADVANCED = {
    "fail_on_errors": st.booleans(),
    "case_sensitive": st.booleans(),
    "table_view_agnostic": st.booleans(),
    "field_separator": separators,
    "batch_size": st.integers(1, 10_000),
    "cm_handling": enum("ignore", "merge", "overwrite"),
    "tag_handling": enum("ignore", "append", "replace", "remove"),
    "link_idempotency": enum("url", "name"),
}
IMPORT_OPTIONS = (
    "fail_on_errors",
    "field_separator",
    "batch_size",
    "cm_handling",
    "tag_handling",
    "link_idempotency",
)
SECTION_OPTIONS = {
    "assets": tuple(ADVANCED),
    "glossaries": IMPORT_OPTIONS,
    "data_products": IMPORT_OPTIONS,
    "tags": ("fail_on_errors", "field_separator", "batch_size"),
}


def maybe(draw: st.DrawFn, name: str, values: st.SearchStrategy[Any]) -> list[tuple[str, Any]]:
    return [(name, draw(values))] if draw(st.booleans()) else []


@st.composite
def section_parameters(draw: st.DrawFn, section: str) -> tuple[list[tuple[str, Any]], bool]:
    """One file's parameters, and whether its config is advanced."""
    found = [(f"{section}_prefix", draw(text)), (f"{section}_key", draw(text))]
    if section == "assets":
        found.append(("assets_upsert_semantic", draw(enum("upsert", "partial", "update"))))
        semantic = draw(st.sampled_from([None, "full", "delta"]))
        if semantic is not None:
            found.append(("assets_delta_semantic", semantic))
        if semantic == "full":
            found += maybe(draw, "assets_delta_removal_type", enum("archive", "purge"))
            found += maybe(draw, "assets_delta_reload_calculation", enum("all", "changes"))
    elif section in SDK_SECTIONS:
        found.append((f"{section}_upsert_semantic", draw(enum("upsert", "update"))))
    advanced = draw(st.booleans())
    if advanced:
        if section != "tags":
            offered = GLOSSARY_ATTRIBUTES if section == "glossaries" else ASSET_ATTRIBUTES
            names = st.lists(st.sampled_from(offered) | identifiers, max_size=4)
            removed = draw(st.none() | names)
            found.append(
                (f"{section}_attr_to_overwrite", json.dumps(removed, separators=(",", ":")))
            )  # "null" when None, as the SDK sends it
        for suffix in SECTION_OPTIONS[section]:
            found += maybe(draw, f"{section}_{suffix}", ADVANCED[suffix])
    return found, advanced


@st.composite
def asset_import_parameters(draw: st.DrawFn) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [("import_type", "CLOUD"), ("cloud_source", GUID)]
    found += maybe(draw, "input_encoding", enum("UTF-8", "windows-1252", "ISO-8859-1", "UTF-16LE"))
    chosen = draw(st.lists(st.sampled_from(FILE_SECTIONS), min_size=1, unique=True))
    configs = []
    for section in FILE_SECTIONS:
        if section in chosen:
            parameters, advanced = draw(section_parameters(section))
            found += parameters
            configs.append((f"{section}_config", "advanced" if advanced else "default"))
        elif section in SDK_SECTIONS:
            configs.append((f"{section}_config", "default"))
    return found + configs


@st.composite
def lineage_builder_parameters(draw: st.DrawFn) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [
        ("lineage_prefix", draw(text)),
        ("lineage_key", draw(text)),
        ("lineage_import_type", "CLOUD"),
        ("cloud_source", GUID),
    ]
    if draw(st.booleans()):  # options(): the input handling always comes with them
        found.append(("lineage_upsert_semantic", draw(enum("upsert", "partial", "update"))))
        for name, values in (
            ("lineage_fail_on_errors", st.booleans()),
            ("lineage_case_sensitive", st.booleans()),
            ("field_separator", separators),
            ("batch_size", st.integers(1, 10_000)),
            ("cm_handling", ADVANCED["cm_handling"]),
            ("tag_handling", ADVANCED["tag_handling"]),
        ):
            found += maybe(draw, name, values)
    return found


@st.composite
def live_workflows(draw: st.DrawFn) -> tuple[str, list[tuple[str, Any]], bool]:
    """(kind, the task's parameters in a random order, whether its credential is an S3 one)."""
    kind = draw(st.sampled_from(sorted(PACKAGES)))
    modelled = draw(asset_import_parameters() if kind == "AssetImport" else lineage_builder_parameters())
    names = st.sampled_from(["assets_file", "track_batches", "relaxed_cqn", "assets_previous_file_prefix"])
    unmodelled = draw(
        st.dictionaries(
            (names | identifiers).filter(lambda name: name not in MODELLED[kind]),
            unmodelled_values,
            max_size=4,
        )
    )
    listed = draw(st.permutations([*modelled, *unmodelled.items()]))
    return kind, listed, draw(st.booleans())


# -- the round trip ---------------------------------------------------------------------------------


def sdk_source(kind: str, parameters: list[tuple[str, Any]]) -> dict[str, Any]:
    """A workflow as the SDK or Atlan's UI leaves it: the package's labels and annotations, an
    epoch name, the credential's id in cloud_source, nothing of the reconciler's."""
    name = EPOCH_NAMES[kind]
    section = "assets" if kind == "AssetImport" else "lineage"
    text = (
        f"apiVersion: reconciler/v1\nkind: {kind}\nmetadata: {{name: base}}\n"
        f"spec: {{{section}: {{prefix: p, object_key: k}}, adopt: {name}}}\n"
    )
    [loaded], _ = load_text(text, "base.yaml")
    body = compile_workflow(loaded.manifest, instance=INSTANCE, environ={}).body
    metadata = body["metadata"]
    metadata["labels"] = {k: v for k, v in metadata["labels"].items() if not k.startswith("reconciler.dev/")}
    metadata["annotations"] = {
        k: v for k, v in metadata["annotations"].items() if not k.startswith("reconciler.dev/")
    }
    metadata["labels"]["team"] = "data"  # a label someone added in the UI
    spec = body["spec"]
    spec["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"] = [
        {"name": key, "value": value} for key, value in parameters
    ]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": metadata,
        "spec": spec,
    }


def export(source: dict[str, Any], kind: str, credential: CredentialInfo | None) -> tuple[Decompiled, str]:
    name = source["metadata"]["name"]
    decompiled = decompile(
        source["metadata"],
        source["spec"],
        kind=kind,
        manifest_name=name,
        derived_name=workflow_name(PACKAGES[kind], INSTANCE, name),
        credential=credential,
    )
    text = to_yaml(Exported(name, name, decompiled.document, adopt=True, lost=decompiled.lost), "a test")
    return decompiled, text


def adopted(text: str, live: LiveWorkflow, environ: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    """The plan of the exported manifest against ``live``, and the request it compiles to."""
    loaded, problems = load_text(text, "exported.yaml")
    assert problems == [], [str(p) for p in problems]
    [item] = loaded
    compiled = compile_workflow(item.manifest, instance=INSTANCE, environ=environ)
    result = plan([DesiredWorkflow.of(item, compiled)], [live], instance=INSTANCE, salt=lambda: "00" * 16)
    [planned] = result.items
    return planned, compiled.body


def assert_adopt_only(source: dict[str, Any], kind: str, credential: CredentialInfo | None) -> str:
    decompiled, text = export(source, kind, credential)
    assert decompiled.lost == ()
    live = LiveWorkflow.from_source(source)
    environ = {
        "CSA_ASSET_IMPORT_1684500411_SECRET_KEY": SECRET,
        "CSA_LINEAGE_BUILDER_1684500412_SECRET_KEY": SECRET,
    }
    planned, body = adopted(text, live, environ)
    assert planned.actions == (Action.ADOPT,)
    assert planned.changes == ()
    assert planned.steps == (Update(resource_version=None, send_credentials=False, claim=False),)
    expected = parameter_values(source["spec"])
    expected["cloud_source"] = CREDENTIAL_PLACEHOLDER if credential is None else expected["cloud_source"]
    compiled = parameter_values(body["spec"])
    if credential is not None:
        compiled["cloud_source"] = GUID  # the server puts the new credential's id there
    assert compiled == expected
    assert {k: type(v) for k, v in compiled.items()} == {k: type(v) for k, v in expected.items()}
    labels = body["metadata"]["labels"]
    assert (labels[INSTANCE_LABEL], labels[MANIFEST_LABEL], labels["team"]) == (INSTANCE, live.name, "data")
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_workflows())
def test_an_exported_workflow_is_adopted_without_any_change(workflow: tuple[str, list[Any], bool]) -> None:
    kind, parameters, with_credential = workflow
    if not with_credential:  # the tenant's own store: the SDK's object_store() without a credential
        parameters = [(k, CREDENTIAL_PLACEHOLDER if k == "cloud_source" else v) for k, v in parameters]
    assert_adopt_only(sdk_source(kind, parameters), kind, S3 if with_credential else None)


def sdk_s3_parameters() -> list[tuple[str, Any]]:
    """pyatlan's asset_import_s3 fixture (../shared/atlan-workflow-fixtures), as created."""
    common = [("attr_to_overwrite", '["certificateStatus","announcementType"]'), ("fail_on_errors", True)]
    found: list[tuple[str, Any]] = [("import_type", "CLOUD"), ("cloud_source", GUID)]
    for section, semantic in (("assets", "partial"), ("glossaries", "update"), ("data_products", "update")):
        found += [(f"{section}_prefix", "/test/prefix"), (f"{section}_key", f"{section}-test.csv")]
        found += [(f"{section}_upsert_semantic", semantic), *((f"{section}_{k}", v) for k, v in common)]
        if section == "assets":
            found.append(("assets_case_sensitive", False))
        found += [(f"{section}_field_separator", ","), (f"{section}_batch_size", 20)]
    return found + [(f"{section}_config", "advanced") for section in SDK_SECTIONS]


def test_the_issues_workflow_with_full_replacement_tag_handling_and_a_tags_file_set_in_the_ui() -> None:
    # Made with the SDK, then these five set in Atlan's UI: export used to leave them out, and the
    # plan was `adopt, update` removing them.
    ui = [
        ("assets_delta_semantic", "full"),
        ("assets_tag_handling", "append"),
        ("tags_prefix", "/test/prefix"),
        ("tags_key", "tags-test.csv"),
        ("tags_config", "default"),
    ]
    text = assert_adopt_only(sdk_source("AssetImport", [*sdk_s3_parameters(), *ui]), "AssetImport", S3)
    assert "    delta:\n      semantic: full\n" in text
    assert "      tag_handling: append\n" in text
    assert "  tags:\n    prefix: /test/prefix\n    object_key: tags-test.csv\n" in text
    assert "without changing it" in text


def test_what_a_manifest_cannot_say_is_named_in_the_export() -> None:
    # A gated option without `advanced` (the package ignores it) and a string where the package
    # reads a number: no manifest compiles to them, so export says what plan will change.
    parameters = [
        ("import_type", "CLOUD"),
        ("cloud_source", CREDENTIAL_PLACEHOLDER),
        ("assets_prefix", "/in"),
        ("assets_key", "a.csv"),
        ("assets_upsert_semantic", "update"),
        ("assets_fail_on_errors", False),
        ("glossaries_prefix", "/in"),
        ("glossaries_key", "g.csv"),
        ("glossaries_upsert_semantic", "upsert"),
        ("glossaries_batch_size", "20"),
        ("assets_config", "default"),
        ("glossaries_config", "advanced"),
        ("data_products_config", "default"),
    ]
    decompiled, text = export(sdk_source("AssetImport", parameters), "AssetImport", None)
    assert decompiled.lost == (
        "parameter assets_fail_on_errors = false cannot be written in a manifest: plan will remove it",
        'parameter glossaries_batch_size = "20" cannot be written in a manifest: plan will remove it',
        'parameter glossaries_attr_to_overwrite is not on the workflow; the manifest writes "null"',
    )
    assert "with the changes below" in text
    assert "# Changes: parameter assets_fail_on_errors = false cannot be written" in text


def test_a_workflow_no_manifest_can_describe_is_refused_with_the_reason() -> None:
    # A direct upload (the UI's "upload a file"): no object-store file at all.
    parameters = [("import_type", "DIRECT"), ("assets_file", "/tmp/upload.csv"), ("assets_config", "default")]
    with pytest.raises(NotRepresentable) as caught:
        export(sdk_source("AssetImport", parameters), "AssetImport", None)
    assert str(caught.value) == (
        "spec: nothing to import: give at least one of assets, glossaries, data_products, tags"
    )


def test_a_label_a_manifest_refuses_is_left_out_and_named() -> None:
    source = sdk_source("LineageBuilder", lineage_parameters())
    source["metadata"]["labels"]["team"] = "data platform"  # a Kubernetes label value has no blank
    decompiled, _ = export(source, "LineageBuilder", None)
    assert "labels" not in decompiled.document["metadata"]
    assert decompiled.lost == (
        "metadata.labels.team left out: label value 'data platform' is not a Kubernetes label value (at "
        "most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)",
    )


def lineage_parameters() -> list[tuple[str, Any]]:
    return [
        ("lineage_prefix", "/lineage"),
        ("lineage_key", "lineage.csv"),
        ("lineage_import_type", "CLOUD"),
        ("cloud_source", CREDENTIAL_PLACEHOLDER),
    ]

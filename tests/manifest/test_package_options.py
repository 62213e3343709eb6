"""Issue 18: the packages' gating as manifest errors at file:line:column, and the warnings channel."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.manifest.loader import load_manifests, load_text
from reconciler.manifest.parameters import MODELLED
from tests.manifest.test_loader_errors import VALID as BASE

LINEAGE = BASE.replace("AssetImport", "LineageBuilder").replace("  assets:", "  lineage:")


def problems_of(text: str) -> list[str]:
    loaded, problems = load_text(text, "m.yaml")
    assert not loaded
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            "    delta: {removal: purge}\n",
            "m.yaml:9:22: spec.assets.delta.removal: removal applies only with semantic: full "
            "(the package ignores it otherwise)",
            id="removal without semantic",
        ),
        pytest.param(
            "    delta:\n      semantic: delta\n      reload: changes\n",
            "m.yaml:11:15: spec.assets.delta.reload: reload applies only with semantic: full "
            "(the package ignores it otherwise)",
            id="reload with semantic delta",
        ),
        pytest.param(
            "  glossaries: {prefix: /g, object_key: g.csv, input_handling: partial}\n",
            "m.yaml:9:63: spec.glossaries.input_handling: partial is for assets only: for glossaries "
            "and data products the package knows upsert and update (it creates no partial glossary "
            "entries, domains or products)",
            id="partial glossaries",
        ),
        pytest.param(
            "  data_products:\n    prefix: /d\n    object_key: d.csv\n    input_handling: partial\n",
            "m.yaml:12:21: spec.data_products.input_handling: partial is for assets only",
            id="partial data products",
        ),
        pytest.param(
            "  parameters:\n    track_batches: false\n    assets_prefix: /other\n",
            "m.yaml:11:5: spec.parameters.assets_prefix: 'assets_prefix' is a parameter the manifest "
            "models (spec.assets.prefix): set it there, spec.parameters passes through only the "
            "parameters the manifest does not model",
            id="a modelled parameter passed through",
        ),
        pytest.param(
            "  parameters: {cloud_source: x}\n",
            "m.yaml:9:16: spec.parameters.cloud_source: 'cloud_source' is a parameter the manifest "
            "models (spec.object_store)",
            id="cloud_source",
        ),
        pytest.param(
            "  parameters: {glossaries_config: advanced}\n",
            "m.yaml:9:16: spec.parameters.glossaries_config: 'glossaries_config' is a parameter the "
            "manifest models (spec.glossaries.advanced (present: advanced))",
            id="a config",
        ),
        pytest.param(
            "  parameters: {assets_delta_removal_type: purge}\n",
            "m.yaml:9:16: spec.parameters.assets_delta_removal_type: 'assets_delta_removal_type' is a "
            "parameter the manifest models (spec.assets.delta.removal)",
            id="a delta option",
        ),
        pytest.param(
            "  parameters: {listed: [a, b]}\n",
            "m.yaml:9:24: spec.parameters.listed: expected a string, a number, true or false, or null; got a list",
            id="a value that is no scalar",
        ),
        pytest.param(
            "    advanced: {remove_attributes: [owner users]}\n",
            "m.yaml:9:36: spec.assets.advanced.remove_attributes[0]: 'owner users' is not an attribute name",
            id="an attribute that is no name",
        ),
        pytest.param(
            "    source: data.csv\n  input_encoding: UTF-16LE\n",
            "m.yaml:10:19: spec.input_encoding: the files that sources generate are UTF-8 (assets): "
            "with a source, input_encoding must be UTF-8 or left out",
            id="an encoding sources cannot write",
        ),
        pytest.param(
            "  input_encoding: EBCDIC-XYZ\n",
            "m.yaml:9:19: spec.input_encoding: unknown encoding 'EBCDIC-XYZ'",
            id="an unknown encoding",
        ),
        pytest.param(
            "  tags: {prefix: /t, object_key: t.csv, advanced: {remove_attributes: [readme]}}\n",
            "m.yaml:9:52: spec.tags.advanced.remove_attributes: unknown field 'remove_attributes'",
            id="no attributes to clear in the tags file",
        ),
    ],
)
def test_gating_errors_name_the_field_at_its_line(extra: str, expected: str) -> None:
    [problem] = problems_of(BASE + extra)
    assert problem.startswith(expected), problem


def test_the_lineage_builders_modelled_parameters_are_refused_too() -> None:
    [problem] = problems_of(LINEAGE + "  parameters: {batch_size: 5}\n")
    assert problem.startswith(
        "m.yaml:9:16: spec.parameters.batch_size: 'batch_size' is a parameter the manifest models "
        "(spec.options.batch_size)"
    )
    loaded, problems = load_text(LINEAGE + "  parameters: {assets_batch_size: 5}\n", "m.yaml")
    assert problems == []  # another package's name is not the lineage builder's
    assert loaded


def test_every_name_the_compiler_writes_is_refused_in_parameters() -> None:
    for kind, text in (("AssetImport", BASE), ("LineageBuilder", LINEAGE)):
        for name in MODELLED[kind]:
            problems = problems_of(text + f"  parameters: {{{name}: x}}\n")
            assert any(
                f"spec.parameters.{name}: '{name}' is a parameter the manifest models" in p for p in problems
            )


def test_full_replacement_with_its_options_and_a_tags_file_alone_are_valid() -> None:
    text = BASE + "    delta: {semantic: full, removal: purge, reload: changes}\n"
    [loaded], problems = load_text(text, "m.yaml")
    assert problems == []
    assert loaded.manifest.spec.assets is not None
    assert loaded.manifest.spec.assets.delta is not None
    tags = BASE.replace(
        "  assets:\n    prefix: /p\n    object_key: a.csv\n", "  tags: {prefix: /t, object_key: t.csv}\n"
    )
    assert load_text(tags, "m.yaml")[1] == []


# -- warnings: remove_attributes outside the UI's list ----------------------------------------------

WARNED = BASE + "    advanced:\n      remove_attributes: [certificateStatus, announcementTitle]\n"
WARNING = (
    "m.yaml:10:46: spec.assets.advanced.remove_attributes[1]: 'announcementTitle' is not one of the "
    "attributes Atlan's UI offers for assets; the package clears it on the asset types that have it "
    "and skips it, with a warning, on the others"
)


def test_an_attribute_outside_the_uis_list_is_a_warning_at_its_line() -> None:
    [loaded], problems = load_text(WARNED, "m.yaml")
    assert problems == []
    assert [str(w) for w in loaded.warnings] == [WARNING]
    # Glossaries offer more: synonyms is in their list, not in the assets'.
    glossary = WARNED.replace("  assets:", "  glossaries:").replace("announcementTitle", "synonyms")
    [loaded], _ = load_text(glossary, "m.yaml")
    assert loaded.warnings == ()


@pytest.mark.parametrize("cached", [False, True])
def test_loading_logs_each_warning_once_also_from_the_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, cached: bool
) -> None:
    from reconciler.manifest.cache import ManifestCache

    path = tmp_path / "m.yaml"
    path.write_text(WARNED)
    cache = ManifestCache(tmp_path / "cache")
    if cached:
        load_manifests([path], cache=cache)
        assert cache.misses == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="reconciler.manifest"):
        load_manifests([path], cache=cache)
    assert cache.hits == int(cached)
    assert [r.getMessage() for r in caplog.records] == [WARNING.replace("m.yaml", str(path))]


def test_validate_prints_the_warning_on_stderr_and_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATLAN_API_KEY", "warnings-test-key")
    Path("m.yaml").write_text(textwrap.dedent(WARNED))
    assert cli.main(["validate", "m.yaml"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Valid: 1 manifest")
    assert f"WARNING reconciler.manifest: {WARNING}" in err

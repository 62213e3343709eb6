"""Data sources in manifests (issue 15): ``source`` checked at the manifest's file:line:column, a
template's keys at their line, a row at the source CSV's line, every problem at once; the files'
digests in the compiled desired state; ``render --files``; the examples' generated files."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.desired import read_desired
from reconciler.errors import DataError, ManifestError
from reconciler.manifest.cache import ManifestCache
from reconciler.manifest.schema import field_reference, manifest_json_schema
from reconciler.packages.compiler import compile_workflow
from reconciler.packages.sources import repository_root
from tests.helpers import EXAMPLES, REPO

EXPECTED = REPO / "tests" / "expected" / "render-files"

HEAD = """\
apiVersion: reconciler/v1
kind: AssetImport
metadata:
  name: {name}
spec:
  glossaries:
    prefix: /glossaries
    object_key: terms.csv
"""
# The export of a spreadsheet: glossary;term;definition;owners (Collibra's CSV defaults).
TERMS_CSV = "Business Terms;Customer;A buyer;jane,raj\nBusiness Terms;Client;A customer;raj\n"
TEMPLATE_JSON = """\
[
  {"typeName": "AtlasGlossary", "name": "${1}"},
  {
    "typeName": "AtlasGlossaryTerm",
    "name": "${2}",
    "anchor": "${1}",
    "userDescription": "${3}",
    "ownerUsers": ["${4}"]
  }
]
"""
GENERATED = (
    "typeName,name,anchor,userDescription,ownerUsers,qualifiedName\n"
    "AtlasGlossary,Business Terms,,,,\n"
    'AtlasGlossaryTerm,Customer,Business Terms,A buyer,"jane\nraj",\n'
    "AtlasGlossaryTerm,Client,Business Terms,A customer,raj,\n"
)
LONG_FORM = """\
    source:
      file: ../data/terms.csv
      template: ../templates/terms.json
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository (a directory holding .git) with a source CSV and a template, and the
    ``outside.csv`` beside it that no manifest may read."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "templates").mkdir()
    (root / "manifests").mkdir()
    (root / "data" / "terms.csv").write_text(TERMS_CSV)
    (root / "templates" / "terms.json").write_text(TEMPLATE_JSON)
    (tmp_path / "outside.csv").write_text(TERMS_CSV)
    return root


def write_manifest(repo: Path, source: str, *, name: str = "terms", extra: str = "") -> Path:
    path = repo / "manifests" / f"{name}.yaml"
    path.write_text(HEAD.format(name=name) + source + extra)
    return path


def problems(paths: list[Path], capsys: pytest.CaptureFixture[str], *, skip_env: bool = False) -> list[str]:
    """The lines ``validate`` prints, after checking that it exits 1 and prints nothing on stdout."""
    argv = ["validate", *(["--skip-env"] if skip_env else []), *map(str, paths)]
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    return err.splitlines()


def only_problem(paths: list[Path], capsys: pytest.CaptureFixture[str]) -> str:
    """The one problem ``validate`` reports."""
    *found, summary = problems(paths, capsys)
    assert summary == "error: 1 problem in 1 file", found
    (problem,) = found
    return problem


# -- the manifest's paths: at the manifest's file:line:column --


def test_an_absolute_path_is_refused_where_it_is_written(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(repo, f"    source: {repo / 'data' / 'terms.csv'}\n")
    assert only_problem([manifest], capsys) == (
        f"{manifest}:9:13: spec.glossaries.source: '{repo / 'data' / 'terms.csv'}' is an absolute path: "
        "write it relative to the manifest's directory"
    )


def test_a_path_that_leaves_the_repository_through_dotdot_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(repo, "    source: ../../outside.csv\n")
    assert only_problem([manifest], capsys) == (
        f"{manifest}:9:13: spec.glossaries.source: '../../outside.csv' is outside the repository "
        f"({repo}): '..' may not lead out of it"
    )


def test_dotdot_inside_the_repository_is_fine(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(
        repo, "    source: {file: ../manifests/../data/terms.csv, template: ../templates/terms.json}\n"
    )
    assert cli.main(["validate", str(manifest)]) == 0, capsys.readouterr().err


def test_a_symbolic_link_out_of_the_repository_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "data" / "linked.csv").symlink_to(repo.parent / "outside.csv")
    (repo / "templates" / "linked.json").symlink_to(repo.parent / "outside.csv")
    manifest = write_manifest(
        repo, "    source:\n      file: ../data/linked.csv\n      template: ../templates/linked.json\n"
    )
    assert problems([manifest], capsys) == [
        f"{manifest}:10:13: spec.glossaries.source.file: '../data/linked.csv' leads outside the "
        f"repository ({repo}) through a symbolic link",
        f"{manifest}:11:17: spec.glossaries.source.template: '../templates/linked.json' leads outside "
        f"the repository ({repo}) through a symbolic link",
        "error: 2 problems in 1 file",
    ]


def test_a_symbolic_link_inside_the_repository_is_followed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "data" / "current.csv").symlink_to(repo / "data" / "terms.csv")
    manifest = write_manifest(repo, LONG_FORM.replace("terms.csv", "current.csv"))
    assert cli.main(["validate", str(manifest)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("written", "message"),
    [
        pytest.param(
            "../data/missing.csv", "'../data/missing.csv' does not exist (looked for {display})", id="missing"
        ),
        pytest.param("../data", "'../data' is not a file", id="a directory"),
        pytest.param(
            "../data/broken.csv", "'../data/broken.csv' is a broken symbolic link", id="broken link"
        ),
    ],
)
def test_a_source_that_is_no_file_is_named_at_its_line(
    repo: Path, capsys: pytest.CaptureFixture[str], written: str, message: str
) -> None:
    (repo / "data" / "broken.csv").symlink_to(repo / "data" / "gone.csv")
    manifest = write_manifest(repo, LONG_FORM.replace("../data/terms.csv", written))
    display = os.path.normpath(manifest.parent / written)
    assert only_problem([manifest], capsys) == (
        f"{manifest}:10:13: spec.glossaries.source.file: {message.format(display=display)}"
    )


def test_a_missing_template_file_is_named_at_its_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(repo, LONG_FORM.replace("terms.json", "nope.json"))
    display = repo / "templates" / "nope.json"
    assert only_problem([manifest], capsys) == (
        f"{manifest}:11:17: spec.glossaries.source.template: '../templates/nope.json' does not exist "
        f"(looked for {display})"
    )


def test_outside_git_the_current_directory_is_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"  # no .git above it
    (project / "manifests").mkdir(parents=True)
    (project / "terms.csv").write_text("typeName,name,qualifiedName\nAtlasGlossary,Business Terms,\n")
    manifest = write_manifest(project, "    source: ../terms.csv\n")
    monkeypatch.chdir(project / "manifests")
    assert only_problem([manifest], capsys) == (
        f"{manifest}:9:13: spec.glossaries.source: '../terms.csv' is outside the repository "
        f"({project / 'manifests'}): '..' may not lead out of it"
    )
    monkeypatch.chdir(project)
    assert cli.main(["validate", str(manifest)]) == 0


def test_the_repository_is_found_by_its_git_entry_a_worktree_file_too(tmp_path: Path) -> None:
    worktree = tmp_path / "worktree"
    (worktree / "a" / "b").mkdir(parents=True)
    (worktree / ".git").write_text("gitdir: /elsewhere/.git/worktrees/x\n")
    assert repository_root(worktree / "a" / "b") == worktree


# -- templates and rows: at the template's or the source's file:line and key --


def test_a_bad_key_of_an_inline_template_is_named_at_its_line_in_the_manifest(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(
        repo,
        "    source:\n"
        "      file: ../data/terms.csv\n"
        "      template:\n"
        "        - typeName: AtlasGlossaryTerm\n"
        "          nmae: ${2}\n"
        "          anchor: ${1}\n",
    )
    assert only_problem([manifest], capsys) == (
        f"{manifest}:13:11: spec.glossaries.source.template[0].nmae: 'nmae' is not a column of the "
        "glossaries file (did you mean 'name'?)"
    )


def test_a_bad_key_of_a_json_template_is_named_at_its_line_in_the_template(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "templates" / "terms.json").write_text(TEMPLATE_JSON.replace('"anchor"', '"ancor"'))
    manifest = write_manifest(repo, LONG_FORM)
    assert only_problem([manifest], capsys) == (
        f"{repo / 'templates' / 'terms.json'}:6:5: [1].ancor: 'ancor' is not a column of the "
        "glossaries file (did you mean 'anchor'?)"
    )


def test_a_yaml_template_file_is_read_with_positions(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "templates" / "terms.yml").write_text(
        "- typeName: AtlasGlossary\n  name: ${1}\n- typeName: AtlasGlossaryTerm\n  name: ${2}\n  ancor: ${1}\n"
    )
    manifest = write_manifest(repo, LONG_FORM.replace("terms.json", "terms.yml"))
    assert only_problem([manifest], capsys) == (
        f"{repo / 'templates' / 'terms.yml'}:5:3: [1].ancor: 'ancor' is not a column of the "
        "glossaries file (did you mean 'anchor'?)"
    )
    (repo / "templates" / "terms.yml").write_text(
        "- typeName: AtlasGlossary\n  name: ${1}\n- typeName: AtlasGlossaryTerm\n  name: ${2}\n  anchor: ${1}\n"
    )
    assert cli.main(["validate", str(manifest)]) == 0


def test_a_template_nested_too_deeply_is_a_problem_not_a_crash(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "templates" / "terms.json").write_text("[" * 100_000 + "]" * 100_000)
    manifest = write_manifest(repo, LONG_FORM)
    assert only_problem([manifest], capsys) == (
        f"{repo / 'templates' / 'terms.json'}:1:1: cannot read the template: nested too deeply"
    )


def test_a_placeholder_beyond_a_row_is_named_at_the_source_line_and_key(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "data" / "terms.csv").write_text("Business Terms;Customer;A buyer;jane\nBusiness Terms;Client\n")
    manifest = write_manifest(repo, LONG_FORM)
    assert problems([manifest], capsys) == [
        f"{repo / 'data' / 'terms.csv'}:2: userDescription: ${{3}} reads column 3, but this row has 2",
        f"{repo / 'data' / 'terms.csv'}:2: ownerUsers: ${{4}} reads column 4, but this row has 2",
        "error: 2 problems in 1 file",
    ]


TERM = '"typeName": "AtlasGlossaryTerm", "name": "${2}", "anchor": "${1}"'


@pytest.mark.parametrize(
    ("rows", "template", "header_row", "expected"),
    [
        pytest.param(
            "G;T;MAYBE\n",
            f'[{{{TERM}, "certificateStatus": "${{3}}"}}]',
            False,
            "data/export.csv:1: certificateStatus: expected one of DEPRECATED, DRAFT, VERIFIED; got 'MAYBE'",
            id="an enum cell",
        ),
        pytest.param(
            "G;T;x\n",
            f'[{{{TERM}, "seeAlso": ["${{3}}"]}}]',
            False,
            "data/export.csv:1: seeAlso: expected Term@@@Glossary, got 'x'",
            id="a term reference",
        ),
        pytest.param(
            "glossary;term;note\nG;T\n",
            f"[{{{TERM}}}]",
            True,
            "data/export.csv:2: this row has 2 fields, the header 3",
            id="a ragged row under a header",
        ),
        pytest.param(
            "G;A,B,C;x,y\n",
            f'[[{{{TERM}, "userDescription": "${{3}}"}}]]',
            False,
            "data/export.csv:1: userDescription: values are paired by position, but ${2} has 3 values "
            "and ${3} has 2",
            id="unequal counts in [[ ]]",
        ),
        pytest.param(
            "G;T\nH;U\nG;T\n",
            f"[{{{TERM}}}]",
            False,
            "data/export.csv:3: the row with the same identity (typeName 'AtlasGlossaryTerm', name 'T', "
            "anchor 'G') is at data/export.csv:1; rows of one asset must be consecutive",
            id="an identity again, not consecutive",
        ),
        pytest.param(
            "G;T\n",
            '[{"typeName": "AtlasGlossaryTerms", "name": "${2}", "anchor": "${1}"}]',
            False,
            "templates/export.json:1:3: [0].typeName: expected one of AtlasGlossary, AtlasGlossaryCategory, "
            "AtlasGlossaryTerm; got 'AtlasGlossaryTerms' (did you mean 'AtlasGlossaryTerm'?)",
            id="an unknown typeName",
        ),
    ],
)
def test_the_generated_file_is_validated_at_the_source_line_and_template_key(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rows: str,
    template: str,
    header_row: bool,
    expected: str,
) -> None:
    (repo / "data" / "export.csv").write_text(rows)
    (repo / "templates" / "export.json").write_text(template)
    csv = "\n      csv: {header_row: true}" if header_row else ""
    manifest = write_manifest(
        repo, f"    source:\n      file: ../data/export.csv\n      template: ../templates/export.json{csv}\n"
    )
    monkeypatch.chdir(repo)  # messages name the files as reached from the current directory
    assert only_problem([manifest.relative_to(repo)], capsys) == expected


def test_a_file_in_the_packages_format_is_checked_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "data" / "assets.csv").write_text("typeName,name\nTable,orders\n")
    manifest = write_manifest(repo, "    source: ../data/assets.csv\n")
    assert only_problem([manifest], capsys) == (
        f"{repo / 'data' / 'assets.csv'}:1: qualifiedName: is missing: the glossaries file needs it"
    )


def test_csv_settings_that_cannot_work_together_are_named_at_csv(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(repo, LONG_FORM + "      csv: {separator: '|', quote: '|'}\n")
    assert only_problem([manifest], capsys) == (
        f"{manifest}:12:12: spec.glossaries.source.csv: separator, quote and escape must be three "
        "different characters"
    )


def test_a_field_separator_no_csv_file_can_have_is_named_at_its_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(repo, LONG_FORM, extra="    advanced: {field_separator: '\"'}\n")
    assert only_problem([manifest], capsys) == (
        f"{manifest}:12:33: spec.glossaries.advanced.field_separator: the field separator must be one "
        """character, not a quote or line break; got '"'"""
    )


def test_every_problem_of_every_manifest_is_reported_at_once(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "data" / "bad.csv").write_text('Business Terms;"Customer;A buyer;jane\n')
    missing = write_manifest(repo, "    source: ../data/missing.csv\n", name="a-missing")
    bad_row = write_manifest(repo, LONG_FORM.replace("terms.csv", "bad.csv"), name="b-bad-row")
    invalid = write_manifest(repo, "    input_handling: sometimes\n", name="c-invalid")
    found = problems([repo / "manifests"], capsys, skip_env=True)
    assert found == [
        f"{invalid}:9:21: spec.glossaries.input_handling: expected one of upsert, update; got 'sometimes'",
        f"{missing}:9:13: spec.glossaries.source: '../data/missing.csv' does not exist "
        f"(looked for {repo / 'data' / 'missing.csv'})",
        f"{repo / 'data' / 'bad.csv'}:1: a quoted field opened on line 1 is never closed",
        "error: 3 problems in 3 files",
    ]
    assert bad_row.exists()


def test_validate_with_variables_checks_sources_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(repo, "    source: ../data/missing.csv\n")
    assert "does not exist" in problems([manifest], capsys, skip_env=False)[0]
    assert "does not exist" in problems([manifest], capsys, skip_env=True)[0]


# -- what is compiled --


def test_the_compiled_state_holds_each_generated_files_digest_and_the_body_is_unchanged(repo: Path) -> None:
    manifest = write_manifest(repo, LONG_FORM)
    (desired,) = read_desired([manifest], instance="default", environ={})
    (file,) = desired.compiled.files
    assert (file.section, file.rows, file.size) == ("glossaries", 3, len(GENERATED.encode()))
    assert file.sha256 == hashlib.sha256(GENERATED.encode()).hexdigest()
    assert file.source == os.path.normpath(repo / "data" / "terms.csv")
    # The request is the one of the same manifest without a source: the file is uploaded beside it.
    (plain,) = read_desired([write_manifest(repo, "", name="terms")], instance="default", environ={})
    assert desired.compiled.body == plain.compiled.body
    assert plain.compiled.files == ()


def test_a_file_in_the_packages_format_is_passed_through_byte_for_byte(repo: Path) -> None:
    content = b"typeName,name,qualifiedName\r\nAtlasGlossary,Business Terms,\r\n"
    (repo / "data" / "glossary.csv").write_bytes(content)
    manifest = write_manifest(repo, "    source: ../data/glossary.csv\n")
    (desired,) = read_desired([manifest], instance="default", environ={})
    (file,) = desired.compiled.files
    assert (file.sha256, file.size, file.rows) == (hashlib.sha256(content).hexdigest(), len(content), 1)


def test_a_cached_manifest_still_reads_its_data_afresh(repo: Path, tmp_path: Path) -> None:
    manifest = write_manifest(repo, LONG_FORM)
    cache = ManifestCache(tmp_path / "cache")
    (first,) = read_desired([manifest], instance="default", environ={}, cache=cache)
    (repo / "data" / "terms.csv").write_text(TERMS_CSV + "Business Terms;Account;A login;jane\n")
    (second,) = read_desired(
        [manifest], instance="default", environ={}, cache=ManifestCache(tmp_path / "cache")
    )
    assert cache.misses == 1
    assert (first.compiled.files[0].rows, second.compiled.files[0].rows) == (3, 4)
    (repo / "data" / "terms.csv").unlink()
    with pytest.raises(DataError):
        read_desired([manifest], instance="default", environ={}, cache=ManifestCache(tmp_path / "cache"))


def test_a_data_error_is_a_manifest_error_listing_every_problem(repo: Path) -> None:
    (repo / "data" / "terms.csv").write_text("Business Terms;;A buyer;jane\nBusiness Terms;;A client;raj\n")
    manifest = write_manifest(repo, LONG_FORM)
    with pytest.raises(ManifestError) as caught:
        read_desired([manifest], instance="default", environ={})
    assert isinstance(caught.value, DataError)
    assert [(p.line, p.path) for p in caught.value.problems] == [(1, "name"), (2, "name")]


def test_compile_workflow_keeps_the_files_it_is_given(repo: Path) -> None:
    manifest = write_manifest(repo, LONG_FORM)
    (desired,) = read_desired([manifest], instance="default", environ={})
    from reconciler.manifest.loader import load_manifests

    (loaded,) = load_manifests([manifest])
    again = compile_workflow(loaded.manifest, instance="default", environ={}, files=desired.compiled.files)
    assert again == desired.compiled


# -- render --files --


def test_render_files_of_the_examples_matches_the_committed_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_SECRET_ACCESS_KEY", "GCS_SERVICE_ACCOUNT_JSON", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name)  # no request is compiled: no variable is needed
    out = tmp_path / "out"
    assert cli.main(["render", str(EXAMPLES), "--files", str(out)]) == 0
    written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    expected = sorted(p.relative_to(EXPECTED) for p in EXPECTED.rglob("*") if p.is_file())
    assert (
        written
        == expected
        == [
            Path("business-glossary/glossaries.csv"),
            Path("dbt-lineage/lineage.csv"),
            Path("snowflake-assets/assets.csv"),
        ]
    )
    for path in expected:
        assert (out / path).read_bytes() == (EXPECTED / path).read_bytes(), path
    lines = capsys.readouterr().out.splitlines()
    digest = hashlib.sha256((EXPECTED / expected[0]).read_bytes()).hexdigest()
    assert (
        lines[0]
        == f"{out / expected[0]}: 8 rows, {(EXPECTED / expected[0]).stat().st_size} bytes, sha256 {digest}"
    )


def test_render_files_writes_what_the_compiled_digest_says(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_manifest(repo, LONG_FORM)
    assert cli.main(["render", "--files", str(tmp_path / "out"), str(manifest)]) == 0
    (desired,) = read_desired([manifest], instance="default", environ={})
    written = (tmp_path / "out" / "terms" / "glossaries.csv").read_bytes()
    assert written == GENERATED.encode()
    assert hashlib.sha256(written).hexdigest() == desired.compiled.files[0].sha256


def test_render_files_writes_nothing_when_any_source_has_a_problem(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_manifest(repo, LONG_FORM, name="good")
    (repo / "data" / "bad.csv").write_text('Business Terms;"Customer;A buyer;jane\n')
    write_manifest(repo, LONG_FORM.replace("terms.csv", "bad.csv"), name="bad")
    out = tmp_path / "out"
    assert cli.main(["render", "--files", str(out), str(repo / "manifests")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{repo / 'data' / 'bad.csv'}:1: a quoted field opened on line 1 is never closed",
        "error: 1 problem in 1 file",
    ]
    assert not out.exists()  # neither good's file nor the directories


def test_render_files_says_one_row_in_the_singular(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = "typeName,name,qualifiedName\nAtlasGlossary,Business Terms,\n"
    (repo / "data" / "glossary.csv").write_text(content)
    manifest = write_manifest(repo, "    source: ../data/glossary.csv\n")
    assert cli.main(["render", "--files", str(tmp_path / "out"), str(manifest)]) == 0
    target = tmp_path / "out" / "terms" / "glossaries.csv"
    assert capsys.readouterr().out.startswith(f"{target}: 1 row, {len(content)} bytes, sha256 ")


def test_render_files_replaces_earlier_files_whole(repo: Path, tmp_path: Path) -> None:
    manifest = write_manifest(repo, LONG_FORM)
    target = tmp_path / "out" / "terms" / "glossaries.csv"
    target.parent.mkdir(parents=True)
    target.write_text("stale\n")
    assert cli.main(["render", "--files", str(tmp_path / "out"), str(manifest)]) == 0
    assert target.read_text() == GENERATED
    assert sorted(p.name for p in target.parent.iterdir()) == ["glossaries.csv"]


def test_render_files_without_a_source_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES / "asset-import", manifests)
    (manifests / "business-glossary.yaml").unlink()
    (manifests / "snowflake-assets.yaml").unlink()
    assert cli.main(["render", "--files", str(tmp_path / "out"), str(manifests)]) == 0
    assert capsys.readouterr().out == "No manifest has a source: no file written.\n"
    assert not (tmp_path / "out").exists()


# -- the format's description --


def test_the_schema_and_the_field_reference_describe_source() -> None:
    schema = manifest_json_schema()
    for section in ("AssetsSection", "GlossariesSection", "DataProductsSection", "LineageSection"):
        source = schema["$defs"][section]["properties"]["source"]
        assert {"type": "string"} in source["anyOf"]
        assert {"$ref": "#/$defs/Source"} in source["anyOf"]
    assert set(schema["$defs"]["Source"]["properties"]) == {"file", "template", "csv", "mask"}
    reference = field_reference()
    assert "| `spec.lineage.source` | string or mapping | — |" in reference
    assert "| `spec.glossaries.source.template` | string or list | — |" in reference
    assert '| `spec.assets.source.csv.separator` | string | `";"` |' in reference

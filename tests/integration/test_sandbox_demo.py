"""The demo's own manifests in the sandbox (issue 17): applied to the embedded emulator, their
imports run into its local catalog, which then holds exactly what their files say; one edited row
is reported as ``updated 1`` by ``apply --wait``. What ``make demo`` shows, asserted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler import cli
from tests.helpers import EXAMPLES

GLOSSARY_DATA = "data/glossary-export.csv"
EDITED_ROW = ("says it.;raj.patel;;DRAFT", "says it.;raj.patel;;VERIFIED")


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the examples, with the demo's environment: the embedded emulator, stand-in keys."""
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "GCS_SERVICE_ACCOUNT_JSON",
        "AZURE_CLIENT_SECRET",
    ):
        monkeypatch.setenv(name, "demo-secret")
    copy = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, copy)
    monkeypatch.chdir(tmp_path)
    return copy


def catalog(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert cli.main(["emulator", "catalog", "-o", "json", *args]) == 0
    body: dict[str, object] = json.loads(capsys.readouterr().out)
    return body


def test_the_demos_imports_fill_the_catalog_and_one_edited_row_is_one_update(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["apply", "--auto-approve", str(demo)]) == 0

    groups = {(g["kind"], g["name"]): g["counts"] for g in catalog(capsys)["groups"]}  # type: ignore[attr-defined]
    assert groups == {
        ("glossary", "Business Terms"): {"AtlasGlossaryTerm": 4},
        ("glossary", "Data Quality"): {"AtlasGlossaryTerm": 2},
        ("connection", "dbt-cloud (dbt)"): {"Process": 3},
        ("connection", "production (snowflake)"): {"Database": 1, "Schema": 2, "Table": 2, "View": 2},
    }
    terms = catalog(capsys, "--type", "AtlasGlossaryTerm", "--name", "Client")["assets"]
    assert [t["attributes"]["certificateStatus"] for t in terms] == ["DRAFT"]  # type: ignore[index]
    [process] = catalog(capsys, "--name", "ORDERS > ORDERS_DAILY")["assets"]  # type: ignore[misc]
    assert [
        i["uniqueAttributes"]["qualifiedName"].rpartition("/")[2] for i in process["attributes"]["inputs"]
    ] == ["ORDERS"]
    assert [
        o["uniqueAttributes"]["qualifiedName"].rpartition("/")[2] for o in process["attributes"]["outputs"]
    ] == ["ORDERS_DAILY"]

    data = demo / GLOSSARY_DATA
    data.write_text(data.read_text().replace(*EDITED_ROW))
    capsys.readouterr()
    assert cli.main(["apply", "--auto-approve", "--wait", str(demo)]) == 0
    out = capsys.readouterr().out
    [imported] = [line for line in out.splitlines() if "AssetImport.business-glossary  glossaries" in line]
    assert "created 0, updated 1," in imported
    terms = catalog(capsys, "--type", "AtlasGlossaryTerm", "--name", "Client")["assets"]
    assert [t["attributes"]["certificateStatus"] for t in terms] == ["VERIFIED"]  # type: ignore[index]


def test_a_run_that_fails_its_import_fails_apply_wait_with_the_line(
    tmp_path: Path, demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that reconciler's own checks accept but the package would reject (a term whose
    glossary does not exist) fails its run; ``apply --wait`` exits 1 and says where, and drift
    shows the same first error."""
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "terms.csv").write_text(
        "typeName,name,qualifiedName,anchor\nAtlasGlossary,Sales,,\nAtlasGlossaryTerm,Revenue,,Finance\n"
    )
    (project / "terms.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: terms}\nspec:\n"
        "  glossaries:\n    prefix: /terms\n    object_key: terms.csv\n    input_handling: upsert\n"
        "    source: data/terms.csv\n"
    )
    capsys.readouterr()
    assert cli.main(["apply", "--auto-approve", "--wait", str(project / "terms.yaml")]) == 1
    out = capsys.readouterr().out
    [failed] = [
        line for line in out.splitlines() if "AssetImport.terms" in line and "failed (run Failed)" in line
    ]
    assert "ended Failed: glossaries line 3, column anchor: " in failed
    assert "Finance" in failed
    assert "AssetImport.terms  glossaries  created 1, updated 0, restored 0, skipped 0, failed 1" in out

    capsys.readouterr()
    assert cli.main(["drift", str(project / "terms.yaml")]) == 3
    assert "glossaries line 3, column anchor: " in capsys.readouterr().out


def test_full_replacement_is_guarded_by_the_plan_and_carried_out_by_the_sandbox(
    tmp_path: Path, demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issues 17 and 18 together: rows removed from a file under ``delta.semantic: full`` are
    refused past --max-prune, planned as archives when allowed, and archived by the run."""
    project = tmp_path / "full"
    (project / "data").mkdir(parents=True)
    data = project / "data" / "assets.csv"
    tables = "".join(f"Table,{{{{snowflake/prod}}}}/DB/S/{n},{n},snowflake\n" for n in "ABCD")
    data.write_text(
        "typeName,qualifiedName,name,connectorType\nConnection,{{snowflake/prod}},prod,snowflake\n" + tables
    )
    manifest = project / "full.yaml"
    manifest.write_text(
        "apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: full}\nspec:\n  assets:\n"
        "    prefix: /full\n    object_key: assets.csv\n    input_handling: upsert\n"
        "    delta: {semantic: full, removal: archive}\n    source: data/assets.csv\n"
    )
    assert cli.main(["apply", "--auto-approve", "--wait", str(manifest)]) == 0
    data.write_text(
        "\n".join(line for line in data.read_text().splitlines() if "/S/C" not in line and "/S/D" not in line)
        + "\n"
    )

    capsys.readouterr()
    assert cli.main(["plan", str(manifest)]) == 1
    assert (
        "refusing full replacement: AssetImport.full would archive 2 of the 5 assets"
        in capsys.readouterr().err
    )
    assert cli.main(["apply", "--auto-approve", "--wait", "--max-prune", "50%", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert (
        "# full replacement: 2 assets not in the new file will be archived (40% of the previous file's 5 rows)"
        in out
    )
    assert "AssetImport.full  assets  created 0, updated 0, restored 3, skipped 0, failed 0, deleted 2" in out
    tables_now = catalog(capsys, "--type", "Table")["assets"]
    assert sorted((t["attributes"]["name"], t["status"]) for t in tables_now) == [  # type: ignore[index, union-attr]
        ("A", "ACTIVE"),
        ("B", "ACTIVE"),
        ("C", "DELETED"),
        ("D", "DELETED"),
    ]

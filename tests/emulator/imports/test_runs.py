"""Import runs through the workflow API: carried out when submitted, their outcome shown once the
clock says they are final, their results.csv in the tenant store."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reconciler.commands import emulator as emulator_command
from reconciler.emulator.store import Store
from tests.emulator.conftest import package_body
from tests.emulator.imports.conftest import CONN, Run, Sandbox, counts

GOOD = f"typeName,qualifiedName,name\nTable,{CONN}/A,A\nTable,{CONN}/B,B\n"
BAD = f"typeName,qualifiedName,name\nTable,{CONN}/A,A\nTable,{CONN}/B,B,extra\n"
UPSERT = {"assets_upsert_semantic": "upsert"}


def test_the_outcome_shows_only_once_the_clock_says_the_run_is_final(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(run_seconds=30.0, pending_seconds=1.0)
    pending = sandbox.run({"assets": BAD}, **UPSERT)
    assert pending.phase == "Pending"
    assert "outputs" not in pending.status
    assert "message" not in pending.status
    name = pending.source["metadata"]["name"]
    template = pending.source["spec"]["workflowTemplateRef"]["name"]
    sandbox.request("POST", "/_emulator/clock", json={"advance": 5})
    running = sandbox.last_run(template)
    assert (running.phase, "outputs" in running.status) == ("Running", False)
    sandbox.request("POST", "/_emulator/clock", json={"advance": 30})
    final = sandbox.last_run(template)
    assert final.source["metadata"]["name"] == name
    assert final.phase == "Failed"
    key = final.results["files"][0]["key"]
    assert final.message == f"{key.rpartition('/')[2]} line 3: the row has 4 fields but the header has 3"
    assert final.errors == [(3, None, "the row has 4 fields but the header has 3")]


def test_a_good_run_succeeds_and_reports_its_counts_where_the_sdk_reads_them(sandbox: Sandbox) -> None:
    run = sandbox.run({"assets": GOOD}, **UPSERT)
    assert (run.phase, run.message) == ("Succeeded", None)
    name = run.source["metadata"]["name"]
    assert run.results == {
        "files": [
            {
                "section": "assets",
                "store": "tenant",
                "key": run.results["files"][0]["key"],
                **counts(created=2),
            }
        ],
        "errors": [],
        "warnings": [],
        "results_csv": {"store": "tenant", "key": f"argo-artifacts/{name}/results.csv"},
    }


def test_results_csv_is_downloadable_through_the_tenant_file_api(sandbox: Sandbox) -> None:
    sandbox.run({"assets": GOOD}, **UPSERT)
    run = sandbox.run(
        {"assets": f"typeName,qualifiedName,name,certificateStatus\nTable,{CONN}/A,A,NOPE\n"}, **UPSERT
    )
    key = run.results["results_csv"]["key"]
    presigned = sandbox.request(
        "POST", "/api/service/files/presignedUrl", json={"key": key, "expiry": "30s", "method": "GET"}
    )
    assert presigned.status_code == 200, presigned.text
    download = sandbox.request("GET", presigned.json()["url"])
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows == [
        [
            "Action",
            "Asset type",
            "Qualified name",
            "Asset name",
            "Loaded as",
            "Failure reason",
            "Batch ID",
            "Asset GUID",
        ],
        [
            "failed",
            "Table",
            f"{CONN}/A",
            "A",
            "primary",
            "expected one of DEPRECATED, DRAFT, VERIFIED; got 'NOPE'",
            "assets-1",
            "",
        ],
    ]
    assert sandbox.attributes("Table", f"{CONN}/A").get("certificateStatus") is None


def test_a_rerun_through_submit_or_trigger_as_owner_imports_again(sandbox: Sandbox) -> None:
    sandbox.put("in/a.csv", GOOD)
    params = {"assets_prefix": "in", "assets_key": "a.csv", **UPSERT}
    first = sandbox.submit("asset-import", params, name="csa-asset-import-1700000000")
    assert first.counts() == counts(created=2)
    sandbox.put("in/a.csv", GOOD.replace("Table,", "View,"))
    body = {
        "namespace": "default",
        "resourceKind": "WorkflowTemplate",
        "resourceName": "csa-asset-import-1700000000",
    }
    for path in ("/api/service/workflows/submit", "/api/service/workflows/triggerAsOwner"):
        answer = sandbox.request("POST", path, json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"]["phase"] == "Succeeded"  # the answer shows the run as it ends
    assert sandbox.last_run("csa-asset-import-1700000000").counts() == counts(restored=2)
    assert len(sandbox.assets("View")) == 2


def test_a_missing_file_fails_the_run(sandbox: Sandbox) -> None:
    run = sandbox.submit("asset-import", {"assets_prefix": "in", "assets_key": "none.csv", **UPSERT})
    assert (run.phase, run.message) == ("Failed", "none.csv: No input file found at tenant:in/none.csv")
    no_file = sandbox.submit("asset-import", {"assets_upsert_semantic": "upsert"})
    assert (
        no_file.message == "No input file was provided for either data products, glossaries, assets or tags."
    )


def test_a_run_the_failure_rate_fails_imports_nothing(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(failure_rate=1.0)
    run = sandbox.run({"assets": GOOD}, **UPSERT)
    assert (run.phase, run.message, "outputs" in run.status) == ("Failed", "child 'run' failed", False)
    assert sandbox.assets() == []
    assert sandbox.request("POST", "/_emulator/settings", json={"failure_rate": 0}).status_code == 200
    assert sandbox.run({"assets": GOOD}, **UPSERT).counts() == counts(created=2)


def test_with_imports_off_runs_are_only_accepted(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(run_imports=False)
    run = sandbox.run({"assets": BAD}, **UPSERT)
    assert (run.phase, "outputs" in run.status) == ("Succeeded", False)
    assert sandbox.assets() == []


def test_workflows_of_other_packages_are_not_carried_out(sandbox: Sandbox) -> None:
    params = {"assets_prefix": "in", "assets_key": "none.csv"}
    run = sandbox.submit("atlan-snowflake", params)
    assert (run.phase, "outputs" in run.status) == ("Succeeded", False)
    assert sandbox.submit("asset-import", params).phase == "Failed"  # the same, imported: no file


def test_a_run_reads_the_bucket_its_credential_names(sandbox: Sandbox) -> None:
    sandbox.put("test/prefix/assets-test.csv", GOOD, store="s3/my-bucket")
    body = package_body("asset_import_s3", "csa-asset-import-1700000123")
    answer = sandbox.request("POST", "/api/service/workflows?submit=true", json=body)
    assert answer.status_code == 200, answer.text
    run = sandbox.last_run("csa-asset-import-1700000123")
    # The fixture's glossaries file is not there: the run fails before loading anything.
    assert (
        run.message
        == "glossaries-test.csv: No input file found at s3/my-bucket:test/prefix/glossaries-test.csv"
    )
    assert [f["store"] for f in run.results["files"]] == ["s3/my-bucket"]
    assert sandbox.assets() == []


def test_the_admin_reset_empties_the_catalog(sandbox: Sandbox) -> None:
    sandbox.run({"assets": GOOD, "tags": "Atlan tag name\nPII\n"}, **UPSERT)
    assert len(sandbox.assets()) == 2
    assert sandbox.request("POST", "/_emulator/reset").status_code == 200
    assert sandbox.assets() == []
    assert sandbox.catalog.tag_definitions() == []


def test_a_database_from_before_gets_the_runs_result_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        conn.execute("INSERT INTO meta (key, value) VALUES ('rv', 1), ('epoch', 0)")
        conn.execute(
            "CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, template TEXT"
            " NOT NULL, rv INTEGER NOT NULL, created_at REAL NOT NULL, pending_seconds REAL NOT NULL,"
            " run_seconds REAL NOT NULL, outcome TEXT NOT NULL, stopped_at REAL, source TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO runs (name, template, rv, created_at, pending_seconds, run_seconds, outcome, source)"
            " VALUES ('r-1', 't', 1, 0, 0, 0, 'Succeeded', '{\"metadata\": {}}')"
        )
    store = Store(path)
    try:
        (run,) = store.runs()
        assert (run.name, run.result) == ("r-1", None)
        columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(runs)")]
        assert columns[-1] == "result"
    finally:
        store.close()


@pytest.mark.parametrize("stop_after", [5.0])
def test_a_stopped_run_keeps_the_stop_message(make_sandbox: Any, stop_after: float) -> None:
    sandbox: Sandbox = make_sandbox(run_seconds=30.0, pending_seconds=1.0)
    run: Run = sandbox.run({"assets": BAD}, **UPSERT)
    sandbox.request("POST", "/_emulator/clock", json={"advance": stop_after})
    name = run.source["metadata"]["name"]
    assert sandbox.request("POST", f"/api/service/runs/{name}/stop").status_code == 200
    stopped = sandbox.last_run(run.source["spec"]["workflowTemplateRef"]["name"])
    assert (stopped.phase, stopped.message) == ("Failed", "Stopped with strategy 'Stop'")
    assert stopped.results["errors"]  # what the import did is still reported


@pytest.mark.parametrize(("flag", "expected"), [([], True), (["--no-imports"], False)])
def test_emulator_serve_no_imports_only_accepts_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: list[str], expected: bool
) -> None:
    served: list[Any] = []
    monkeypatch.setattr("reconciler.emulator.server.serve", lambda config, **_: served.append(config))
    argv = ["serve", "--api-key", "k", "--db", str(tmp_path / "e.db"), *flag]
    result = CliRunner().invoke(emulator_command.app, argv)
    assert result.exit_code == 0, result.output
    assert [config.run_imports for config in served] == [expected]

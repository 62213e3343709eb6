"""Full replacement: what the previous file of the connection had and the new one lacks is
archived or purged (../shared/atlan-csv-formats.md §7.8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.imports.conftest import CONN, Sandbox, counts

HEADER = "qualifiedName,typeName,name,description"
ROWS = {
    "DB": f"{CONN}/DB,Database,DB,",
    "SCH": f"{CONN}/DB/SCH,Schema,SCH,A schema",
    "TBL": f"{CONN}/DB/SCH/TBL,Table,TBL,",
    "VIEW": f"{CONN}/DB/SCH/VIEW,View,VIEW,",
}
FULL = {"assets_upsert_semantic": "upsert", "assets_delta_semantic": "full"}


def assets(*names: str, **edits: str) -> str:
    rows = [edits.get(name, ROWS.get(name, "")) for name in names]
    return "\n".join([HEADER, *rows]) + "\n"


def load(sandbox: Sandbox, file: str, **params: Any) -> Any:
    return sandbox.run({"assets": file}, **{**FULL, **params})


def test_a_first_full_load_deletes_nothing_and_keeps_the_file_for_the_next(sandbox: Sandbox) -> None:
    run = load(sandbox, assets("DB", "SCH", "TBL", "VIEW"))
    assert run.counts() == counts(created=4)
    listed = sandbox.request("GET", "/_emulator/objects").json()
    kept = [o["key"] for o in listed["objects"] if o["key"].startswith(f"csa-asset-import/{CONN}/")]
    assert kept == [f"csa-asset-import/{CONN}/20270115-080000000.processed"]  # the emulator's clock, UTC


@pytest.mark.parametrize("removal", ["archive", "purge"])
def test_what_the_new_file_lacks_is_archived_or_purged(sandbox: Sandbox, removal: str) -> None:
    load(sandbox, assets("DB", "SCH", "TBL", "VIEW"))
    sandbox.request("POST", "/_emulator/clock", json={"advance": 60})
    run = load(sandbox, assets("DB", "SCH", "TBL"), assets_delta_removal_type=removal)
    assert (run.phase, run.counts()) == ("Succeeded", counts(restored=3, deleted=1))
    view = sandbox.catalog.find("View", f"{CONN}/DB/SCH/VIEW")
    if removal == "archive":
        assert view is not None
        assert view["status"] == "DELETED"
    else:
        assert view is None
    assert sandbox.asset("Table", f"{CONN}/DB/SCH/TBL")["status"] == "ACTIVE"
    results = sandbox.request("GET", f"/_emulator/objects/tenant/{run.results['results_csv']['key']}").text
    assert f"deleted,View,{CONN}/DB/SCH/VIEW,VIEW,,,," in results


def test_reload_changes_loads_only_new_and_changed_rows(sandbox: Sandbox) -> None:
    load(sandbox, assets("DB", "SCH", "TBL", "VIEW"))
    latest = assets(
        "DB",
        "SCH",
        "TBL",
        "MVIEW",
        SCH=f"{CONN}/DB/SCH,Schema,SCH,A revised schema",
        MVIEW=f"{CONN}/DB/SCH/MVIEW,MaterialisedView,MVIEW,",
    )
    run = load(sandbox, latest, assets_delta_reload_calculation="changes")
    assert run.counts() == counts(created=1, updated=1, deleted=1)
    assert sandbox.attributes("Schema", f"{CONN}/DB/SCH")["description"] == "A revised schema"


def test_the_delta_options_need_full_replacement(sandbox: Sandbox) -> None:
    load(sandbox, assets("DB", "SCH", "TBL", "VIEW"))
    run = load(
        sandbox, assets("DB", "SCH", "TBL"), assets_delta_semantic="delta", assets_delta_removal_type="purge"
    )
    assert run.counts() == counts(restored=3)
    assert sandbox.asset("View", f"{CONN}/DB/SCH/VIEW")["status"] == "ACTIVE"


def test_full_replacement_takes_one_connection_per_file(sandbox: Sandbox) -> None:
    other = "default/snowflake/1700000009/DB,Database,DB2,"
    run = load(sandbox, assets("DB", "OTHER", OTHER=other))
    assert run.errors == [
        (
            3,
            "qualifiedName",
            "Assets in multiple connections detected in the input file. Full delta processing currently only "
            "works for a single connection per input file, exiting.",
        )
    ]
    assert sandbox.assets() == []

"""The lineage builder: sources, targets and a Process per Transformation Identity
(../shared/atlan-csv-formats.md §9)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.data.vocabulary import LINEAGE_COLUMNS
from tests.emulator.imports.conftest import CONN, Sandbox, counts

ETL = "default/matillion/1700000001"
HEADER = ",".join(LINEAGE_COLUMNS) + ",sql,certificateStatus"


def lineage(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def edge(source: str, target: str, job: str = "job_1", extra: str = ",", connection: str = "prod") -> str:
    return (
        f"Table,snowflake,{connection},DB/S/{source},{source},View,Snowflake,prod,DB/S/{target},{target},"
        f"matillion,etl,{job},{source} > {target},{extra}"
    )


@pytest.fixture
def connected(sandbox: Sandbox) -> Sandbox:
    """A sandbox with the connections the rows name: snowflake 'prod' and matillion 'etl'."""
    connections = f"typeName,qualifiedName,name\nConnection,{CONN},prod\nConnection,{ETL},etl\n"
    run = sandbox.run({"assets": connections}, assets_upsert_semantic="upsert")
    assert run.counts() == counts(created=2)
    return sandbox


def run_lineage(sandbox: Sandbox, file: str, **params: Any) -> Any:
    return sandbox.run({"lineage": file}, package="lineage-builder", **params)


def test_rows_make_partial_sources_and_targets_and_one_process_per_identity(connected: Sandbox) -> None:
    file = lineage(edge("A", "B", extra="select 1,DRAFT"), "," * (len(LINEAGE_COLUMNS) + 1), edge("C", "B"))
    run = run_lineage(connected, file)
    assert (run.phase, run.counts("lineage")) == ("Succeeded", counts(created=4))
    source = connected.attributes("Table", f"{CONN}/DB/S/A")
    assert source == {
        "qualifiedName": f"{CONN}/DB/S/A",
        "name": "A",
        "isPartial": True,
        "connectionQualifiedName": CONN,
        "connectorName": "snowflake",
    }
    assert connected.attributes("View", f"{CONN}/DB/S/B")["isPartial"] is True
    process = connected.asset("Process", f"{ETL}/job_1")
    attributes = process["attributes"]
    assert "isPartial" not in attributes  # processes are always created full
    assert [r["uniqueAttributes"]["qualifiedName"] for r in attributes["inputs"]] == [
        f"{CONN}/DB/S/A",
        f"{CONN}/DB/S/C",
    ]
    assert [r["typeName"] for r in attributes["outputs"]] == ["View"]
    assert (attributes["name"], attributes["sql"], attributes["certificateStatus"]) == (
        "A > B",
        "select 1",
        "DRAFT",
    )
    assert (attributes["connectionQualifiedName"], attributes["connectorName"]) == (ETL, "matillion")
    assert run_lineage(connected, file).counts("lineage") == counts(restored=4)


def test_full_creation_and_update_only_handling_of_unknown_assets(connected: Sandbox) -> None:
    run = run_lineage(connected, lineage(edge("A", "B")), lineage_upsert_semantic="upsert")
    assert run.counts("lineage") == counts(created=3)
    assert "isPartial" not in connected.attributes("Table", f"{CONN}/DB/S/A")
    skipping = run_lineage(
        connected, lineage(edge("A", "B"), edge("A", "NEW", job="job_2")), lineage_upsert_semantic="update"
    )
    # A and B found again; NEW skipped, and job_2, left without a target, too.
    assert skipping.counts("lineage") == counts(restored=3, skipped=2)
    assert connected.catalog.find("Process", f"{ETL}/job_2") is None
    assert skipping.warnings == [
        (3, None, "the target {{snowflake/prod}}/DB/S/NEW was skipped: its edge is left out")
    ]


def test_case_insensitive_matching_finds_existing_sources(connected: Sandbox) -> None:
    run_lineage(connected, lineage(edge("ORDERS", "B")), lineage_upsert_semantic="upsert")
    run = run_lineage(
        connected,
        lineage(edge("orders", "B")),
        lineage_case_sensitive=False,
        lineage_upsert_semantic="update",
    )
    assert run.counts("lineage") == counts(restored=2, updated=1)  # the process's name changed
    assert len(connected.assets("Table")) == 1


def test_an_unknown_connection_is_an_error_of_its_row(connected: Sandbox) -> None:
    run = run_lineage(connected, lineage(edge("A", "B"), edge("C", "D", job="job_2", connection="nowhere")))
    assert run.phase == "Failed"
    line, field, message = run.errors[0]
    assert (line, field) == (3, "Source Connection")
    assert "Unable to find connection for the provided details" in message
    assert run.message is not None
    assert run.message.endswith(f"line 3, column Source Connection: {message}")


def test_the_fourteen_headers_are_required_exactly(connected: Sandbox) -> None:
    snake = ",".join(column.lower().replace(" ", "_") for column in LINEAGE_COLUMNS)
    run = run_lineage(connected, snake + "\n")
    ((line, field, message),) = run.errors
    assert (line, field) == (1, None)
    assert message.startswith(
        "Invalid input file received. Input CSV is missing required columns: [Source Type, "
    )
    assert connected.assets("Process") == []

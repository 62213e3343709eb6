"""The assets file's semantics, each on a small file: counts, catalog contents, errors at their
line and column (../shared/atlan-csv-formats.md §2, §7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.imports.conftest import CONN, Sandbox, counts

HEADER = "typeName,qualifiedName,name,description,certificateStatus,certificateStatusMessage"
ADVANCED = {"assets_config": "advanced"}


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def tables(*names: str, header: str = "typeName,qualifiedName,name") -> str:
    return csv(header, *(f"Table,{CONN}/DB/SCH/{name},{name}" for name in names))


def test_upsert_creates_then_counts_an_edited_row_updated_and_the_others_restored(sandbox: Sandbox) -> None:
    first = csv(
        HEADER,
        f"Table,{CONN}/DB/SCH/A,A,first,VERIFIED,ok",
        f"Table,{CONN}/DB/SCH/B,B,second,,",
        f"View,{CONN}/DB/SCH/C,C,,DRAFT,",
    )
    run = sandbox.run({"assets": first}, assets_upsert_semantic="upsert")
    assert (run.phase, run.counts()) == ("Succeeded", counts(created=3))
    table = sandbox.asset("Table", f"{CONN}/DB/SCH/A")
    assert table["status"] == "ACTIVE"
    assert table["displayText"] == "A"
    assert table["attributes"] == {
        "qualifiedName": f"{CONN}/DB/SCH/A",
        "name": "A",
        "description": "first",
        "certificateStatus": "VERIFIED",
        "certificateStatusMessage": "ok",
        "connectionQualifiedName": CONN,
        "connectorName": "snowflake",
    }
    edited = first.replace("second", "changed")
    again = sandbox.run({"assets": edited}, assets_upsert_semantic="upsert")
    assert again.counts() == counts(updated=1, restored=2)
    assert sandbox.attributes("Table", f"{CONN}/DB/SCH/B")["description"] == "changed"
    assert len(sandbox.assets()) == 3


def test_update_only_is_the_default_and_skips_assets_that_do_not_exist(sandbox: Sandbox) -> None:
    sandbox.run({"assets": tables("A")}, assets_upsert_semantic="upsert")
    run = sandbox.run(
        {"assets": csv(HEADER, f"Table,{CONN}/DB/SCH/A,A,now described,,", f"Table,{CONN}/DB/SCH/B,B,,,")}
    )
    assert (run.phase, run.counts()) == ("Succeeded", counts(updated=1, skipped=1))
    assert sandbox.attributes("Table", f"{CONN}/DB/SCH/A")["description"] == "now described"
    assert sandbox.catalog.find("Table", f"{CONN}/DB/SCH/B") is None


def test_partial_creates_partial_assets_and_leaves_full_ones_full(sandbox: Sandbox) -> None:
    sandbox.run({"assets": tables("FULL")}, assets_upsert_semantic="upsert")
    run = sandbox.run({"assets": tables("FULL", "NEW")}, assets_upsert_semantic="partial")
    assert run.counts() == counts(created=1, restored=1)
    assert sandbox.attributes("Table", f"{CONN}/DB/SCH/NEW")["isPartial"] is True
    assert "isPartial" not in sandbox.attributes("Table", f"{CONN}/DB/SCH/FULL")


@pytest.mark.parametrize(
    ("params", "expected", "stored"),
    [
        ({**ADVANCED, "assets_case_sensitive": False}, counts(updated=1), "described"),
        ({"assets_case_sensitive": False}, counts(skipped=1), None),  # not advanced: ignored
        ({**ADVANCED, "assets_case_sensitive": True}, counts(skipped=1), None),
    ],
)
def test_a_case_insensitive_match_updates_the_asset_keeping_its_stored_casing(
    sandbox: Sandbox, params: dict[str, Any], expected: dict[str, int], stored: str | None
) -> None:
    sandbox.run({"assets": tables("ORDERS")}, assets_upsert_semantic="upsert")
    lower = csv(
        HEADER, f"Table,{CONN.upper()}/db/sch/orders,orders,described,,".replace("DEFAULT", "default")
    )
    run = sandbox.run({"assets": lower}, **params)
    assert run.counts() == expected
    (table,) = sandbox.assets("Table")
    assert table["attributes"]["qualifiedName"] == f"{CONN}/DB/SCH/ORDERS"
    assert table["attributes"].get("description") == stored


def test_table_view_agnostic_updates_a_view_named_in_a_table_row(sandbox: Sandbox) -> None:
    sandbox.run(
        {"assets": csv("typeName,qualifiedName,name", f"View,{CONN}/DB/SCH/V,V")},
        assets_upsert_semantic="upsert",
    )
    row = csv(HEADER, f"Table,{CONN}/DB/SCH/V,V,now a view,,")
    assert sandbox.run({"assets": row}).counts() == counts(skipped=1)
    run = sandbox.run({"assets": row}, **ADVANCED, assets_table_view_agnostic=True)
    assert run.counts() == counts(updated=1)
    assert sandbox.attributes("View", f"{CONN}/DB/SCH/V")["description"] == "now a view"
    assert sandbox.assets("Table") == []


def test_blank_cells_clear_only_the_attributes_to_overwrite_and_what_goes_with_them(sandbox: Sandbox) -> None:
    header = f"{HEADER},announcementType,announcementTitle,announcementMessage,userDescription"
    full = csv(header, f"Table,{CONN}/DB/SCH/T,T,kept,VERIFIED,why,warning,Careful,Read this,mine")
    sandbox.run({"assets": full}, assets_upsert_semantic="upsert")
    blank = csv(header, f"Table,{CONN}/DB/SCH/T,T,,,,,,,")
    overwrite = '["certificateStatus","announcementType"]'
    run = sandbox.run({"assets": blank}, **ADVANCED, assets_attr_to_overwrite=overwrite)
    assert run.counts() == counts(updated=1)
    attributes = sandbox.attributes("Table", f"{CONN}/DB/SCH/T")
    for cleared in ("certificateStatus", "certificateStatusMessage", "announcementType", "announcementTitle"):
        assert cleared not in attributes
    assert "announcementMessage" not in attributes
    assert (attributes["description"], attributes["userDescription"]) == ("kept", "mine")


def test_attributes_to_overwrite_are_ignored_unless_the_config_is_advanced(sandbox: Sandbox) -> None:
    sandbox.run(
        {"assets": csv(HEADER, f"Table,{CONN}/DB/SCH/T,T,,VERIFIED,why")}, assets_upsert_semantic="upsert"
    )
    blank = csv(HEADER, f"Table,{CONN}/DB/SCH/T,T,,,")
    run = sandbox.run({"assets": blank}, assets_attr_to_overwrite='["certificateStatus"]')
    assert run.counts() == counts(restored=1)
    assert sandbox.attributes("Table", f"{CONN}/DB/SCH/T")["certificateStatus"] == "VERIFIED"


FIVE = csv(
    HEADER,
    f"Table,{CONN}/DB/SCH/T1,T1,,VERIFIED,",
    f"Table,{CONN}/DB/SCH/T2,T2,,DRAFT,",
    f"Table,{CONN}/DB/SCH/T3,T3,,verified,",
    f"Table,{CONN}/DB/SCH/T4,T4,,APPROVED,",
    f"Table,{CONN}/DB/SCH/T5,T5,,,",
)


def test_a_bad_value_fails_its_whole_batch_and_the_run(sandbox: Sandbox) -> None:
    run = sandbox.run({"assets": FIVE}, assets_upsert_semantic="upsert", **ADVANCED, assets_batch_size=2)
    message = "expected one of DEPRECATED, DRAFT, VERIFIED; got 'APPROVED'"
    assert run.phase == "Failed"
    assert (
        run.message
        == f"{run.results['files'][0]['key'].rpartition('/')[2]} line 5, column certificateStatus: {message}"
    )
    assert run.errors == [(5, "certificateStatus", message)]
    assert run.counts() == counts(created=3, failed=2)
    names = sorted(a["attributes"]["name"] for a in sandbox.assets("Table"))
    assert names == ["T1", "T2", "T5"]  # T3 and T4 were one batch: nothing of it written
    assert sandbox.attributes("Table", f"{CONN}/DB/SCH/T1")["certificateStatus"] == "VERIFIED"


def test_without_fail_on_errors_a_bad_value_is_dropped_with_a_warning(sandbox: Sandbox) -> None:
    params = {**ADVANCED, "assets_fail_on_errors": "false", "assets_upsert_semantic": "upsert"}
    run = sandbox.run({"assets": FIVE}, **params)
    assert (run.phase, run.counts(), run.errors) == ("Succeeded", counts(created=5), [])
    assert run.warnings == [
        (
            5,
            "certificateStatus",
            "expected one of DEPRECATED, DRAFT, VERIFIED; got 'APPROVED' (value skipped)",
        )
    ]
    assert "certificateStatus" not in sandbox.attributes("Table", f"{CONN}/DB/SCH/T4")
    assert (
        sandbox.attributes("Table", f"{CONN}/DB/SCH/T3")["certificateStatus"] == "VERIFIED"
    )  # ALL-CAPS retry


def test_fail_on_errors_off_is_ignored_unless_the_config_is_advanced(sandbox: Sandbox) -> None:
    run = sandbox.run({"assets": FIVE}, assets_upsert_semantic="upsert", assets_fail_on_errors=False)
    assert (run.phase, run.counts()) == ("Failed", counts(failed=5))  # one batch of the default 20


def test_an_archived_asset_in_the_file_is_restored(sandbox: Sandbox) -> None:
    sandbox.run({"assets": tables("A", "B")}, assets_upsert_semantic="upsert")
    archived = sandbox.asset("Table", f"{CONN}/DB/SCH/A")
    sandbox.catalog.put({**archived, "status": "DELETED"})
    run = sandbox.run({"assets": tables("A", "B")})
    assert run.counts() == counts(restored=2)
    assert sandbox.asset("Table", f"{CONN}/DB/SCH/A")["status"] == "ACTIVE"
    assert sandbox.asset("Table", f"{CONN}/DB/SCH/A")["guid"] == archived["guid"]


def test_types_load_parents_first_whatever_the_order_of_the_file(sandbox: Sandbox) -> None:
    file = csv(
        "typeName,qualifiedName,name,schema,database,table,inputs,outputs",
        f"Process,{CONN}/p1,load,,,,Table@{CONN}/DB/SCH/T,Column@{CONN}/DB/SCH/T/C",
        f"Column,{CONN}/DB/SCH/T/C,C,,,Table@{CONN}/DB/SCH/T,,",
        f"Table,{CONN}/DB/SCH/T,T,Schema@{CONN}/DB/SCH,,,,",
        f"Schema,{CONN}/DB/SCH,SCH,,Database@{CONN}/DB,,,",
        f"Database,{CONN}/DB,DB,,,,,",
    )
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    assert (run.phase, run.counts()) == ("Succeeded", counts(created=5))
    table = sandbox.asset("Table", f"{CONN}/DB/SCH/T")
    schema = sandbox.asset("Schema", f"{CONN}/DB/SCH")
    assert table["attributes"]["schema"] == {
        "typeName": "Schema",
        "guid": schema["guid"],
        "uniqueAttributes": {"qualifiedName": f"{CONN}/DB/SCH"},
    }
    process = sandbox.attributes("Process", f"{CONN}/p1")
    assert [r["guid"] for r in process["inputs"]] == [table["guid"]]
    assert [r["uniqueAttributes"]["qualifiedName"] for r in process["outputs"]] == [f"{CONN}/DB/SCH/T/C"]


def test_a_reference_to_an_asset_that_does_not_exist_is_an_error_at_its_cell(sandbox: Sandbox) -> None:
    file = csv("typeName,qualifiedName,name,schema", f"Table,{CONN}/DB/SCH/T,T,Schema@{CONN}/DB/NOPE")
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    assert run.errors == [(2, "schema", f"no Schema with qualifiedName '{CONN}/DB/NOPE' exists")]
    assert sandbox.assets() == []


DEFERRED = csv(
    "typeName,qualifiedName,name,connectorType,database",
    "Connection,{{snowflake/prod}},prod,snowflake,",
    "Database,{{snowflake/prod}}/DB,DB,,",
    "Schema,{{snowflake/prod}}/DB/SCH,SCH,,Database@{{snowflake/prod}}/DB",
)


def test_a_deferred_connection_resolves_to_the_connection_of_that_name_and_type(sandbox: Sandbox) -> None:
    run = sandbox.run({"assets": DEFERRED}, assets_upsert_semantic="upsert")
    assert (run.phase, run.counts()) == ("Succeeded", counts(created=3))
    (connection,) = sandbox.assets("Connection")
    qualified_name = connection["attributes"]["qualifiedName"]
    assert qualified_name == "default/snowflake/1800000000"  # made from the emulator's clock
    assert connection["attributes"]["connectorName"] == "snowflake"
    schema = sandbox.attributes("Schema", f"{qualified_name}/DB/SCH")
    assert schema["database"]["uniqueAttributes"]["qualifiedName"] == f"{qualified_name}/DB"
    again = sandbox.run({"assets": DEFERRED}, assets_upsert_semantic="upsert")
    assert again.counts() == counts(restored=3)  # the connection found again by name and type
    assert len(sandbox.assets("Connection")) == 1


def test_an_unknown_deferred_connection_fails_its_row(sandbox: Sandbox) -> None:
    file = csv("typeName,qualifiedName,name", "Database,{{snowflake/nowhere}}/DB,DB")
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    (error,) = run.errors
    assert error[:2] == (2, "qualifiedName")
    assert "no snowflake connection named 'nowhere'" in error[2]


def test_connections_are_never_created_in_update_mode(sandbox: Sandbox) -> None:
    row = csv("typeName,qualifiedName,name,connectorType", f"Connection,{CONN},prod,snowflake")
    assert sandbox.run({"assets": row}).counts() == counts(skipped=1)
    assert sandbox.assets("Connection") == []
    assert sandbox.run({"assets": row}, assets_upsert_semantic="upsert").counts() == counts(created=1)
    assert sandbox.attributes("Connection", CONN)["name"] == "prod"


def test_a_connection_is_known_by_name_and_connector_type(sandbox: Sandbox) -> None:
    header = "typeName,qualifiedName,name,connectorType,description"
    sandbox.run(
        {"assets": csv(header, f"Connection,{CONN},prod,snowflake,")}, assets_upsert_semantic="upsert"
    )
    by_type = csv(header, "Connection,,prod,snowflake,the same one", "Connection,,prod,databricks,another")
    run = sandbox.run({"assets": by_type}, assets_upsert_semantic="upsert")
    assert run.counts() == counts(updated=1, created=1)
    assert sandbox.attributes("Connection", CONN)["description"] == "the same one"
    names = sorted(c["attributes"]["qualifiedName"] for c in sandbox.assets("Connection"))
    assert names == ["default/databricks/1800000000", CONN]


@pytest.mark.parametrize(
    ("file", "line", "field", "message"),
    [
        (
            csv("typeName,name", "Table,T"),
            1,
            None,
            "Invalid input file received. Input CSV is missing required columns: [qualifiedName]",
        ),
        (
            tables("A") + f"Tabel,{CONN}/DB/SCH/B,B\n",
            3,
            "typeName",
            "Invalid types were supplied in the input file, which cannot be loaded. Remove these or replace "
            "with a valid typeName: [Tabel]",
        ),
        (
            tables("A") + "AtlasGlossaryTerm,x,Revenue\n",
            3,
            "typeName",
            "Found assets that should be loaded via the glossaries file, of types: [AtlasGlossaryTerm]",
        ),
        (
            tables("A") + "DataProduct,x,Sales\n",
            3,
            "typeName",
            "Found assets that should be loaded via the data products file, of types: [DataProduct]",
        ),
        (
            tables("A") + "Table,snowflake/DB/SCH/B,B\n",
            3,
            "qualifiedName",
            "Found an asset without a valid qualifiedName (of type Table): snowflake/DB/SCH/B",
        ),
        (
            csv("typeName,qualifiedName,name", "Connection,default/snowflake,prod"),
            2,
            "qualifiedName",
            "Found a connection without a valid qualifiedName: default/snowflake -- it must be of the form "
            "'default/connectorType/nnnnnnnnnn' or '{{connectorType/connectionName}}'",
        ),
        (
            csv("typeName,qualifiedName,name,classifies,isA", f"Table,{CONN}/T,T,,"),
            1,
            None,
            "Both ends of the same relationship found in the input file for type assets: classifies <> isA",
        ),
    ],
)
def test_a_file_the_package_refuses_fails_the_run_with_nothing_loaded(
    sandbox: Sandbox, file: str, line: int, field: str | None, message: str
) -> None:
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    assert (run.phase, run.errors) == ("Failed", [(line, field, message)])
    assert run.counts() == counts()
    assert sandbox.assets() == []


def test_relaxed_cqn_accepts_a_qualified_name_without_a_connection(sandbox: Sandbox) -> None:
    file = csv("typeName,qualifiedName,name", "Table,mine/DB/SCH/T,T")
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert", relaxed_cqn=True)
    assert run.counts() == counts(created=1)
    assert sandbox.attributes("Table", "mine/DB/SCH/T")["name"] == "T"


def test_a_row_without_type_or_qualified_name_is_skipped_with_a_warning(sandbox: Sandbox) -> None:
    file = csv("typeName,qualifiedName,name", f"Table,{CONN}/T,T", f",{CONN}/U,U", ",,")
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    assert (run.phase, run.counts()) == ("Succeeded", counts(created=1))
    assert run.warnings == [(3, None, "No qualifiedName or typeName found on row: row skipped")]


def test_owners_are_taken_as_given_and_multi_valued_cells_split_on_line_breaks(sandbox: Sandbox) -> None:
    file = csv(
        "typeName,qualifiedName,name,ownerUsers,ownerGroups,description,columnCount,isDiscoverable",
        f'Table,{CONN}/T,T," jane\n\nbob ",data team,"line one§LF±line two",12,TRUE',
    )
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    assert run.counts() == counts(created=1)
    attributes = sandbox.attributes("Table", f"{CONN}/T")
    assert attributes["ownerUsers"] == ["jane", "bob"]
    assert attributes["ownerGroups"] == ["data team"]
    assert attributes["description"] == "line one\nline two"
    assert (attributes["columnCount"], attributes["isDiscoverable"]) == (12, True)


@pytest.mark.parametrize(
    ("handling", "cell", "expected"),
    [
        ("replace", "PII", {"PII": False}),
        ("replace", "", {}),
        ("append", "PII>>FULL", {"Gold": False, "Legacy": True, "PII": True}),
        ("remove", "Legacy", {"Gold": False}),
        ("replace", "++PII\n--Legacy", {"Gold": False, "PII": False}),
        ("ignore", "PII", {"Gold": False, "Legacy": True}),
    ],
)
def test_atlan_tags_follow_the_tag_handling_and_their_prefixes(
    sandbox: Sandbox, handling: str, cell: str, expected: dict[str, bool]
) -> None:
    header = "typeName,qualifiedName,name,atlanTags"
    sandbox.run(
        {"assets": csv(header, f'Table,{CONN}/T,T,"Gold\nLegacy>>LINEAGE_ONLY\nOld<<PROPAGATED"')},
        assets_upsert_semantic="upsert",
    )
    run = sandbox.run(
        {"assets": csv(header, f'Table,{CONN}/T,T,"{cell}"')}, **ADVANCED, assets_tag_handling=handling
    )
    assert run.phase == "Succeeded"
    table = sandbox.asset("Table", f"{CONN}/T")
    assert {c["typeName"]: c["propagate"] for c in table["classifications"]} == expected
    assert table["classificationNames"] == list(expected)
    assert all(c["entityGuid"] == table["guid"] for c in table["classifications"])


def test_assigned_terms_name_terms_that_exist(sandbox: Sandbox) -> None:
    glossary = csv(
        "typeName,name,qualifiedName,anchor",
        "AtlasGlossary,Finance,,",
        "AtlasGlossaryTerm,Revenue,,Finance",
    )
    header = "typeName,qualifiedName,name,assignedTerms"
    assets = csv(header, f"Table,{CONN}/T,T,Revenue@@@Finance", f"Table,{CONN}/U,U,Profit@@@Finance")
    run = sandbox.run({"glossaries": glossary, "assets": assets}, assets_upsert_semantic="upsert")
    assert run.errors == [(3, "assignedTerms", "no term 'Profit@@@Finance' exists")]
    assert run.counts("glossaries") == counts(created=2)
    assert run.counts("assets") == counts(failed=2)  # one batch of 20
    fixed = assets.replace("Profit", "Revenue")
    assert sandbox.run({"assets": fixed}, assets_upsert_semantic="upsert").counts() == counts(created=2)
    (term,) = sandbox.assets("AtlasGlossaryTerm")
    table = sandbox.attributes("Table", f"{CONN}/T")
    assert [t["guid"] for t in table["assignedTerms"]] == [term["guid"]]
    assert table["meanings"] == table["assignedTerms"]


def test_readme_and_links_are_related_entities_of_the_asset(sandbox: Sandbox) -> None:
    link = '{""typeName"":""Link"",""attributes"":{""name"":""Docs"",""link"":""https://example.com""}}'
    file = csv("typeName,qualifiedName,name,readme,links", f'Table,{CONN}/T,T,<h1>Hi</h1>,"{link}"')
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    assert run.counts() == counts(created=1)
    table = sandbox.asset("Table", f"{CONN}/T")
    readme = sandbox.asset("Readme", f"{table['guid']}/readme")
    assert readme["attributes"]["description"] == "<h1>Hi</h1>"
    assert table["attributes"]["readme"]["guid"] == readme["guid"]
    (stored_link,) = sandbox.assets("Link")
    assert (stored_link["attributes"]["name"], stored_link["attributes"]["link"]) == (
        "Docs",
        "https://example.com",
    )
    assert [r["guid"] for r in table["attributes"]["links"]] == [stored_link["guid"]]
    assert sandbox.run({"assets": file}, assets_upsert_semantic="upsert").counts() == counts(restored=1)
    assert len(sandbox.assets("Link")) == 1  # the same URL: the same link


def test_custom_metadata_is_kept_by_set_and_attribute_and_merged(sandbox: Sandbox) -> None:
    header = "typeName,qualifiedName,name,Quality::Score,Quality::Checks"
    sandbox.run(
        {"assets": csv(header, f'Table,{CONN}/T,T,90,"nulls\nranges"')}, assets_upsert_semantic="upsert"
    )
    assert sandbox.asset("Table", f"{CONN}/T")["businessAttributes"] == {
        "Quality": {"Score": "90", "Checks": ["nulls", "ranges"]}
    }
    blank = csv(header, f"Table,{CONN}/T,T,,")
    assert sandbox.run({"assets": blank}).counts() == counts(restored=1)  # blank: left as it is
    run = sandbox.run({"assets": blank}, **ADVANCED, assets_cm_handling="overwrite")
    assert run.counts() == counts(updated=1)
    assert sandbox.asset("Table", f"{CONN}/T")["businessAttributes"] == {"Quality": {}}

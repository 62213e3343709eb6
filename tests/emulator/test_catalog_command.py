"""``reconciler emulator catalog`` and ``emulator reset``: what the emulated imports put in the
local catalog, grouped by glossary, domain and connection, and emptying it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import cli
from reconciler.emulator.catalog import Catalog
from reconciler.emulator.catalog_view import noun, summarise

CONNECTION = "default/snowflake/1700000000"


def entity(
    type_name: str, qualified_name: str, name: str, *, status: str = "ACTIVE", **attributes: Any
) -> dict[str, Any]:
    return {
        "typeName": type_name,
        "guid": f"guid-{type_name}-{qualified_name}",
        "status": status,
        "attributes": {"qualifiedName": qualified_name, "name": name, **attributes},
    }


ENTITIES = [
    entity("AtlasGlossary", "g1", "Business Terms"),
    entity("AtlasGlossaryTerm", "t1@g1", "Customer"),
    entity("AtlasGlossaryTerm", "t2@g1", "Client"),
    entity("AtlasGlossaryCategory", "c1@g1", "Sales"),
    entity("AtlasGlossary", "g2", "Data Quality"),
    entity("Connection", CONNECTION, "production", connectorName="snowflake"),
    entity("Database", f"{CONNECTION}/ACME", "ACME"),
    entity("Table", f"{CONNECTION}/ACME/RAW/ORDERS", "ORDERS"),
    entity("Table", f"{CONNECTION}/ACME/RAW/OLD", "OLD", status="DELETED"),
    entity("View", f"{CONNECTION}/ACME/ANALYTICS/DAILY", "DAILY", isPartial=True),
    entity("Process", f"{CONNECTION}/dbt/DAILY", "ORDERS > DAILY"),
    entity("DataDomain", "default/domain/sales/super", "Sales"),
    entity("DataDomain", "default/domain/sales/super/domain/eu", "EU"),
    entity("DataProduct", "default/domain/sales/super/domain/eu/product/p1", "Orders 360"),
]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "emulator.db"
    catalog = Catalog(path)
    with catalog.transaction():
        for document in ENTITIES:
            catalog.put(document)
    catalog.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["emulator", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_catalog_is_summarised_by_glossary_domain_and_connection(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "catalog", "--db", str(database))
    assert code == 0
    assert out.splitlines()[:5] == [
        f"The emulator's catalog ({database}): 13 assets, 1 archived",
        "  glossary Business Terms: 2 terms, 1 category",
        "  glossary Data Quality: empty",
        "  domain Sales: 1 sub-domain, 1 product",
        "  connection production (snowflake): 1 database, 1 process, 1 table, 1 view",
    ]
    by_type = [line.split() for line in out.splitlines()[out.splitlines().index("By type:") + 1 :]]
    assert ["Table", "1", "1"] in by_type  # active, archived
    assert ["AtlasGlossaryTerm", "2", "0"] in by_type
    assert "QUALIFIED NAME" not in out  # assets are listed only when asked for


def test_assets_are_listed_by_type_and_name(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "catalog", "--db", str(database), "--type", "Table", "--type", "View")
    assert "Assets (3):" in out
    assert f"  View   DAILY   {CONNECTION}/ACME/ANALYTICS/DAILY  active (partial)" in out
    assert f"  Table  OLD     {CONNECTION}/ACME/RAW/OLD          archived" in out
    _, out, _ = run(capsys, "catalog", "--db", str(database), "--name", "Customer")
    assert "Assets (1):" in out
    assert "t1@g1" in out
    assert "t2@g1" not in out


def test_the_catalog_as_json(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "--db", str(database), "-o", "json", "--type", "AtlasGlossaryTerm")
    body = json.loads(out)
    assert code == 0
    assert body["counts"]["Table"] == {"ACTIVE": 1, "DELETED": 1}
    assert [a["attributes"]["name"] for a in body["assets"]] == ["Customer", "Client"]
    assert body["groups"][0] == {
        "kind": "glossary",
        "name": "Business Terms",
        "qualifiedName": "g1",
        "counts": {"AtlasGlossaryCategory": 1, "AtlasGlossaryTerm": 2},
    }


def test_reset_empties_the_catalog_only(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reset", "--db", str(database))
    assert (code, out) == (0, f"Removed {len(ENTITIES)} assets from the emulator's catalog ({database}).\n")
    _, out, _ = run(capsys, "catalog", "--db", str(database))
    assert out == f"The emulator's catalog ({database}) is empty: no import has run.\n"


def test_no_state_is_not_created_by_looking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing" / "emulator.db"
    assert run(capsys, "catalog", "--db", str(missing))[:2] == (
        0,
        f"The emulator's catalog ({missing}) is empty: no import has run.\n",
    )
    assert run(capsys, "reset", "--db", str(missing))[:2] == (
        0,
        f"Nothing to reset: no emulator state at {missing}.\n",
    )
    assert not missing.parent.exists()


def test_the_default_is_the_embedded_emulators_database(
    database: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(database.parent))
    _, out, _ = run(capsys, "catalog")
    assert out.startswith(f"The emulator's catalog ({database}): 13 assets")


def test_a_bad_output_format_is_refused(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "catalog", "--db", str(database), "-o", "yaml")
    assert (code, out, err) == (1, "", "error: --output must be text or json, not 'yaml'\n")


@pytest.mark.parametrize(
    ("type_name", "count", "said"),
    [
        ("Table", 1, "1 table"),
        ("Process", 3, "3 processes"),
        ("MaterialisedView", 2, "2 materialised views"),
        ("AtlasGlossaryCategory", 2, "2 categories"),
        ("ColumnProcess", 1, "1 column process"),
        ("DataProduct", 4, "4 products"),
        ("SnowflakeDynamicTable", 2, "2 snowflake dynamic tables"),
    ],
)
def test_types_are_named_as_people_say_them(type_name: str, count: int, said: str) -> None:
    assert noun(type_name, count) == said


def test_an_asset_goes_to_the_longest_connection_it_is_under() -> None:
    groups = summarise(
        [
            entity("Connection", "default/snowflake/1", "a"),
            entity("Connection", "default/snowflake/12", "b"),
            entity("Table", "default/snowflake/12/DB/S/T", "T"),
            entity("Table", "default/snowflake/1/DB/S/T", "T"),
            entity("Table", "elsewhere/T", "T"),
        ]
    )
    assert [g.describe() for g in groups] == [
        "connection a: 1 table",
        "connection b: 1 table",
        "other assets: 1 table",
    ]

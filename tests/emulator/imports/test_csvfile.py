"""Reading an input file as the packages do: FastCSV's rules, trimming, multi-valued cells,
encodings; every problem at its line (../shared/atlan-csv-formats.md §1)."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator.catalog import Catalog
from reconciler.emulator.imports.csvfile import FileError, read_table, text, trim, values
from reconciler.emulator.imports.run import execute
from reconciler.emulator.objects import ObjectStore
from tests.emulator.imports.conftest import CONN, Sandbox, counts


def test_quoted_cells_hold_separators_quotes_and_line_breaks_and_rows_keep_their_first_line() -> None:
    data = b'a,b,c\n1,"x, ""y""","two\nlines"\n\n\n2,,"3"\r\n'
    table = read_table(data)
    assert table.header == ("a", "b", "c")
    assert table.rows == [(2, ["1", 'x, "y"', "two\nlines"]), (6, ["2", "", "3"])]


def test_the_separator_is_the_workflow_s_one_character() -> None:
    table = read_table(b"a;b|c\n1;2|3\n", separator=";")
    assert table.rows == [(2, ["1", "2|3"])]


def test_headers_and_cells_are_trimmed_of_spaces_byte_order_marks_and_zero_width_spaces() -> None:
    data = codecs.BOM_UTF8 + " typeName ,\u200bname\ufeff\n  Table \t, \u200bT\u200b \n".encode()
    table = read_table(data)
    assert table.header == ("typeName", "name")
    assert table.rows == [(2, ["Table", "T"])]


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"a,b\n1,2\n\n3\n", 4, "the row has 1 fields but the header has 2"),
        (b"a,b\n1,2,3\n", 2, "the row has 3 fields but the header has 2"),
        (
            b'a,b\n"open,1\n2,2\n',
            2,
            "the row has 1 fields but the header has 2 (a quoted field that opens here is never closed?)",
        ),
        (b"\n\n", None, "the file is empty: it has no header row"),
        (b"a,b\n1,2\n3,\xff\n", 3, "cannot be read as UTF-8: invalid start byte"),
    ],
)
def test_a_file_that_cannot_be_read_names_the_line(data: bytes, line: int | None, message: str) -> None:
    with pytest.raises(FileError) as raised:
        read_table(data)
    assert (raised.value.line, raised.value.message) == (line, message)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("name\nCafé ☕\n".encode("utf-16"), None),  # a UTF-16 byte-order mark is honoured
        ("name\nCafé ☕\n".encode("utf-32"), "windows-1252"),  # whatever input_encoding says
        (codecs.BOM_UTF8 + "name\nCafé ☕\n".encode(), "UTF-8"),
    ],
)
def test_byte_order_marks_decide_the_encoding(data: bytes, encoding: str | None) -> None:
    assert read_table(data, encoding=encoding).rows == [(2, ["Café ☕"])]


def test_input_encoding_decodes_other_charsets() -> None:
    assert read_table("name\nCafé\n".encode("cp1252"), encoding="windows-1252").rows == [(2, ["Café"])]


def test_multi_valued_cells_split_on_line_breaks_and_strings_spell_them_with_a_sentinel() -> None:
    assert values(" a \r\n\n b\u200b\n") == ["a", "b"]
    assert values("") == []
    assert text("one§LF±two") == "one\ntwo"


def test_a_malformed_file_fails_its_run_with_the_line_and_nothing_loaded(sandbox: Sandbox) -> None:
    file = f'typeName,qualifiedName,name\nTable,{CONN}/A,A\nTable,{CONN}/B,"B\nstill B"\nTable,{CONN}/C\n'
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert")
    assert run.phase == "Failed"
    assert run.errors == [(5, None, "the row has 2 fields but the header has 3")]
    assert run.message is not None
    assert run.message.endswith(".csv line 5: the row has 2 fields but the header has 3")
    assert sandbox.assets() == []


def test_the_advanced_separator_and_the_input_encoding_apply_to_a_run(sandbox: Sandbox) -> None:
    file = f"typeName;qualifiedName;name;description\nTable;{CONN}/T;T;Crème, brûlée\n".encode("cp1252")
    params = {"assets_config": "advanced", "assets_field_separator": ";", "input_encoding": "windows-1252"}
    run = sandbox.run({"assets": file}, assets_upsert_semantic="upsert", **params)
    assert run.counts() == counts(created=1)
    assert sandbox.attributes("Table", f"{CONN}/T")["description"] == "Crème, brûlée"


def test_a_separator_of_more_than_one_character_fails_the_run(sandbox: Sandbox) -> None:
    run = sandbox.run({"assets": "x"}, assets_config="advanced", assets_field_separator=";;")
    assert run.errors == [
        (None, None, "Field separator must be only a single character. The provided value is too long: ;;")
    ]


CELLS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(description=CELLS, separator=st.sampled_from([",", ";", "|", "\t"]))
def test_any_cell_survives_quoting_into_the_catalog(
    tmp_path_factory: pytest.TempPathFactory, description: str, separator: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerows(
        [["typeName", "qualifiedName", "name", "description"], ["Table", f"{CONN}/T", "T", description]]
    )
    root = tmp_path_factory.mktemp("objects")
    objects, catalog = ObjectStore(Path(root)), Catalog(":memory:")
    try:
        objects.write("tenant", "in/assets.csv", out.getvalue().encode())
        params = {"assets_prefix": "in", "assets_key": "assets.csv", "assets_upsert_semantic": "upsert"}
        params.update(assets_config="advanced", assets_field_separator=separator)
        spec = {"arguments": {"parameters": [{"name": k, "value": v} for k, v in params.items()]}}
        inputs = [{"section": "assets", "store": "tenant", "key": "in/assets.csv", "state": "found"}]
        source = {"status": {"storedWorkflowTemplateSpec": spec, "inputs": inputs}}
        execution = execute("run-1", source, objects=objects, catalog=catalog, now=1.0, username="me")
        assert execution.phase == "Succeeded", execution.message
        stored = catalog.find("Table", f"{CONN}/T")
        assert stored is not None
        expected = text(trim(description))
        assert stored["attributes"].get("description") == (expected or None)
    finally:
        catalog.close()
        objects.close()

"""The fast path (reconciler/data/columns.py, the batch reader, ``CsvWriter.write_columns``) gives
exactly what the row-by-row path gives: the same records, bytes, digest, rows and problems."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler.data import CsvOptions, DataError, load_template, render_source
from reconciler.data import render as render_module
from reconciler.data import tokenizer as tokenizer_module
from reconciler.data.problems import Problems
from reconciler.data.tokenizer import CsvSyntaxError, Record, read_records, record_batches, records
from reconciler.data.writer import Columns, CsvWriter

BENCHMARK = {
    "typeName": "Table",
    "qualifiedName": "default/snowflake/1700000000/${1}/${2}",
    "name": "${2}",
    "userDescription": "${3}",
    "ownerUsers": ["${4}"],
}
TERM = {"typeName": "AtlasGlossaryTerm", "name": "${1}", "anchor": "${2}"}
# Values the source cells are drawn from, in every column: trimmed, quoted and escaped values,
# lists with repeats and empty values.
CELLS = [
    "A", "B", " A ", "", "x,y", "x, y", "y,x,x", ",", ",x", "a|b", "|a,b|", "c\\\\,d", '"q;r"', "é",
    "a\tb", "\u200bz",
]  # fmt: skip
TYPES = ["Table", "View", "Tabel", "AtlasGlossaryTerm", "AtlasGlossaryCategory", "AtlasGlossary", ""]
# (section, template, what each input column holds besides CELLS)
TEMPLATES: list[tuple[str, list[Any], list[list[str]]]] = [
    ("assets", [BENCHMARK], []),
    # typeName and an enum from the input, checked; fixed text that Atlan would trim
    (
        "assets",
        [{"typeName": "${1}", "qualifiedName": " q/${2} ", "name": "${2}", "certificateStatus": "${3}"}],
        [["Table", "View", "Tabel"], ["N"], ["VERIFIED", "DRAFT", "Verifed", ""]],
    ),
    # two elements; a term needs its anchor
    (
        "glossaries",
        [
            {"typeName": "AtlasGlossary", "name": "${2}"},
            {"typeName": "${1}", "name": "${3}", "anchor": "${2}"},
        ],
        [TYPES],
    ),
    ("glossaries", [{"typeName": "${1}", "name": "${2}", "anchor": "${3}"}], [TYPES, ["N"], ["", "G"]]),
    ("glossaries", [TERM], [["N"], ["", "G"]]),
    ("glossaries", [{"typeName": "${1}", "name": "${2}", "anchor": ""}], [TYPES, ["N"]]),
    # every row lacks the anchor a term needs
    ("glossaries", [{"typeName": "AtlasGlossaryTerm", "name": "${1}"}], []),
    # one identity column
    ("tags", [{"Atlan tag name": "${1}", "Description": "${2}", "Allowed values for tag": ["${3}"]}], []),
]
OPTIONS = [CsvOptions(), CsvOptions(header_row=True), CsvOptions(separator=",", quote="'")]


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[Any], list[list[str]]]:
    """A template and the rows of a source for it (some blank, some short)."""
    section, template, pools = draw(st.sampled_from(TEMPLATES))
    columns = [st.sampled_from(pool) | st.sampled_from(CELLS) for pool in pools]
    columns += [st.sampled_from(CELLS)] * (5 - len(columns))
    width = st.just(5) | st.integers(1, 5)
    row = st.tuples(*columns, width).map(lambda found: list(found[: found[-1]]))
    return section, template, draw(st.lists(st.just([]) | row | row | row, max_size=14))


def outcome(source: Path, section: str, template: list[Any], options: CsvOptions) -> tuple[Any, ...]:
    """The rendered file, or the problems; either way the bytes that reached the sink (both paths
    write the same rows, problems or not)."""
    sink = io.BytesIO()
    try:
        rendered = render_source(source, load_template(template, section), options, sink=sink)  # type: ignore[arg-type]
    except DataError as exc:
        return ("error", [str(problem) for problem in exc.problems], exc.omitted, sink.getvalue())
    return ("ok", sink.getvalue(), rendered.rows, rendered.header, rendered.sha256)


@settings(max_examples=500, deadline=None)
@given(cases(), st.sampled_from(OPTIONS), st.integers(1, 4))
# a term without its anchor, from a typeName read from the input or fixed
@example(
    ("glossaries", TEMPLATES[3][1], [["AtlasGlossaryTerm", "N", ""], ["AtlasGlossary", "G", ""]]),
    OPTIONS[0],
    1,
)
@example(("glossaries", [TERM], [["N", "G"], ["M", ""]]), OPTIONS[0], 1)
def test_batches_built_by_columns_render_as_rows_do(
    case: tuple[str, list[Any], list[list[str]]], options: CsvOptions, batch: int
) -> None:
    section, template, rows = case
    text = "".join(options.separator.join(row) + "\n" for row in rows)
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        source = Path(directory) / "in.csv"
        source.write_text(text, encoding="utf-8")
        patch.setattr(tokenizer_module, "BATCH_LINES", batch)  # records straddle batches
        patch.setattr(render_module, "LEDGER_CHUNK", 3)
        fast = outcome(source, section, template, options)
        patch.setattr(render_module, "COLUMNAR", False)
        assert outcome(source, section, template, options) == fast


def test_a_clean_batch_is_built_by_columns_and_one_with_a_problem_is_not() -> None:
    template = load_template([BENCHMARK], "assets")
    plan = render_module._ElementPlan(template.elements[0], template, CsvOptions(), Problems("in.csv"))
    assert plan.columns is not None
    built = plan.columns.build([["DB", "T1", "one, two", "u1,u2,u1"], ["DB", " T2 ", "", "u3"]])
    assert built is not None
    assert list(built.head(2).rows()) == [
        ("Table", "default/snowflake/1700000000/DB/T1", "T1", "one, two", "u1\nu2"),
        ("Table", "default/snowflake/1700000000/DB/T2", "T2", "", "u3"),
    ]
    assert built.identities == [
        ("Table", "default/snowflake/1700000000/DB/T1"),
        ("Table", "default/snowflake/1700000000/DB/T2"),
    ]
    assert plan.columns.build([["DB", "T1", "", "u1"], ["DB", "", "", "u1"]]) is None  # no qualifiedName
    assert plan.columns.build([["DB", "T1", "", "|u1,u2|"]]) is None  # a multivalue quote


def collect(found: Iterator[Record]) -> tuple[list[Record], tuple[int, str] | None]:
    """The records an iterator gives before it fails, and how it fails."""
    seen: list[Record] = []
    try:
        seen.extend(found)
    except CsvSyntaxError as exc:
        return seen, (exc.line, str(exc))
    return seen, None


def line_by_line(source: Path, options: CsvOptions) -> tuple[list[Record], tuple[int, str] | None]:
    """What the reader gave when it read a line at a time (undecodable bytes: the records before)."""
    seen: list[Record] = []
    with source.open(encoding=options.codec, newline=None) as text:
        try:
            seen.extend(records(text, options))
        except CsvSyntaxError as exc:
            return seen, (exc.line, str(exc))
        except UnicodeDecodeError:
            return seen, None
    return seen, None


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b", ";", ",", '"', "'", "\\", "|", " ", "\n", "\r", "\r\n", "é"]), max_size=40
    ),
    st.sampled_from([*OPTIONS, CsvOptions(strict_quotes=True), CsvOptions(ignore_leading_whitespace=True)]),
    st.integers(1, 4),
)
def test_batches_read_as_lines_do(pieces: list[str], options: CsvOptions, batch: int) -> None:
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        source = Path(directory) / "in.csv"
        source.write_bytes("".join(pieces).encode())
        patch.setattr(tokenizer_module, "BATCH_LINES", batch)
        assert collect(read_records(source, options)) == line_by_line(source, options)


def test_the_records_before_undecodable_bytes_are_all_read(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    # the bad bytes lie beyond the first blocks the text layer decodes, in a batch whose first
    # lines decode
    source.write_bytes(b"".join(b"a%d;b\n" % n for n in range(3000)) + b"c;\xff\n")
    found, error = collect(read_records(source, CsvOptions()))
    expected, _ = line_by_line(source, CsvOptions())
    assert len(expected) > 1000  # the line-by-line reader gave the records of the blocks before
    assert found == expected
    assert error == (3001, "not valid utf-8: invalid start byte")
    assert sum(len(rows) for _, rows in record_batches(source, CsvOptions(encoding="latin-1"))) == 3001


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([",", ";", "\t", " "]),
    st.lists(
        st.none() | st.lists(st.sampled_from(["", "a", " b ", ",", ";", '"', 'x"y', "\n", "\r", "\t", "é"])),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.sampled_from(["", "F", "f,g", '"']), min_size=4, max_size=4),
    st.integers(0, 3),
)
def test_columns_are_written_as_csv_writer_writes_rows(
    separator: str, cells: list[list[str] | None], fixed: list[str], cut: int
) -> None:
    if all(column is None for column in cells):
        cells[0] = ["only"]
    length = min(len(column) for column in cells if column is not None)
    dynamic = [column[:length] if column is not None else None for column in cells]
    columns = Columns(dynamic, fixed[: len(cells)], max(length - cut, 0))
    by_columns, by_rows = io.BytesIO(), io.BytesIO()
    CsvWriter(by_columns, separator).write_columns(columns)
    CsvWriter(by_rows, separator).writerows(list(columns.rows()))
    assert by_columns.getvalue() == by_rows.getvalue()
    text = by_columns.getvalue().decode()
    if "\r" not in text:
        assert list(csv.reader(io.StringIO(text, newline=""), delimiter=separator)) == [
            list(row) for row in columns.rows()
        ]

"""Property tests: any value survives the source CSV's quoting and escaping, multivalue splitting,
and the output's RFC 4180 quoting; rendering is deterministic.

Values hold no ``\\r``: a line break is ``\\n`` on both sides (the tokenizer reads ``\\r\\n`` and
``\\r`` as ``\\n``, as opencsv does), and values are trimmed, as Atlan trims every cell."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.data import CsvOptions, load_template, read_records, render_source, split_multivalue
from reconciler.data.tokenizer import records, trim
from reconciler.data.writer import CsvWriter

OPTION_SETS = [
    CsvOptions(),
    CsvOptions(separator=",", quote="'"),
    CsvOptions(separator="\t", quote='"', escape="^"),
]
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
    max_size=12,
).map(trim)
one_line = texts.filter(lambda text: "\n" not in text)
QN = "default/snowflake/1700000000/"


def escape(text: str, specials: str, escape_char: str) -> str:
    return "".join(escape_char + c if c in specials else c for c in text)


def csv_field(text: str, options: CsvOptions, quoted: bool) -> str:
    """``text`` as one field of a source file: escaped, or quoted (a line break needs quotes)."""
    assert options.escape is not None
    if quoted or "\n" in text:
        inner = escape(text, options.escape, options.escape).replace(options.quote, options.quote * 2)
        return options.quote + inner + options.quote
    return escape(text, options.separator + options.quote + options.escape, options.escape)


def multivalue_cell(values: list[str], options: CsvOptions) -> str:
    """Values as one multivalue cell, before the CSV layer's escaping (which doubles the escapes)."""
    assert options.escape is not None
    specials = options.multivalue_separator + options.multivalue_quote + options.escape
    return options.multivalue_separator.join(escape(value, specials, options.escape) for value in values)


@settings(max_examples=300)
@given(
    st.sampled_from(OPTION_SETS),
    st.lists(st.lists(texts, max_size=4), min_size=1, max_size=4),
    st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_any_field_survives_the_source_csv(
    options: CsvOptions, rows: list[list[str]], quoting: list[bool]
) -> None:
    lines = [
        options.separator.join(csv_field(text, options, quoting[i]) for i, text in enumerate([*row, "end"]))
        for row in rows
    ]
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "in.csv"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        found = [fields for _, fields in read_records(source, options)]
    assert found == [[*row, "end"] for row in rows]


@settings(max_examples=300)
@given(st.sampled_from(OPTION_SETS), st.lists(texts.filter(bool), max_size=5), st.booleans())
def test_any_values_survive_a_multivalue_cell(options: CsvOptions, values: list[str], quoted: bool) -> None:
    cell = csv_field(multivalue_cell(values, options), options, quoted)
    ((_, fields),) = records(io.StringIO(f"x{options.separator}{cell}\n", newline=None), options)
    assert split_multivalue(fields[1], options) == values


@given(st.lists(st.lists(texts, min_size=3, max_size=3), max_size=5), st.sampled_from([",", ";", "|", "\t"]))
def test_any_cells_survive_the_output_csv(rows: list[list[str]], separator: str) -> None:
    sink = io.BytesIO()
    writer = CsvWriter(sink, separator)
    writer.writerows(rows)
    text = sink.getvalue().decode("utf-8")
    assert "\r" not in text
    assert list(csv.reader(io.StringIO(text, newline=""), delimiter=separator)) == rows


@settings(max_examples=100)
@given(
    st.lists(st.tuples(one_line, st.lists(one_line.filter(bool), max_size=3)), min_size=1, max_size=5),
    st.lists(st.booleans(), min_size=2, max_size=2),
)
def test_any_values_survive_rendering_and_rendering_is_deterministic(
    rows: list[tuple[str, list[str]]], quoting: list[bool]
) -> None:
    options = CsvOptions()
    template = load_template(
        [
            {
                "typeName": "Table",
                "qualifiedName": QN + "${1}",
                "name": "${1}",
                "userDescription": "${2}",
                "ownerUsers": ["${3}"],
            }
        ],
        "assets",
    )
    lines = [
        f"T{n};{csv_field(text, options, quoting[0])};{csv_field(multivalue_cell(values, options), options, quoting[1])}"
        for n, (text, values) in enumerate(rows)
    ]
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "in.csv"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        first = render_source(source, template, options)
        second = render_source(source, template, options)
    assert first == second
    assert first.data is not None
    output = list(csv.reader(io.StringIO(first.data.decode("utf-8"), newline="")))
    assert output[0] == ["typeName", "qualifiedName", "name", "userDescription", "ownerUsers"]
    for (text, values), row in zip(rows, output[1:], strict=True):
        assert row[3] == text
        assert row[4].split("\n") == (list(dict.fromkeys(values)) or [""])

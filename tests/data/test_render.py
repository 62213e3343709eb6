"""Rendering: the seed rules of issue 15 as a table, merging, the output's bytes, and every error
at its exact source file:line and template key."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from reconciler.data import CsvOptions, DataError, load_template, render_source
from reconciler.data import render as render_module

QN = "default/snowflake/1700000000/"
TABLE = {"typeName": "Table", "qualifiedName": QN + "${1}", "name": "${1}"}


def render(tmp_path: Path, text: str, template: list[Any], section: str = "assets", **options: Any) -> str:
    source = tmp_path / "in.csv"
    source.write_text(text)
    separator = options.pop("field_separator", ",")
    loaded = load_template(template, section)  # type: ignore[arg-type]
    rendered = render_source(
        source, loaded, CsvOptions(**options), field_separator=separator, display="in.csv"
    )
    assert rendered.data is not None
    return rendered.data.decode("utf-8")


def problems_of(
    tmp_path: Path, text: str, template: list[Any], section: str = "assets", **options: Any
) -> list[str]:
    with pytest.raises(DataError) as caught:
        render(tmp_path, text, template, section, **options)
    return [str(problem) for problem in caught.value.problems]


# The seed rules of issue 15: CSV text, template, CSV options, the rendered file.
SEED_RULES = [
    pytest.param(
        "A,B;New Business Terms;Data Governance Council;Business Term\n",
        [
            [
                {
                    "typeName": "AtlasGlossaryTerm",
                    "name": "${1}",
                    "anchor": "${2}",
                    "userDescription": "${3}",
                    "Collibra::Type": "${4}",
                }
            ]
        ],
        {"section": "glossaries"},
        "typeName,name,anchor,userDescription,Collibra::Type,qualifiedName\n"
        "AtlasGlossaryTerm,A,New Business Terms,Data Governance Council,Business Term,\n"
        "AtlasGlossaryTerm,B,New Business Terms,Data Governance Council,Business Term,\n",
        id="[[ ]] makes a row per value, the other columns' single values on each",
    ),
    pytest.param(
        "A;B;C,D\nE;F;|C,D|\n",
        [{**TABLE, "ownerUsers": ["${3}"]}],
        {},
        f'typeName,qualifiedName,name,ownerUsers\nTable,{QN}A,A,"C\nD"\nTable,{QN}E,E,"C,D"\n',
        id="multivalue: split on the multivalue separator; the multivalue quote keeps one value",
    ),
    pytest.param(
        'A,B,"C;D"\nE,F,|C;D|\n',
        [{**TABLE, "ownerUsers": ["${3}"]}],
        {"separator": ","},
        f'typeName,qualifiedName,name,ownerUsers\nTable,{QN}A,A,"C\nD"\nTable,{QN}E,E,C;D\n',
        id="separator , -> multivalue separator ;",
    ),
    pytest.param(
        "A;B;'C,D'\nE;F;\"C,D\"\n",
        [{**TABLE, "ownerUsers": ["${3}"]}],
        {"quote": "'"},
        f'typeName,qualifiedName,name,ownerUsers\nTable,{QN}A,A,"C\nD"\nTable,{QN}E,E,"C,D"\n',
        id="quote ' -> multivalue quote \"",
    ),
    pytest.param(
        'A;C\\;D\nB;\\"CD\\"\nC;C\\\\D\n',
        [{**TABLE, "userDescription": "${2}"}],
        {},
        f'typeName,qualifiedName,name,userDescription\nTable,{QN}A,A,C;D\nTable,{QN}B,B,"""CD"""\nTable,{QN}C,C,C\\D\n',
        id="single values: one escape makes a separator, quote or escape literal",
    ),
    pytest.param(
        "A;C\\\\,D\nB;\\\\|CD\\\\|\nC;C\\\\\\D\n",
        [{**TABLE, "ownerUsers": ["${2}"]}],
        {},
        f'typeName,qualifiedName,name,ownerUsers\nTable,{QN}A,A,"C,D"\nTable,{QN}B,B,|CD|\nTable,{QN}C,C,C\\D\n',
        id="multivalues: two escapes make a multivalue separator, quote or escape literal",
    ),
    pytest.param(
        "A;;x\n",
        [
            {
                **TABLE,
                "userDescription": "${2}",
                "description": "about ${2}",
                "ownerUsers": ["${2}"],
                "displayName": "${3}",
            }
        ],
        {},
        f"typeName,qualifiedName,name,userDescription,description,ownerUsers,displayName\nTable,{QN}A,A,,,,x\n",
        id='an empty cell leaves its key out, also inside a longer value; never a literal ""',
    ),
    pytest.param(
        "DB;S;T\n",
        [
            {
                "typeName": "Table",
                "qualifiedName": QN + "${1}/${2}/${3}",
                "name": "${3}",
                "schema": "Schema@" + QN + "${1}/${2}",
            }
        ],
        {},
        f"typeName,qualifiedName,name,schema\nTable,{QN}DB/S/T,T,Schema@{QN}DB/S\n",
        id="placeholders inside longer values",
    ),
    pytest.param(
        "T;Revenue,Cost\n",
        [{**TABLE, "assignedTerms": ["${2}@@@Finance", "Margin@@@Finance"]}],
        {},
        f'typeName,qualifiedName,name,assignedTerms\nTable,{QN}T,T,"Revenue@@@Finance\nCost@@@Finance\nMargin@@@Finance"\n',
        id="fixed text around a multivalue placeholder goes on each value; fixed items are one value",
    ),
    pytest.param(
        "A;x;d\nA;y;\nA;x;d\nB;;\nB;z;e\n",
        [{**TABLE, "ownerUsers": ["${2}"], "userDescription": "${3}"}],
        {},
        f'typeName,qualifiedName,name,ownerUsers,userDescription\nTable,{QN}A,A,"x\ny",d\nTable,{QN}B,B,z,e\n',
        id="consecutive rows with one identity merge: lists united in order, an empty cell takes the other's",
    ),
    pytest.param(
        "  A ;\ufeff x\u200b\n",
        [{**TABLE, "userDescription": " ${2} "}],
        {},
        f"typeName,qualifiedName,name,userDescription\nTable,{QN}A,A,x\n",
        id="cells are trimmed as Atlan trims them",
    ),
    pytest.param(
        "h1;h2\nA;x;;\n\n;;\nB;y\n",
        [{**TABLE, "userDescription": "${2}"}],
        {"header_row": True},
        f"typeName,qualifiedName,name,userDescription\nTable,{QN}A,A,x\nTable,{QN}B,B,y\n",
        id="header skipped; trailing empty fields, blank lines and empty rows are fine",
    ),
]


@pytest.mark.parametrize(("text", "template", "options", "expected"), SEED_RULES)
def test_seed_rules(
    tmp_path: Path, text: str, template: list[Any], options: dict[str, Any], expected: str
) -> None:
    assert render(tmp_path, text, template, **options) == expected


# Each error: CSV text, template, options, the problems (file:line: key: message).
ERRORS = [
    pytest.param(
        "A;x\nB;y\nA;z\n",
        [{**TABLE, "userDescription": "${2}"}],
        {},
        [
            f"in.csv:3: the row with the same identity (typeName 'Table', qualifiedName '{QN}A') is at in.csv:1; rows of one asset must be consecutive"
        ],
        id="the same identity again later",
    ),
    pytest.param(
        "A;VERIFIED\nB;Verified!\nA;\n",
        [{**TABLE, "certificateStatus": "${2}"}],
        {},
        [
            "in.csv:2: certificateStatus: expected one of DEPRECATED, DRAFT, VERIFIED; got 'Verified!' (did you mean 'VERIFIED'?)"
        ],
        id="a row with a problem is left out, as if it were not there",
    ),
    pytest.param(
        "A;x\nA;y\n",
        [{**TABLE, "userDescription": "${2}"}],
        {},
        ["in.csv:2: userDescription: 'y' differs from 'x' in the row with the same identity at in.csv:1"],
        id="two values for one cell of a merged row",
    ),
    pytest.param(
        "A;x\nB\n",
        [{**TABLE, "userDescription": "${2}", "description": "${2}!"}],
        {},
        [
            "in.csv:2: userDescription: ${2} reads column 2, but this row has 1",
            "in.csv:2: description: ${2} reads column 2, but this row has 1",
        ],
        id="a placeholder beyond the row",
    ),
    pytest.param(
        'A;x\nB;"open\nC;z\n',
        [{**TABLE, "userDescription": "${2}"}],
        {},
        ["in.csv:2: a quoted field opened on line 2 is never closed"],
        id="an unterminated quote",
    ),
    pytest.param(
        "h1;h2;h3\nA;x;y\nB;x\nC;x;y;z\n",
        [{**TABLE, "userDescription": "${2}"}],
        {"header_row": True},
        ["in.csv:3: this row has 2 fields, the header 3", "in.csv:4: this row has 4 fields, the header 3"],
        id="ragged rows with a header",
    ),
    pytest.param(
        ";x\n",
        [{"typeName": "${3}", "qualifiedName": QN + "${1}", "name": "n"}],
        {},
        ["in.csv:1: typeName: ${3} reads column 3, but this row has 2"],
        id="a row without its identity: placeholder beyond",
    ),
    pytest.param(
        ";x;Table\n",
        [{"typeName": "${3}", "qualifiedName": "${1}", "name": "n"}],
        {},
        ["in.csv:1: qualifiedName: is empty, and every row needs it"],
        id="a row whose identity comes out empty",
    ),
    pytest.param(
        "A,B,C;x,y\n",
        [[{**TABLE, "userDescription": "${2}"}]],
        {},
        ["in.csv:1: userDescription: values are paired by position, but ${1} has 3 values and ${2} has 2"],
        id="[[ ]] with unequal counts above one",
    ),
    pytest.param(
        "A;|x,y\n",
        [{**TABLE, "ownerUsers": ["${2}"]}],
        {},
        ["in.csv:1: ownerUsers: a multivalue quote | is never closed"],
        id="an open multivalue quote",
    ),
    pytest.param(
        'A;"x\ny"\n',
        [{**TABLE, "ownerUsers": ["${2}"]}],
        {},
        ["in.csv:1: ownerUsers: a value of a list cannot hold a line break (Atlan splits lists on them)"],
        id="a line break inside one value of a list",
    ),
]


@pytest.mark.parametrize(("text", "template", "options", "expected"), ERRORS)
def test_errors_name_the_source_line_and_key(
    tmp_path: Path, text: str, template: list[Any], options: dict[str, Any], expected: list[str]
) -> None:
    assert problems_of(tmp_path, text, template, **options) == expected


# Cells the package parses, checked on every row: section, template, CSV, problems.
ENCODINGS = [
    pytest.param(
        "assets",
        [{**TABLE, "certificateStatus": "${2}", "isDiscoverable": "${3}", "columnCount": "${4}"}],
        "A;verified;true;3\nB;VERIFED;yes;3.5\n",
        [
            "in.csv:2: certificateStatus: expected one of DEPRECATED, DRAFT, VERIFIED; got 'VERIFED' (did you mean 'VERIFIED'?)",
            "in.csv:2: isDiscoverable: expected true or false, got 'yes'",
            "in.csv:2: columnCount: expected a whole number, got '3.5'",
        ],
        id="enums, booleans, numbers",
    ),
    pytest.param(
        "assets",
        [{**TABLE, "assignedTerms": ["${2}"], "inputs": ["${3}"], "links": ["${4}"]}],
        "A;T@@@G;Table@q;\nB;T,U@@@G;Tabel@q,q;{x\n",
        [
            "in.csv:2: assignedTerms: expected Term@@@Glossary, got 'T'",
            "in.csv:2: inputs: unknown typeName 'Tabel' in reference 'Tabel@q' (did you mean 'Table'?)",
            "in.csv:2: inputs: expected TypeName@qualifiedName, got 'q'",
            "in.csv:2: links: a link is one JSON object per line: expected a JSON object: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ],
        id="Term@@@Glossary, TypeName@qualifiedName and JSON cells",
    ),
    pytest.param(
        "assets",
        [{"typeName": "${1}", "qualifiedName": QN + "${2}", "name": "${2}"}],
        "Table;A\nAtlasGlossaryTerm;B\nTabel;C\n",
        ["in.csv:2: typeName: AtlasGlossaryTerm rows belong in the glossaries file", "in.csv:3: typeName: unknown typeName 'Tabel' (did you mean 'Table'?)"],
        id="typeNames of the assets file",
    ),
    pytest.param(
        "glossaries",
        [{"typeName": "${1}", "name": "${2}", "anchor": "${3}"}],
        "AtlasGlossary;G;\nAtlasGlossaryTerm;T;\nTable;X;G\n",
        [
            "in.csv:2: anchor: is empty, and every AtlasGlossaryTerm row needs it",
            "in.csv:3: typeName: expected one of AtlasGlossary, AtlasGlossaryCategory, AtlasGlossaryTerm; got 'Table'",
        ],
        id="glossaries: typeNames, and a term's glossary",
    ),
    pytest.param(
        "glossaries",
        [{"typeName": "${1}", "name": "${2}"}],
        "AtlasGlossaryCategory;C\n",
        ["in.csv:1: anchor: is empty, and every AtlasGlossaryCategory row needs it"],
        id="glossaries: a category without an anchor column",
    ),
    pytest.param(
        "data_products",
        [{"typeName": "${1}", "name": "${2}", "dataDomain": "${3}"}],
        "DataDomain;Sales;\nDataProduct;360;\n",
        ["in.csv:2: dataDomain: is empty, and every DataProduct row needs it"],
        id="data products need their domain",
    ),
    pytest.param(
        "lineage",
        [{"Source Type": "${1}", "Source Connector": "snowflake", "Source Connection": "prod", "Source Identity": "${2}",
          "Source Name": "", "Target Type": "View", "Target Connector": "snowflake", "Target Connection": "prod",
          "Target Identity": "${3}", "Target Name": "", "Transformation Connector": "dbt",
          "Transformation Connection": "etl", "Transformation Identity": "${4}", "Transformation Name": "${4}"}],
        "Table;a;b;j\nTabel;a;b;j2\nTable;a;;j3\n",
        [
            "in.csv:2: Source Type: unknown typeName 'Tabel' (did you mean 'Table'?)",
            "in.csv:3: Target Identity: is empty, and every row needs it",
        ],
        id="lineage: known types and the identity columns",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("section", "template", "text", "expected"), ENCODINGS)
def test_cells_are_checked_as_the_package_parses_them(
    tmp_path: Path, section: str, template: list[Any], text: str, expected: list[str]
) -> None:
    assert problems_of(tmp_path, text, template, section) == expected


def test_all_problems_at_once_up_to_a_hundred(tmp_path: Path) -> None:
    text = "".join(f"T{n};VERIFED\n" for n in range(150))
    with pytest.raises(DataError) as caught:
        render(tmp_path, text, [{**TABLE, "certificateStatus": "${2}"}])
    assert len(caught.value.problems) == 100
    assert caught.value.omitted == 50
    assert str(caught.value) == "100 problems in 1 file, and 50 more not listed"
    assert str(caught.value.problems[-1]).startswith("in.csv:100: certificateStatus:")


def test_elements_are_written_one_after_the_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = [
        {"typeName": "AtlasGlossary", "name": "${2}"},
        {"typeName": "AtlasGlossaryTerm", "name": "${1}", "anchor": "${2}"},
    ]
    text = "Revenue;Finance\nCost;Finance\nHead count;People\n"
    expected = (
        "typeName,name,anchor,qualifiedName\n"
        "AtlasGlossary,Finance,,\nAtlasGlossary,People,,\n"
        "AtlasGlossaryTerm,Revenue,Finance,\nAtlasGlossaryTerm,Cost,Finance,\nAtlasGlossaryTerm,Head count,People,\n"
    )
    assert render(tmp_path, text, template, "glossaries") == expected
    monkeypatch.setattr(render_module, "SPOOL_BYTES", 1)  # the later elements' rows go to disk
    assert render(tmp_path, text, template, "glossaries") == expected


def test_repeats_are_found_across_runs_spilled_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_module, "LEDGER_CHUNK", 3)
    text = "".join(f"T{n}\n" for n in range(10)) + "T2\n" + "".join(f"U{n}\n" for n in range(10)) + "T7\n"
    assert problems_of(tmp_path, text, [TABLE]) == [
        f"in.csv:11: the row with the same identity (typeName 'Table', qualifiedName '{QN}T2') is at in.csv:3; rows of one asset must be consecutive",
        f"in.csv:22: the row with the same identity (typeName 'Table', qualifiedName '{QN}T7') is at in.csv:8; rows of one asset must be consecutive",
    ]
    assert render(tmp_path, "".join(f"T{n}\n" for n in range(10)), [TABLE]).count("\n") == 11


def test_the_output_is_rfc4180_with_the_sections_separator(tmp_path: Path) -> None:
    text = 'A;"say ""hi"", then; go";"x\ny"\n'
    template = [{**TABLE, "userDescription": "${2}", "description": "${3}"}]
    assert render(tmp_path, text, template) == (
        f'typeName,qualifiedName,name,userDescription,description\nTable,{QN}A,A,"say ""hi"", then; go","x\ny"\n'
    )
    assert render(tmp_path, text, template, field_separator=";") == (
        f'typeName;qualifiedName;name;userDescription;description\nTable;{QN}A;A;"say ""hi"", then; go";"x\ny"\n'
    )


def test_bytes_are_deterministic_with_their_digest_and_streamed_to_a_sink(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("A;x,y\nB;z\n")
    template = load_template([{**TABLE, "ownerUsers": ["${2}"]}], "assets")
    first = render_source(source, template)
    sink = io.BytesIO()
    second = render_source(source, template, sink=sink)
    assert first.data is not None
    assert first.data == sink.getvalue()
    assert second.data is None
    assert first.sha256 == second.sha256 == hashlib.sha256(first.data).hexdigest()
    assert (first.rows, first.size, first.header) == (
        2,
        len(first.data),
        ("typeName", "qualifiedName", "name", "ownerUsers"),
    )


def test_a_missing_source_is_a_problem(tmp_path: Path) -> None:
    template = load_template([TABLE], "assets")
    with pytest.raises(DataError) as caught:
        render_source(tmp_path / "nope.csv", template, display="data/nope.csv")
    assert [str(p) for p in caught.value.problems] == [
        "data/nope.csv: cannot read: No such file or directory"
    ]


def test_a_bad_field_separator_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the field separator must be one character"):
        render_source(tmp_path / "in.csv", load_template([TABLE], "assets"), field_separator='"')


def test_a_source_the_encoding_cannot_read_is_named_by_line(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"A;x\nB;\xe9t\xe9\n")
    template = load_template([{**TABLE, "userDescription": "${2}"}], "assets")
    with pytest.raises(DataError) as caught:
        render_source(source, template, display="in.csv")
    assert [str(p) for p in caught.value.problems] == ["in.csv:2: not valid utf-8: invalid continuation byte"]
    rendered = render_source(source, template, CsvOptions(encoding="latin-1"))
    assert rendered.data is not None
    assert rendered.data.decode("utf-8").endswith(f"Table,{QN}B,B,été\n")

"""A source already in the package's format is checked as the package reads it and passed on
byte for byte, with the digest of those bytes."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from reconciler.data import DataError, passthrough

QN = "default/snowflake/1700000000"
VALID = (
    "\ufefftypeName,qualifiedName,name,ownerUsers,certificateStatus\r\n"
    f'Table,{QN}/DB/S/T, T ,"jo\nal",VERIFIED\r\n'
    "\r\n"
    f"View,{QN}/DB/S/V,V,,\r\n"
)


def problems_of(tmp_path: Path, text: str, section: str = "assets", **kwargs: str) -> list[str]:
    source = tmp_path / "assets.csv"
    source.write_text(text, newline="")
    with pytest.raises(DataError) as caught:
        passthrough(source, section, display="data/assets.csv", **kwargs)  # type: ignore[arg-type]
    return [str(problem) for problem in caught.value.problems]


def test_a_valid_file_passes_byte_for_byte(tmp_path: Path) -> None:
    source = tmp_path / "assets.csv"
    source.write_text(VALID, newline="")
    raw = source.read_bytes()
    checked = passthrough(source, "assets")
    assert checked.data == raw
    assert checked.sha256 == hashlib.sha256(raw).hexdigest()
    assert (checked.rows, checked.size) == (2, len(raw))
    assert checked.header == ("typeName", "qualifiedName", "name", "ownerUsers", "certificateStatus")
    sink = io.BytesIO()
    assert passthrough(source, "assets", sink=sink).data is None
    assert sink.getvalue() == raw


def test_the_sections_field_separator(tmp_path: Path) -> None:
    source = tmp_path / "assets.csv"
    source.write_text(f"typeName;qualifiedName;name\nTable;{QN}/T;T\n")
    assert passthrough(source, "assets", field_separator=";").rows == 1


def test_every_problem_of_the_file(tmp_path: Path) -> None:
    text = f"typeName,qualifiedName,nmae,certificateStatus,typeName\nTable,{QN}/T,T,VERIFIED,Table\n"
    assert problems_of(tmp_path, text) == [
        "data/assets.csv:1: nmae: is not a column of the assets file (did you mean 'name'?)",
        "data/assets.csv:1: typeName: is a column twice",
        "data/assets.csv:1: name: is missing: the assets file needs it",
    ]


def test_rows_are_checked_as_rendered_ones_are(tmp_path: Path) -> None:
    text = (
        "typeName,qualifiedName,name,certificateStatus,assignedTerms\n"
        f'Table,{QN}/A,A,VERIFIED,"Revenue@@@Finance\n Cost@@@Finance "\n'
        f"Tabel,{QN}/B,B,,\n"
        f",{QN}/C,C,,\n"
        f"Table,{QN}/D,D,VERIFED,Revenue\n"
        f"Table,{QN}/E,E\n"
        f"Table,{QN}/A,A2,,\n"
    )
    assert problems_of(tmp_path, text) == [
        "data/assets.csv:4: typeName: unknown typeName 'Tabel' (did you mean 'Table'?)",
        "data/assets.csv:5: typeName: is empty, and every row needs it",
        "data/assets.csv:6: certificateStatus: expected one of DEPRECATED, DRAFT, VERIFIED; got 'VERIFED' (did you mean 'VERIFIED'?)",
        "data/assets.csv:6: assignedTerms: expected Term@@@Glossary, got 'Revenue'",
        "data/assets.csv:7: this row has 3 fields, the header 5",
        f"data/assets.csv:8: the row with the same identity (typeName 'Table', qualifiedName '{QN}/A') is at data/assets.csv:2; rows of one asset must be consecutive",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["data/assets.csv:1: the file is empty: it needs at least a header row"]),
        (
            f'typeName,qualifiedName,name\nTable,{QN}/T,"T"x\n',
            ["data/assets.csv:2: not valid CSV: ',' expected after '\"'"],
        ),
        (
            "Atlan tag name,Colour\nPII,Red\n",
            ["data/assets.csv:1: Colour: is not a column of the tags file (did you mean 'Color'?)"],
        ),
    ],
)
def test_unreadable_files(tmp_path: Path, text: str, expected: list[str]) -> None:
    section = "tags" if text.startswith("Atlan") else "assets"
    assert problems_of(tmp_path, text, section) == expected


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    source = tmp_path / "assets.csv"
    source.write_bytes(f"typeName,qualifiedName,name\nTable,{QN}/T,\xff\n".encode("latin-1"))
    with pytest.raises(DataError) as caught:
        passthrough(source, "assets", display="a.csv")
    assert [str(p) for p in caught.value.problems] == ["a.csv:2: not valid UTF-8: invalid start byte"]

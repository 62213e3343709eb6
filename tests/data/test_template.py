"""Templates are checked against their file's columns when loaded; every problem is named at the
template's file:line:column and key path, all at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.data import DataError, load_template
from reconciler.data.template import Cell, parse_value


def problems_of(source: Path | list[object], section: str = "assets", **kwargs: object) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_template(source, section, **kwargs)  # type: ignore[arg-type]
    return [str(problem) for problem in caught.value.problems]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.json"
    path.write_text(textwrap.dedent(text))
    return path


def test_every_problem_of_a_template_file_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [
          {"typeName": "Table", "qualifedName": "default/snowflake/1700000000/${1}", "name": "${1}"},
          {"typeName": "Tabel", "qualifiedName": "x/${0}", "name": 3},
          [{"typeName": "Table", "qualifiedName": "${2", "name": ["${1}"]}],
          [{}, {}],
          "nope",
          {"typeName": "Table", "qualifiedName": "q", "name": "n", "name": "m"}
        ]
        """,
    )
    f = str(path)
    assert problems_of(path) == [
        f"{f}:2:25: [0].qualifedName: 'qualifedName' is not a column of the assets file (did you mean 'qualifiedName'?)",
        f"{f}:3:4: [1].typeName: unknown typeName 'Tabel' (did you mean 'Table'?)",
        f"{f}:3:25: [1].qualifiedName: '${{0}}' is no placeholder: columns are numbered from 1, as ${{1}}",
        f'{f}:3:52: [1].name: a value is a string ("${{1}}", "text") or a list of strings (["${{1}}"])',
        f"{f}:4:26: [2][0].qualifiedName: a placeholder in '${{2' is never closed with }}",
        f"{f}:4:50: [2][0].name: 'name' holds one value: write a string, not a list",
        f"{f}:5:3: [3]: [ ] around an element holds exactly one object: [ {{...}} ]",
        f"{f}:6:3: [4]: an element is an object of column: value, or [ {{...}} ] for several rows",
        f"{f}:7:60: [5].name: 'name' is given twice",
    ]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "certificateStatus",
            "VERIFED",
            "expected one of DEPRECATED, DRAFT, VERIFIED; got 'VERIFED' (did you mean 'VERIFIED'?)",
        ),
        ("announcementType", "Warning", "expected one of information, warning, issue; got 'Warning'"),
        ("isDiscoverable", "yes", "expected true or false, got 'yes'"),
        ("columnCount", "12.5", "expected a whole number, got '12.5'"),
        (
            "sourceCreatedAt",
            "yesterday",
            "expected epoch milliseconds or an ISO-8601 instant such as 2024-01-31T12:00:00Z, got 'yesterday'",
        ),
        ("assignedTerms", ["Revenue"], "expected Term@@@Glossary, got 'Revenue'"),
        (
            "database",
            "Databse@default/snowflake/1/DB",
            "unknown typeName 'Databse' in reference 'Databse@default/snowflake/1/DB' (did you mean 'Database'?)",
        ),
        (
            "schema",
            "default/snowflake/1/DB/S",
            "expected TypeName@qualifiedName, got 'default/snowflake/1/DB/S'",
        ),
        (
            "links",
            ['{"typeName": "Link"'],
            "a link is one JSON object per line: expected a JSON object: Expecting ',' delimiter: line 1 column 20 (char 19)",
        ),
        ("starredDetails", ["not json"], "expected JSON: Expecting value: line 1 column 1 (char 0)"),
        ("typeName", "AtlasGlossaryTerm", "AtlasGlossaryTerm rows belong in the glossaries file"),
        ("typeName", "DataProduct", "DataProduct rows belong in the data_products file"),
        ("ownerUsers", ["a\nb"], "a value of a list cannot hold a line break (Atlan splits lists on them)"),
    ],
)
def test_a_fixed_value_is_checked_with_its_columns_encoding(key: str, value: object, message: str) -> None:
    element = {
        "typeName": "Table",
        "qualifiedName": "default/snowflake/1700000000/${1}",
        "name": "${1}",
        key: value,
    }
    assert problems_of([element], file="m.yaml", locate=lambda path: (7, 5)) == [
        f"m.yaml:7:5: [0].{key}: {message}"
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("certificateStatus", "verified"),  # the package retries in capitals
        ("announcementType", "warning"),
        ("isDiscoverable", "TRUE"),
        ("sourceCreatedAt", "2024-01-31T12:00:00Z"),
        ("sourceCreatedAt", "1706702400000"),
        ("assignedTerms", ["Revenue@@@Finance", "++Cost@@@Finance"]),
        ("database", "Database@default/snowflake/1700000000/DB"),
        ("inputs", ["--Table@default/snowflake/1700000000/DB/S/T"]),
        ("links", ['{"typeName": "Link", "attributes": {"name": "x", "link": "https://x"}}']),
        ("Finance::Cost centre", "anything"),
        ("userDefRelationshipTo", ["Database@q {{toTypeLabel=copied to|||fromTypeLabel=copied from}}"]),
    ],
)
def test_values_the_package_parses_are_accepted(key: str, value: object) -> None:
    element = {
        "typeName": "Table",
        "qualifiedName": "default/snowflake/1700000000/${1}",
        "name": "${1}",
        key: value,
    }
    template = load_template([element], "assets")
    assert key in template.header


def test_inline_templates_are_located_by_the_callers_map() -> None:
    where = {(): (4, 7), (0,): (5, 9), (0, "typeName"): (5, 11), (0, "nmae"): (6, 11)}
    problems = problems_of(
        [{"typeName": "Table", "nmae": "${1}"}],
        file="manifests/m.yaml",
        locate=lambda path: where.get(path, (1, 1)),
    )
    assert problems == [
        "manifests/m.yaml:6:11: [0].nmae: 'nmae' is not a column of the assets file (did you mean 'name'?)",
    ]
    assert problems_of(
        [{"typeName": "Table", "name": "${1}"}], file="m.yaml", locate=lambda path: where.get(path, (1, 1))
    ) == [
        "m.yaml:5:9: [0]: every assets row needs 'qualifiedName': add it to this element",
    ]


def test_without_positions_problems_name_the_file() -> None:
    assert problems_of([{"typeName": "Table", "qualifiedName": "q/${1}"}], file="m.yaml") == [
        "m.yaml: the assets file needs the column 'name': add it as a key",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a template is a non-empty list of objects ({...} or [ {...} ])"),
        ({"typeName": "Table"}, "a template is a non-empty list of objects ({...} or [ {...} ])"),
        (
            [{"typeName": "Table", "qualifiedName": "", "name": "${1}"}],
            "[0].qualifiedName: 'qualifiedName' cannot be empty: every row needs it",
        ),
        (
            [{"typeName": "Table", "qualifiedName": "${1}", "name": "${1}", "": "x"}],
            "[0].: '' is not a column of the assets file",
        ),
    ],
)
def test_shapes_a_template_cannot_have(data: object, message: str) -> None:
    assert problems_of(data, file="m.yaml") == [f"m.yaml: {message}"]  # type: ignore[arg-type]


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    assert problems_of(missing) == [f"{missing}: cannot read the template: No such file or directory"]
    path = write(tmp_path, '[\n {"name": 1,}\n]')
    assert problems_of(path) == [
        f"{path}:2:13: invalid JSON: Expecting property name enclosed in double quotes"
    ]
    path.write_bytes(b'[{"name": "\xff"}]')
    assert problems_of(path) == [f"{path}: cannot read the template: not UTF-8 (invalid start byte)"]


def test_the_header_is_the_keys_in_order_then_ignored_required_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [
          {"typeName": "AtlasGlossary", "name": "${2}", "userDescription": "${5}"},
          [{"typeName": "AtlasGlossaryTerm", "name": "${1}", "anchor": "${2}", "ownerUsers": ["${4}"]}]
        ]
        """,
    )
    template = load_template(path, "glossaries")
    assert template.header == ("typeName", "name", "userDescription", "anchor", "ownerUsers", "qualifiedName")
    assert [element.expands for element in template.elements] == [False, True]
    assert template.elements[1].cells[-1] == Cell("ownerUsers", ((3,),), True, 3)


def test_lineage_needs_its_fourteen_columns() -> None:
    problems = problems_of(
        [{"Source Type": "Table", "Source Connector": "snowflake", "Source Connection": "prod", "Source Identity": "${1}",
          "Target Type": "View", "Target Connector": "snowflake", "Target Connection": "prod", "Target Identity": "${2}",
          "Transformation Connector": "dbt", "Transformation Connection": "etl", "Transformation Identity": "${3}",
          "Transformation Name": "${3}", "sql": "${4}"}],
        "lineage",
        file="l.yaml",
    )  # fmt: skip
    assert problems == [
        "l.yaml: the lineage file needs the column 'Source Name': add it as a key",
        "l.yaml: the lineage file needs the column 'Target Name': add it as a key",
    ]


def test_the_tags_file_has_only_its_own_columns() -> None:
    assert problems_of([{"Atlan tag name": "${1}", "Colour": "Green"}], "tags", file="t.yaml") == [
        "t.yaml: [0].Colour: 'Colour' is not a column of the tags file (did you mean 'Color'?)",
    ]
    assert load_template([{"Atlan tag name": "${1}", "Allowed values for tag": ["${2}"]}], "tags").header == (
        "Atlan tag name",
        "Allowed values for tag",
    )


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("${1}", (0,)),
        ("default/snowflake/1700000000/${1}/${2}", ("default/snowflake/1700000000/", 0, "/", 1)),
        ("${12}@@@Glossary", (11, "@@@Glossary")),
        ("{1}", ("{1}",)),  # Collibra's complex-relations example: no $, no placeholder
        ("$admin", ("$admin",)),
        ("a\r\nb\rc", ("a\nb\nc",)),
        ("", ()),
    ],
)
def test_values_are_fixed_text_and_placeholders(text: str, parts: tuple[object, ...]) -> None:
    assert parse_value(text) == parts


@pytest.mark.parametrize("text", ["${0}", "${x}", "${01}", "${-1}", "${}", "a ${1"])
def test_a_placeholder_counts_columns_from_one(text: str) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        parse_value(text)


def test_a_template_file_nested_deeper_than_python_recurses_is_a_problem(tmp_path: Path) -> None:
    """json.loads and the position scanner both recurse: 100,000 levels were a RecursionError."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataError) as caught:
        load_template(path, "assets")
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1:1: cannot read the template: nested too deeply"
    ]

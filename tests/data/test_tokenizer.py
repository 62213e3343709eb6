"""The source CSV tokenizer answers as opencsv 5.2 does: every row of the recorded table of
../shared/template-facts.md §2.2 (opencsv with Collibra's options, strictQuotes, and
ignoreLeadingWhitespace), and the deviations the Import API's rules call for."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.data import CsvOptions, CsvSyntaxError, read_records, split_multivalue
from reconciler.data.tokenizer import records

ERROR = "error"

# input, opencsv defaults (sep ;, strict false, ilw false), strictQuotes, ignoreLeadingWhitespace.
# None: the table records no answer. Rows are records; "\n" in an input is a line break.
OPENCSV = [
    ("a;b;c", [["a", "b", "c"]], [["", "", ""]], [["a", "b", "c"]]),
    ("a;;c", [["a", "", "c"]], [["", "", ""]], [["a", "", "c"]]),
    ("a;b;", [["a", "b", ""]], [["", "", ""]], [["a", "b", ""]]),
    ('"a;b";c', [["a;b", "c"]], [["a;b", ""]], [["a;b", "c"]]),
    ('"a""b";c', [['a"b', "c"]], [['a"b', ""]], [['a"b', "c"]]),
    ('"a\\"b";c', [['a"b', "c"]], [['a"b', ""]], [['a"b', "c"]]),
    ("a\\b;c", [["ab", "c"]], [["", ""]], [["ab", "c"]]),
    ("C:\\temp\\x;y", [["C:tempx", "y"]], [["", ""]], [["C:tempx", "y"]]),
    ("a\\;b;c", [["a;b", "c"]], [["", "", ""]], [["a;b", "c"]]),
    ("a\\\\b;c", [["a\\b", "c"]], [["", ""]], [["a\\b", "c"]]),
    ("x;a\\\\,b,c", [["x", "a\\,b,c"]], None, None),
    ('ab"cd"ef;g', [['abcd"ef', "g"]], [["cd", ""]], [['abcd"ef', "g"]]),
    ('x;ab"cd"ef;g', [["x", 'ab"cd"ef', "g"]], None, None),
    ('"ab"cd;e', [['ab"cd', "e"]], [["ab", ""]], [['ab"cd', "e"]]),
    ('x; "abc";y', [["x", ' "abc', "y"]], [["", "abc", ""]], [["x", "abc", "y"]]),
    (' "abc";y', [[" abc", "y"]], [["abc", ""]], [[" abc", "y"]]),
    (
        'x;"multi\nline";y',
        [["x", "multi\nline", "y"]],
        [["", "multi\nline", ""]],
        [["x", "multi\nline", "y"]],
    ),
    ('x;"a\r\nb";y', [["x", "a\nb", "y"]], None, [["x", "a\nb", "y"]]),
    ('x;a""b;y', [["x", 'a"b', "y"]], None, [["x", 'a"b', "y"]]),
    ('x;"abc', ERROR, ERROR, ERROR),
    ("a;b\n\nc;d", [["a", "b"], [""], ["c", "d"]], None, None),
    ("A;B;|C,D|", [["A", "B", "|C,D|"]], None, None),
    ("a ;  b ; c", [["a ", "  b ", " c"]], [["", "", ""]], [["a ", "  b ", " c"]]),
    ("\ufeffh1;h2", [["\ufeffh1", "h2"]], None, None),
    ('"A";"B"', None, [["A", "B"]], None),
]


def tokenize(text: str, **options: object) -> list[list[str]] | str:
    try:
        return [fields for _, fields in records(io.StringIO(text, newline=None), CsvOptions(**options))]  # type: ignore[arg-type]
    except CsvSyntaxError:
        return ERROR


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        pytest.param(text, options, answer, id=f"{mode}:{text!r}")
        for text, *answers in OPENCSV
        for mode, options, answer in zip(
            ("default", "strict_quotes", "ignore_leading_whitespace"),
            ({}, {"strict_quotes": True}, {"ignore_leading_whitespace": True}),
            answers,
            strict=True,
        )
        if answer is not None
    ],
)
def test_every_recorded_opencsv_answer(text: str, options: dict[str, bool], expected: object) -> None:
    assert tokenize(text, **options) == expected


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        # opencsv 5.2 rejects an escape before the first character of a field; the Import API's
        # rules (\"CD\" -> "CD") win, as opencsv 5.5 does.
        ('\\"abc\\";d', {}, [['"abc"', "d"]]),
        ('x;\\"CD\\"', {}, [["x", '"CD"']]),
        ("\\;a;b", {}, [[";a", "b"]]),
        ('\\"abc\\";d', {"strict_quotes": True}, ERROR),
    ],
)
def test_an_escape_may_open_a_field(text: str, options: dict[str, bool], expected: object) -> None:
    assert tokenize(text, **options) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C\\;D;x", [["C;D", "x"]]),
        ('\\"CD\\";x', [['"CD"', "x"]]),
        ("C\\\\D;x", [["C\\D", "x"]]),
    ],
)
def test_the_import_apis_single_value_escapes(text: str, expected: list[list[str]]) -> None:
    assert tokenize(text) == expected


def test_other_separator_quote_and_no_escape() -> None:
    assert tokenize("'a,b',c\\d", separator=",", quote="'", escape=None) == [["a,b", "c\\d"]]


def test_records_carry_the_line_they_start_on(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b'h1;h2\r\na;"multi\r\nline"\r\n\r\nb;c\rd;e')
    found = list(read_records(source, CsvOptions()))
    assert found == [
        (1, ["h1", "h2"]),
        (2, ["a", "multi\nline"]),
        (4, [""]),
        (5, ["b", "c"]),
        (6, ["d", "e"]),
    ]


def test_an_unterminated_quote_names_the_line_it_opened_on(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('a;b\nc;"open\nstill\n')
    with pytest.raises(CsvSyntaxError) as caught:
        list(read_records(source, CsvOptions()))
    assert (caught.value.line, str(caught.value)) == (2, "a quoted field opened on line 2 is never closed")


def test_a_utf8_byte_order_mark_is_dropped_and_utf16_honoured(tmp_path: Path) -> None:
    source = tmp_path / "bom.csv"
    source.write_bytes(b"\xef\xbb\xbfh1;h2\n")
    assert list(read_records(source, CsvOptions())) == [(1, ["h1", "h2"])]
    source.write_bytes("h1;h2\n".encode("utf-16"))
    assert list(read_records(source, CsvOptions(encoding="utf-16"))) == [(1, ["h1", "h2"])]
    source.write_bytes("é;ü\n".encode("latin-1"))
    assert list(read_records(source, CsvOptions(encoding="latin-1"))) == [(1, ["é", "ü"])]


def test_bytes_the_encoding_cannot_read_are_named_by_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(b"a;b\n" * 5000 + b"c;\xff\n" + b"d;e\n")
    with pytest.raises(CsvSyntaxError) as caught:
        list(read_records(source, CsvOptions()))
    assert caught.value.line == 5001
    assert str(caught.value) == "not valid utf-8: invalid start byte"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"separator": ";;"}, "separator must be one character, got ';;'"),
        ({"quote": ""}, "quote must be one character, got ''"),
        ({"separator": "\n"}, "separator cannot be a line break"),
        ({"separator": '"'}, "separator, quote and escape must be three different characters"),
        ({"escape": ","}, "escape ',' cannot also be the multivalue separator (',') or quote ('|')"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
    ],
)
def test_bad_options_say_what_is_wrong(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        CsvOptions(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "separator", "quote"),
    [
        ({}, ",", "|"),
        ({"separator": ","}, ";", "|"),
        ({"quote": "'"}, ",", '"'),
        ({"separator": "|"}, ";", "|"),
    ],
)
def test_the_multivalue_separator_and_quote_follow_the_csv_ones(
    options: dict[str, str], separator: str, quote: str
) -> None:
    chosen = CsvOptions(**options)  # type: ignore[arg-type]
    assert (chosen.multivalue_separator, chosen.multivalue_quote) == (separator, quote)


@pytest.mark.parametrize(
    ("file_text", "values"),
    [
        # the seed rules, as written in the file: the CSV layer takes one escape, the multivalue
        # layer the next
        ("A;B;C,D", ["C", "D"]),
        ("A;B;|C,D|", ["C,D"]),
        ("A;B;C\\\\,D", ["C,D"]),
        ("A;B;\\\\|CD\\\\|", ["|CD|"]),
        ("A;B;C\\\\\\D", ["C\\D"]),
        ("A;B; x , ,y ,", ["x", "y"]),
        ("A;B;", []),
    ],
)
def test_multivalue_cells_split_as_the_import_api_documents(file_text: str, values: list[str]) -> None:
    options = CsvOptions()
    fields = tokenize(file_text)
    assert isinstance(fields, list)
    assert split_multivalue(fields[0][2], options) == values


def test_an_open_multivalue_quote_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^a multivalue quote \| is never closed$"):
        split_multivalue("|a,b", CsvOptions())


def test_with_another_separator_the_multivalue_separator_is_a_semicolon() -> None:
    options = CsvOptions(separator=",", quote="'")
    assert split_multivalue('a;"b;c";d', options) == ["a", "b;c", "d"]

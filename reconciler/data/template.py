"""A Collibra-style template, checked against the columns of its target file and compiled.

A template is a JSON (or YAML) array, applied to every input row. An object makes one output row;
an array holding one object (``[[ {...} ]]``) makes one row per value of its multivalue cells.
Keys are the target file's columns (``Set::Attribute`` custom metadata columns too); values are
strings in which ``${n}`` is column n of the input row (the first is 1), mixed with fixed text if
wanted (``"default/snowflake/1700000000/${1}/${2}"``, our extension of the Import API); a list
(``["${n}"]``) is a multivalue cell. See ``reconciler.data.render`` for what rows become.

Every problem is reported at once, at the template's file:line and key path (``[0].qualifiedName``).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.data.options import Section
from reconciler.data.problems import Problems
from reconciler.data.tokenizer import trim
from reconciler.data.vocabulary import SECTION_SPECS, SectionSpec, cell_check, multi_valued, type_check

FieldPath = tuple[str | int, ...]
# Where a key (or a list item) of an inline template stands: path -> (line, column), 1-based.
Locate = Callable[[FieldPath], tuple[int, int]]
# Literal text and the 0-based indexes of the input columns its placeholders read, in order.
Parts = tuple[str | int, ...]

LIST_LINE_BREAK = "a value of a list cannot hold a line break (Atlan splits lists on them)"
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_INDEX = re.compile(r"[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class Cell:
    """One key of a template element: what its value is made of."""

    key: str
    items: tuple[Parts, ...]  # one for a single value; one per item of a list
    multivalue: bool  # written as a list: Atlan's multi-valued cell
    line: int  # where the key stands in the template (0: unknown)

    @property
    def width(self) -> int:
        """How many input columns a row needs for this cell (its highest placeholder)."""
        return max((part + 1 for parts in self.items for part in parts if isinstance(part, int)), default=0)

    @property
    def fixed(self) -> bool:
        """No placeholder: the same on every row."""
        return self.width == 0


@dataclass(frozen=True, slots=True)
class Element:
    """One element of the template: an object (one row per input row) or ``[ {...} ]`` (several)."""

    index: int
    cells: tuple[Cell, ...]
    expands: bool
    line: int

    @property
    def width(self) -> int:
        return max((cell.width for cell in self.cells), default=0)


@dataclass(frozen=True, slots=True)
class Template:
    """A checked template for one section's file.

    ``header`` is the output's header row: every key in the order it first appears in the
    template, then any required column the package ignores (a glossary's ``qualifiedName``) that
    no element names. A row leaves the columns its element lacks empty.
    """

    section: Section
    elements: tuple[Element, ...]
    header: tuple[str, ...]
    file: str


def load_template(
    source: Path | Sequence[Any],
    section: Section,
    *,
    file: str | None = None,
    locate: Locate | None = None,
) -> Template:
    """Parse and check a template for ``section``'s file; ``DataError`` lists every problem.

    ``source`` is a JSON file (each key's line is kept for messages), or the template as data (a
    list parsed from YAML, inline in a manifest): then ``file`` names where it stands and
    ``locate`` gives the line and column of a key path within it (without, problems name the file
    alone). A YAML template file is data too: parse it with the manifest's YAML loader, which
    keeps positions.
    """
    data: Any = source
    if isinstance(source, Path):
        display = file or str(source)
        problems = Problems(display)
        try:
            text = source.read_text("utf-8-sig")
        except OSError as exc:
            problems.add(0, "", f"cannot read the template: {exc.strerror or exc}")
        except UnicodeDecodeError as exc:
            problems.add(0, "", f"cannot read the template: not UTF-8 ({exc.reason})")
        else:
            data, locate = _parse_json(text, problems)
        if not locate:
            problems.raise_any()  # unreadable: nothing to compile
    else:
        display = file or "<template>"
        problems = Problems(display)
    template = _Compiler(SECTION_SPECS[section], display, locate, problems).compile(data)
    problems.raise_any()
    return template


class _Compiler:
    def __init__(self, spec: SectionSpec, file: str, locate: Locate | None, problems: Problems) -> None:
        self.spec = spec
        self.file = file
        self.locate = locate
        self.problems = problems
        # A key that is no column may be a misspelt required one: say only that, not both.
        self.misspelt = False

    def where(self, path: FieldPath) -> tuple[int, int]:
        return self.locate(path) if self.locate is not None else (0, 0)

    def problem(self, path: FieldPath, message: str) -> None:
        line, column = self.where(path)
        self.problems.add(line, _path_text(path), message, column=column)

    def compile(self, data: Any) -> Template:
        if not isinstance(data, list) or not data:
            self.problem((), "a template is a non-empty list of objects ({...} or [ {...} ])")
            return Template(self.spec.name, (), (), self.file)
        elements = []
        for index, item in enumerate(data):
            element = self.element(index, item)
            if element is not None:
                elements.append(element)
        header = list(dict.fromkeys(cell.key for element in elements for cell in element.cells))
        for column in self.spec.required:
            if column in header:
                continue
            if column in self.spec.ignored:
                header.append(column)
            elif column not in self.spec.filled and not self.misspelt and len(elements) == len(data):
                self.problem((), f"the {self.spec.name} file needs the column {column!r}: add it as a key")
        return Template(self.spec.name, tuple(elements), tuple(header), self.file)

    def element(self, index: int, item: Any) -> Element | None:
        path: FieldPath = (index,)
        expands = isinstance(item, list)
        if expands:
            if len(item) != 1 or not isinstance(item[0], dict):
                self.problem(path, "[ ] around an element holds exactly one object: [ {...} ]")
                return None
            path, item = (index, 0), item[0]
        if not isinstance(item, dict) or not item:
            self.problem(path, "an element is an object of column: value, or [ {...} ] for several rows")
            return None
        cells = [cell for key, value in item.items() if (cell := self.cell((*path, key), key, value))]
        misspelt = not all(self.spec.is_column(key) for key in item)
        for column in self.spec.filled:
            if column not in item and not misspelt:
                self.problem(path, f"every {self.spec.name} row needs {column!r}: add it to this element")
        return Element(index, tuple(cells), expands, self.where(path)[0])

    def cell(self, path: FieldPath, key: str, value: Any) -> Cell | None:
        if not self.spec.is_column(key):
            hint = self.spec.suggestion(key)
            self.problem(path, f"{key!r} is not a column of the {self.spec.name} file{hint}")
            self.misspelt = True
            return None
        multivalue = isinstance(value, list)
        texts = value if multivalue else [value]
        if not texts or not all(isinstance(text, str) for text in texts):
            self.problem(path, 'a value is a string ("${1}", "text") or a list of strings (["${1}"])')
            return None
        if multivalue and multi_valued(key) is False:
            self.problem(path, f"{key!r} holds one value: write a string, not a list")
            return None
        items = []
        for text in texts:
            try:
                items.append(parse_value(text))
            except ValueError as exc:
                self.problem(path, str(exc))
                return None
        cell = Cell(key, tuple(items), multivalue, self.where(path)[0])
        if cell.fixed:
            self.check_fixed(path, cell)
        return cell

    def check_fixed(self, path: FieldPath, cell: Cell) -> None:
        """A value without placeholders is checked here, once, rather than on every row."""
        values = [trim(str(parts[0])) if parts else "" for parts in cell.items]
        if not any(values) and cell.key in self.spec.filled:
            self.problem(path, f"{cell.key!r} cannot be empty: every row needs it")
            return
        check = (
            type_check(self.spec.allowed_types(), self.spec.name)
            if cell.key in self.spec.type_columns
            else cell_check(cell.key)
        )
        for value in values:
            message = check(value) if check is not None and value else None
            if cell.multivalue and "\n" in value:
                message = LIST_LINE_BREAK
            if message:
                self.problem(path, message)


def parse_value(text: str) -> Parts:
    """``"default/snowflake/${1}"`` -> ``("default/snowflake/", 0)``; ``ValueError`` for a bad
    placeholder. Line breaks become ``\\n`` (the output's only line break)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts: list[str | int] = []
    end = 0
    for found in _PLACEHOLDER.finditer(text):
        if not _INDEX.fullmatch(found[1]):
            raise ValueError(f"{found[0]!r} is no placeholder: columns are numbered from 1, as ${{1}}")
        parts.extend(p for p in (text[end : found.start()], int(found[1]) - 1) if p != "")
        end = found.end()
    if "${" in text[end:]:
        raise ValueError(f"a placeholder in {text!r} is never closed with }}")
    if text[end:]:
        parts.append(text[end:])
    return tuple(parts)


def _path_text(path: FieldPath) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _parse_json(text: str, problems: Problems) -> tuple[Any, Locate | None]:
    try:
        json.loads(text)
        scanner = _PositionScanner(text, problems)
        data, _ = scanner.value(0, ())
    except json.JSONDecodeError as exc:
        problems.add(exc.lineno, "", f"invalid JSON: {exc.msg}", column=exc.colno)
        return None, None
    except RecursionError:  # both json and the scanner recurse: a problem, not a crash
        problems.add(1, "", "cannot read the template: nested too deeply", column=1)
        return None, None
    return data, scanner.locate


class _PositionScanner:
    """Valid JSON -> the same data, and where each key and list item stands (json keeps no
    positions). Reports a key given twice in one object, which json would silently overwrite."""

    _SPACE = re.compile(r"[ \t\n\r]*")
    # a string, or any other scalar (a number, true, false, null, NaN...): json.loads reads it
    _STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
    _SCALAR = re.compile(r"[^\s,\]}]+")

    def __init__(self, text: str, problems: Problems) -> None:
        self.text = text
        self.problems = problems
        self.breaks = [i for i, c in enumerate(text) if c == "\n"]
        self.positions: dict[FieldPath, tuple[int, int]] = {}

    def locate(self, path: FieldPath) -> tuple[int, int]:
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (1, 1)

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_left(self.breaks, offset)
        return line + 1, offset - (self.breaks[line - 1] + 1 if line else 0) + 1

    def skip(self, i: int) -> int:
        found = self._SPACE.match(self.text, i)
        return found.end() if found else i

    def value(self, i: int, path: FieldPath) -> tuple[Any, int]:
        i = self.skip(i)
        self.positions.setdefault(path, self.at(i))
        c = self.text[i]
        if c == "{":
            return self.object(i + 1, path)
        if c == "[":
            return self.array(i + 1, path)
        return self.scalar(i)

    def scalar(self, i: int) -> tuple[Any, int]:
        found = (self._STRING if self.text[i] == '"' else self._SCALAR).match(self.text, i)
        assert found is not None, i  # json.loads accepted the text
        value: Any = json.loads(found[0])
        return value, found.end()

    def object(self, i: int, path: FieldPath) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        i = self.skip(i)
        if self.text[i] == "}":
            return result, i + 1
        while True:
            i = self.skip(i)
            line, column = self.at(i)
            key, i = self.scalar(i)
            if key in result:
                self.problems.add(line, _path_text((*path, key)), f"{key!r} is given twice", column=column)
            self.positions[(*path, key)] = (line, column)
            i = self.skip(i) + 1  # the colon
            result[key], i = self.value(i, (*path, key))
            i = self.skip(i)
            if self.text[i] == "}":
                return result, i + 1
            i += 1  # the comma

    def array(self, i: int, path: FieldPath) -> tuple[list[Any], int]:
        result: list[Any] = []
        i = self.skip(i)
        if self.text[i] == "]":
            return result, i + 1
        while True:
            item, i = self.value(i, (*path, len(result)))
            result.append(item)
            i = self.skip(i)
            if self.text[i] == "]":
                return result, i + 1
            i += 1

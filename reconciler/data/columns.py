"""Rendering's fast path: a batch of input rows built column by column, in C where it can be.

``render._ElementPlan.row`` builds one output row at a time: a dozen Python steps per cell, and
the interpreter between them is most of the time a render takes. Here a batch of rows (one
``tokenizer.record_batches`` batch, up to 512 lines) is built a column at a time: an input
column is picked out and trimmed with one ``map`` each (C), a ``"x/${1}/${2}"`` value is one
``map`` of its ``str.format``, a plain multivalue column a chain of ``map``s, the checks look at
whole columns (``all``) or at the distinct values of one, and the writer gets the columns
(``writer.Columns``). It vouches only for a batch whose rows are all of the header's width (or
wide enough), each make one row that passes every check and merges with none, and hold no
multivalue quote, escape or line break in a list column: for any other batch
``ColumnPlan.build`` (or the renderer) says no, and the batch goes through the per-row path,
which stays the reference (and reports the problems). Elements with ``[[ ]]`` or a list of
several items always take the per-row path.
tests/data/test_columns.py holds both paths to the same bytes and problems.

Measured with benchmarks/render_rows.py's file and template, in fresh processes alternating with
the per-row path and a stdlib csv read and write of the same file (best of 4; 1,000,000 rows):
csv 1.43 s, per-row 6.8 s (4.7x), this path 2.5 s (1.8x), peak RSS unchanged at about 107 MB
(the duplicate check's set). Building by columns took the ratio from 4.2x to 2.7x, writing joined
columns (``CsvWriter.write_columns``) instead of ``csv.writer`` rows to 2.2x, 512-line batches
(``tokenizer.BATCH_LINES``) to 1.8x. At 3,000,000 rows: 3.7x -> 2.2x (the spilled duplicate
check's merge, in Python, is most of the rest).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

from reconciler.data.checks import RowChecker, cell_problems
from reconciler.data.options import CsvOptions
from reconciler.data.template import Parts
from reconciler.data.tokenizer import TRIMMED
from reconciler.data.writer import Columns

_UNTRIMMED = re.compile(f"[{re.escape(TRIMMED)}]")


@dataclass(frozen=True, slots=True)
class Built:
    """A batch's output rows as columns (None: the element's fixed value on every row), and each
    row's identity."""

    columns: list[Sequence[str] | None]
    identities: list[object]
    base: Sequence[str]

    def head(self, count: int) -> Columns:
        """The first ``count`` rows."""
        return Columns(self.columns, self.base, count)

    def last(self) -> list[str]:
        return [self.base[out] if cells is None else cells[-1] for out, cells in enumerate(self.columns)]


class ColumnPlan:
    """One template element with a placeholder, without ``[[ ]]`` or a list of several items (or
    of fixed text around its placeholder), laid out for ``build``: the arguments are
    ``render._ElementPlan``'s."""

    def __init__(
        self,
        *,
        base: Sequence[str],
        singles: Sequence[tuple[int, int]],
        formats: Sequence[tuple[int, Callable[..., str], Sequence[int], Parts]],
        lists: Sequence[tuple[int, int]],
        checker: RowChecker,
        filled_only: bool,
        identity: Sequence[int],
        options: CsvOptions,
    ) -> None:
        self.base = base
        self.singles = singles
        # A value that starts and ends with a trimmed placeholder or untrimmable text needs no trim.
        self.formats = [(out, form, columns, _may_trim(parts)) for out, form, columns, parts in formats]
        self.lists = lists
        self.checker = checker
        self.filled_only = filled_only
        self.identity = identity
        self.separator = options.multivalue_separator
        # what only split_multivalue reads right: the multivalue quote and escape; a line break
        self.specials = (options.multivalue_quote, options.escape or options.multivalue_quote, "\n")

    def build(self, rows: list[list[str]]) -> Built | None:
        """The output rows of ``rows`` (each as wide as the element needs, none blank), or None
        when any of them needs the per-row path."""
        picked: dict[int, list[str]] = {}
        trimmed: dict[int, list[str]] = {}

        def pick(column: int) -> list[str]:
            if column not in picked:
                picked[column] = list(map(itemgetter(column), rows))
            return picked[column]

        def trim(column: int) -> list[str]:
            if column not in trimmed:
                trimmed[column] = list(map(str.strip, pick(column), repeat(TRIMMED)))
            return trimmed[column]

        columns: list[Sequence[str] | None] = [None] * len(self.base)
        for out, column in self.singles:
            columns[out] = trim(column)
        for out, form, used, needs_trim in self.formats:
            values = [trim(column) for column in used]
            if all(map(all, values)):
                cells = list(map(form, *values))
                columns[out] = list(map(str.strip, cells, repeat(TRIMMED))) if needs_trim else cells
            else:
                columns[out] = [
                    form(*found).strip(TRIMMED) if all(found) else "" for found in zip(*values, strict=True)
                ]
        for out, column in self.lists:
            found = self._lists(pick(column))
            if found is None:
                return None
            columns[out] = found
        if not self._valid(columns):
            return None
        return Built(columns, self._identities(columns, len(rows)), self.base)

    def _lists(self, cells: list[str]) -> list[str] | None:
        """A ``["${n}"]`` column: each cell's values trimmed, without empty ones or repeats, one
        per line; None when a cell holds what only ``split_multivalue`` reads."""
        separator = self.separator
        text = separator.join(cells)
        if any(special in text for special in self.specials):
            return None
        empty = not text or separator * 2 in text or text[0] == separator or text[-1] == separator
        if empty or _UNTRIMMED.search(text):
            return ["\n".join(_split(cell, separator)) for cell in cells]
        # no value to trim or drop: the values are the parts, once each
        return list(map("\n".join, map(dict.fromkeys, map(str.split, cells, repeat(separator)))))

    def _valid(self, columns: list[Sequence[str] | None]) -> bool:
        """Whether every row passes ``RowChecker.problems`` (which ``filled`` columns are dynamic)."""
        checker = self.checker
        if not all(all(columns[out] or ()) for out in checker.filled):
            return False
        if self.filled_only:
            return True
        for index, check, split in checker.cells:
            if any(cell_problems(check, split, text) for text in set(columns[index] or ())):
                return False
        if checker.type_column is None:
            return True
        types = columns[checker.type_column]
        for type_name in set(types or (self.base[checker.type_column],)):
            for _, at in checker.filled_for_type.get(type_name, ()):
                needed = None if at is None else columns[at]
                if needed is None:
                    if at is None or not self.base[at]:
                        return False
                elif types is None:
                    if not all(needed):
                        return False
                elif not all(value for value, found in zip(needed, types, strict=True) if found == type_name):
                    return False
        return True

    def _identities(self, columns: list[Sequence[str] | None], count: int) -> list[object]:
        """Each row's ``render._ElementPlan.identity`` (one column: the value; more: a tuple)."""
        picked = Columns(
            [columns[out] for out in self.identity], [self.base[out] for out in self.identity], count
        )
        if len(self.identity) > 1:
            return list(picked.rows())
        (cells,) = picked.cells
        return [picked.fixed[0]] * count if cells is None else list(cells)


def _split(cell: str, separator: str) -> list[str]:
    values = [value for part in cell.split(separator) if (value := part.strip(TRIMMED))]
    return values if len(values) < 2 else list(dict.fromkeys(values))


def _may_trim(parts: Parts) -> bool:
    """Whether a value made of ``parts`` (placeholders filled with trimmed, non-empty text) may
    start or end with a character Atlan trims."""
    first, last = parts[0], parts[-1]
    return (isinstance(first, str) and first[0] in TRIMMED) or (isinstance(last, str) and last[-1] in TRIMMED)

"""The checks one output row must pass before the file leaves the machine: the columns its file
needs filled, known typeNames, and the encoding each cell is parsed with (``vocabulary``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from reconciler.data.tokenizer import trim
from reconciler.data.vocabulary import SectionSpec, cell_check, multi_valued, type_check

RAGGED = "this row has {} fields, the header {}"


class RowChecker:
    """Checks rows laid out as ``header`` for ``spec``'s file.

    ``columns`` limits the checks to those columns (a template's fixed values are checked once,
    when it is loaded); a column in ``lists`` is a list of values, one per line, as is every
    column Atlan reads as a list.
    """

    def __init__(
        self,
        spec: SectionSpec,
        header: Sequence[str],
        columns: Collection[str] | None = None,
        lists: Collection[str] = (),
    ) -> None:
        def checked(column: str) -> bool:
            return column in header and (columns is None or column in columns)

        at = {column: index for index, column in enumerate(header)}
        self.header = header
        self.filled = [at[column] for column in spec.filled if checked(column)]
        self.type_column = at.get("typeName") if spec.filled_for_type else None
        self.filled_for_type = {
            type_name: [(column, at.get(column)) for column in needed]
            for type_name, needed in spec.filled_for_type.items()
        }
        allowed = spec.allowed_types()
        self.cells = []  # (index, check, split into lines first)
        for index, column in enumerate(header):
            if not checked(column):
                continue
            check = type_check(allowed, spec.name) if column in spec.type_columns else cell_check(column)
            if check is not None:
                self.cells.append((index, check, column in lists or bool(multi_valued(column))))

    def problems(self, row: Sequence[str]) -> list[tuple[str, str]]:
        """(column, what is wrong) for each problem of ``row``; empty when it passes."""
        found = []
        for index in self.filled:
            if not row[index]:
                found.append((self.header[index], "is empty, and every row needs it"))
        if self.type_column is not None:
            type_name = row[self.type_column]
            for column, at in self.filled_for_type.get(type_name, ()):
                if at is None or not row[at]:
                    found.append((column, f"is empty, and every {type_name} row needs it"))
        for index, check, split in self.cells:
            found.extend((self.header[index], message) for message in cell_problems(check, split, row[index]))
        return found


def cell_problems(check: Callable[[str], str | None], split: bool, text: str) -> list[str]:
    """What ``check`` finds wrong with a cell (with ``split``, with each of its lines)."""
    found = []
    for value in text.split("\n") if split else (text,):
        message = check(trim(value)) if value.strip() else None
        if message:
            found.append(message)
    return found

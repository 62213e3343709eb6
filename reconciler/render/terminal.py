"""Colour and columns for terminal text, through rich: the one place the renderers' ANSI comes from.

Renderers return strings; whether to colour is the caller's choice (``reconciler.console``
colours only on a terminal, and never with NO_COLOR). Contributor text is escaped before it is
painted or put in a table (reconciler/render/escape.py), so the only escape sequences in the
output are these.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from rich.color import ColorSystem
from rich.style import Style

if TYPE_CHECKING:
    from rich.text import Text

# What each mark means, as a colour: + create, ~ update, ↻ rerun, <= adopt, - archive, = no-op,
# ! unhealthy; and the outcomes of an apply (! interrupted, ○ not started).
MARK_STYLES = {
    "+": "green",
    "~": "yellow",
    "↻": "cyan",
    "<=": "magenta",
    "-": "red",
    "=": "dim",
    "!": "red",
    "✓": "green",
    "✗": "red",
    "·": "yellow",
    "○": "dim",
}

Piece = tuple[str, str]
"""Text and the rich style it is shown in ("none": plain)."""
Cell = str | tuple[Piece, ...]
"""A table cell: plain text, or pieces in their styles."""


@cache
def _style(name: str) -> Style:
    return Style.parse(name)


def paint(text: str, style: str, color: bool) -> str:
    """``text`` in ``style`` (a rich style name such as "green" or "bold") when ``color``."""
    return _style(style).render(text, color_system=ColorSystem.STANDARD) if color else text


def paint_mark(mark: str, color: bool) -> str:
    """A plan, drift or result mark in its colour."""
    return paint(mark, MARK_STYLES.get(mark, "none"), color)


def paint_mark_line(line: str, color: bool) -> str:
    """A change line in the colour of its first character (+ add, - remove, ~ change)."""
    return paint(line, MARK_STYLES.get(line[0], "none"), color)


def marked(mark: str, text: str) -> Cell:
    """A cell holding a mark in its colour, a space and ``text`` (escaped already)."""
    return ((mark, MARK_STYLES.get(mark, "none")), (" " + text, "none"))


def _text(cell: Cell, color: bool) -> Text:
    from rich.text import Text

    # Always a Text, never a str: rich would read markup ("[bold]"), emoji codes (":x:") and
    # highlight numbers in a str, and cells quote contributors' names.
    if isinstance(cell, str):
        return Text(cell)
    return Text.assemble(*(piece if color else piece[0] for piece in cell))


def _plain(cell: Cell) -> str:
    return cell if isinstance(cell, str) else "".join(text for text, _ in cell)


# rich's Table costs about 0.2 ms a row: 2.2 s for the result table of 10,000 creates. Past this
# many rows the same layout is made directly (0.05 s for 10,000); tests/test_render_tables.py
# holds the two equal.
RICH_TABLE_ROWS = 500


def _laid_out(rows: Sequence[Sequence[Cell]], *, color: bool, indent: str) -> list[str]:
    """What ``Table(box=None, padding=(0, 1), pad_edge=False)`` prints: each column as wide as its
    widest cell in terminal cells, two spaces between columns, no trailing space."""
    from rich.cells import cell_len

    def painted(cell: Cell) -> str:
        if isinstance(cell, str) or not color:
            return _plain(cell)
        return "".join(paint(text, style, color) if style != "none" else text for text, style in cell)

    widths = [max(cell_len(_plain(row[column])) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            painted(cell) + " " * (width - cell_len(_plain(cell)))
            for cell, width in zip(row, widths, strict=True)
        ]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


def table_lines(rows: Sequence[Sequence[Cell]], *, color: bool, indent: str = "  ") -> list[str]:
    """``rows`` as lines of columns two spaces apart, each line starting with ``indent``.

    rich lays the columns out by terminal cells, not characters, so a name in CJK or with emoji
    still lines up; a cell is never wrapped or cut, however long.
    """
    if not rows:
        return []
    if len(rows) > RICH_TABLE_ROWS:
        return _laid_out(rows, color=color, indent=indent)
    # Imported here: rich's console and table take ~50 ms to import, which `--help` and the
    # JSON and markdown outputs need not pay (tests/test_imports.py).
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False, padding=(0, 1))
    for _ in rows[0]:
        table.add_column(no_wrap=True, overflow="ignore")
    for row in rows:
        table.add_row(*(_text(cell, color) for cell in row))
    # Wide enough never to squeeze a column: each column's widest cell, plus the padding.
    width = sum(max(cell_len(_plain(row[column])) for row in rows) + 2 for column in range(len(rows[0])))
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        markup=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
    )
    console.print(table)
    # Each line is padded to the table's width: the padding of the last column goes.
    return [indent + line.rstrip() for line in buffer.getvalue().splitlines()]

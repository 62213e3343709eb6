"""Colour for terminal text, through rich's styles: the one place the renderers' ANSI comes from.

Renderers return strings; whether to colour is the caller's choice (``reconciler.console``
colours only on a terminal, and never with NO_COLOR). Contributor text is escaped before it is
painted (reconciler/render/escape.py), so the only escape sequences in the output are these.
"""

from __future__ import annotations

from functools import cache

from rich.color import ColorSystem
from rich.style import Style

# What each mark means, as a colour: + create, ~ update, ↻ rerun, <= adopt, - archive, = no-op,
# ! unhealthy; and the outcomes of an apply.
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
}


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

"""Where a value stands: field paths, ``line:column`` positions and one document's map of them.

Every problem the loader reports is pinned to ``file:line:column`` and a field path through a
``SourceMap``; the YAML builder (``documents``) fills one, and the validation messages
(``messages``) and the checks across manifests (``checks``) read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import Problem

FieldPath = tuple[str | int, ...]
NAME: FieldPath = ("metadata", "name")


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each value (and each mapping key) of one YAML document stands in its file."""

    file: str
    document: int  # 0-based index of the document in its file
    values: Mapping[FieldPath, Position]
    keys: Mapping[FieldPath, Position]

    def position(self, path: FieldPath, *, key: bool = False) -> Position:
        """The position of ``path``, or of its nearest ancestor that exists in the file."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return Position(1, 1)

    @property
    def name_location(self) -> str:
        """``file:line`` of the manifest's name, for messages that point at another manifest."""
        return f"{self.file}:{self.position(NAME).line}"

    def problem(self, path: FieldPath, message: str, *, key: bool = False) -> Problem:
        where = self.position(path, key=key)
        return Problem(self.file, where.line, where.column, format_path(path), message)


def format_path(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text

"""A file's text checked before ruamel.yaml reads it: nesting depth and characters YAML refuses.

Manifests come from pull requests, so their text may be hostile. ruamel.yaml's C composer
(ruamel.yaml.clib) builds nested collections by recursing on the C stack: 100,000 levels of ``[``
(100 KB) kill the process with SIGSEGV, and a few hundred reach Python's recursion limit in the
loader. Neither can be stopped once composing has started, so the depth is checked before.

The check costs next to nothing on ordinary files: a bound on the depth is read off the text in a
few C-speed passes (``str.count``, ``str.split``, one regex search), and only a file it cannot
clear is parsed for events (libyaml's parser keeps its own stack; it does not recurse) to find the
first collection nested too deeply. On benchmarks/scale.py's 10,000 manifests (100 documents a
file, four flow mappings a document) the bound clears every file.
"""

from __future__ import annotations

import re
import unicodedata

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent

from reconciler.errors import Problem
from reconciler.manifest.positions import Position

# The deepest manifest field is five collections down (the document, spec, assets, advanced,
# remove_attributes). 64 leaves any hand-written YAML room, and keeps the loader's own recursion
# (DocumentBuilder: two Python frames a level) far below Python's limit of 1,000 frames.
MAX_DEPTH = 64

# -- the bound --
#
# Block collections: one nested in another starts at a greater column, except a sequence that is
# a mapping's value (``key:`` then ``- a`` at the key's column). A collection's first entry starts
# right after its line's leading spaces and block indicators (``- ``, ``? ``, ``: ``, ``--- ``),
# so when no line has _WIDE such characters, block collections nest at most 2 * _WIDE deep.
# Flow collections: each ``[`` opens at most two levels (a sequence and a single-pair mapping in
# it: ``[a: [b: c]]``), each ``{`` one, and a document marker (``---`` at column 0, then a blank)
# ends them all: libyaml stops there, or refuses a collection left open.
_WIDE = 16
_FLOW_BUDGET = MAX_DEPTH - 2 * _WIDE
_LEADING = "[ \t?:\ufeff-]"
_WIDE_FIRST_LINE = re.compile(f"{_LEADING}{{{_WIDE}}}")
# Lines after a newline; a pattern that starts with one character is searched six times faster
# than one that starts with a set of them, so the other line breaks are looked for only in files
# that have them.
_WIDE_LINE = re.compile(f"\n{_LEADING}{{{_WIDE}}}")
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")  # libyaml's (YAML 1.1's), counted by ruamel's marks
_WIDE_LINE_ANY_BREAK = re.compile(f"[\n\r\x85\u2028\u2029]{_LEADING}{{{_WIDE}}}")
_BLANK_OR_BREAK = frozenset(" \t\n\r\x85\u2028\u2029")


def depth_problem(text: str, file: str, yaml: YAML) -> Problem | None:
    """The first collection of ``text`` nested more than MAX_DEPTH deep, as a problem, or None.

    Checks the bound first; parses for events only when the bound cannot clear the text."""
    if bound_clears(text):
        return None
    depth = 0
    events = yaml.parse(text)
    try:
        for event in events:
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return Problem(
                        file,
                        mark.line + 1,
                        mark.column + 1,
                        "",
                        f"YAML is nested more than {MAX_DEPTH} collections deep",
                    )
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                depth -= 1
    except YAMLError:
        # Composing stops at the same place, and no collection before it was too deep: the
        # syntax error is reported from there.
        return None
    finally:
        events.close()
    return None


def bound_clears(text: str) -> bool:
    """Whether ``text`` certainly nests at most MAX_DEPTH deep (see the bound above)."""
    other_breaks = any(c in text for c in _OTHER_BREAKS) or (
        "\r" in text and text.count("\r") != text.count("\r\n")
    )
    wide = _WIDE_LINE_ANY_BREAK if other_breaks else _WIDE_LINE
    if _WIDE_FIRST_LINE.match(text) or wide.search(text):
        return False
    if 2 * text.count("[") + text.count("{") <= _FLOW_BUDGET:
        return True
    # Document by document. Missing a marker (``...``, or after another line break) only
    # makes the bound larger.
    openings = 0
    for index, piece in enumerate(text.split("\n---")):
        if index and (not piece or piece[0] in _BLANK_OR_BREAK):  # "": the text ends with it
            openings = 0
        openings += 2 * piece.count("[") + piece.count("{")
        if openings > _FLOW_BUDGET:
            return False
    return True


# -- characters --

# What YAML accepts (its printable set: what libyaml's reader and ruamel's pure-Python one check).
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
MAX_CHARACTER_PROBLEMS = 10  # a file saved as UTF-16 has a NUL every other character


def character_problems(text: str, file: str) -> list[Problem]:
    """A problem for each character of ``text`` YAML refuses (the first MAX_CHARACTER_PROBLEMS,
    then how many more), at its line and column: ruamel says only "position 249"."""
    found = list(_NOT_PRINTABLE.finditer(text))
    problems = []
    for match in found[:MAX_CHARACTER_PROBLEMS]:
        character = match.group()
        kind = "control character" if unicodedata.category(character) == "Cc" else "character"
        message = f"{kind} U+{ord(character):04X} is not allowed in YAML"
        problems.append(_at(text, match.start(), file, message))
    if len(found) > MAX_CHARACTER_PROBLEMS:
        more = len(found) - MAX_CHARACTER_PROBLEMS
        at = found[MAX_CHARACTER_PROBLEMS].start()
        problems.append(_at(text, at, file, f"and {more} more characters that are not allowed in YAML"))
    return problems


def decoding_problem(content: bytes, error: UnicodeDecodeError, file: str) -> Problem:
    """Where a file stops being UTF-8, as a problem."""
    read = content[: error.start].decode("utf-8")
    message = f"not UTF-8 (byte 0x{content[error.start]:02x}); save the file as UTF-8"
    return _at(read, len(read), file, message)


def _at(text: str, index: int, file: str, message: str) -> Problem:
    where = position_at(text, index)
    return Problem(file, where.line, where.column, "", message)


def position_at(text: str, index: int) -> Position:
    """The 1-based line and column of ``text[index]``, counting lines as ruamel's marks do."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line += 1
        start = match.end()
    return Position(line, index - start + 1)

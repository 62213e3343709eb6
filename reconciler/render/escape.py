"""Escaping for text a renderer prints but did not write. Pure: str in, str out.

Everything a pull request's author controls (manifest and workflow names and so addresses, file
names, label keys and values, parameter values, and the reasons, notes, findings and details
that quote them) reaches a terminal, a PR comment, a job summary or an issue through exactly one
of these, chosen by where it lands:

``terminal_text``
    A terminal line. Control characters (C0, DEL, C1: ESC, CR, BS, newline...) and the
    invisible direction marks (bidi embeddings, overrides and isolates, LRM, RLM, ALM) and line
    separators are shown as escapes (``\\x1b``, ``\\r``, ``\\n``, ``\\u202e``), so the text can
    neither move the cursor, recolour, erase or reorder what is printed, nor start a new line
    that looks like one of the renderer's. The other functions start from it too.
``md_text``
    Markdown prose and table cells, on one line (a newline becomes a space). ``&``, ``<`` and
    ``>`` become entities (no raw HTML, no autolink, no ``<!--`` hidden line); ``\\`` `` ` ``
    ``*`` ``[`` ``]`` ``|`` ``~`` ``$`` and a ``_`` that could start or end emphasis are
    backslash-escaped (no code span, emphasis, link, image, table cell, strikethrough or math), as
    is a line-start ``#``/``+``/``-``/``=``/``1.`` (no heading or list); ``@`` is followed by a
    zero-width space (``@&#8203;``: shown as ``@``, but GitHub sees no ``@user`` or ``@org/team``
    to notify).
``md_code``
    An inline code span: delimited by more backticks than the longest run in the text, padded
    when needed; ``|`` escaped when the span sits in a table cell.
``md_fence``
    A fenced code block: a fence longer than any backtick run in the lines, so no line closes it.
``html_text`` / ``html_code``
    Inside an HTML block such as ``<details><summary>...</summary>``, where GitHub reads HTML,
    not markdown: entities for ``&``, ``<``, ``>``; ``@`` as in ``md_text`` outside ``<code>``.

Inside code (``md_code``, ``md_fence``) GitHub shows text literally, processes no mention and no
HTML, so the text is kept as is (controls aside, as above) but for one thing: a ``<`` that would
open a tag, comment or declaration (``<d``, ``</``, ``<!``, ``<?``) is followed by a zero-width
space. It looks the same, but no body ever holds a contributor's ``<details>``, ``</details>``
or ``<!-- reconciler:`` that a reader of the raw text (the sticky-comment finder, the
plan-record parser, ``fit``'s count of open blocks, any other tool) could take for the
renderer's own.

JSON output is data, not markup: it is never escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

ZWSP = "\u200b"
# C0 controls, DEL, C1 controls; ALM; LRM, RLM; line and paragraph separators; bidi embeddings and
# overrides (U+202A-U+202E) and isolates (U+2066-U+2069).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MD_ALWAYS = re.compile(r"[\\`*\[\]|~$]")
# "_" can open or close emphasis only when not between two letters or digits (CommonMark).
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_MD_LINE_START = re.compile(r"\A(?:[#+=-]|\d+(?=[.)]))")
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_BACKTICKS = re.compile(r"`+")
_MENTION = "@&#8203;"


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """``text`` on one line, with every control and bidi character shown as an escape."""
    return _INVISIBLE.sub(_escaped, text)


def _line_start(match: re.Match[str]) -> str:
    found = match.group()
    return found + "\\" if found[0].isdigit() else "\\" + found


def md_text(text: str) -> str:
    """``text`` as literal markdown prose (also safe in a table cell): nothing it holds is markup."""
    text = html.escape(terminal_text(text.replace("\n", " ")), quote=False)
    text = _MD_ALWAYS.sub(lambda m: "\\" + m.group(), text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_LINE_START.sub(_line_start, text, count=1)
    return text.replace("@", _MENTION)


def _defanged(text: str) -> str:
    return _TAG_OPEN.sub("<" + ZWSP, terminal_text(text))


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def md_code(text: str, *, cell: bool = False) -> str:
    """``text`` as one inline code span; ``cell`` when it sits in a table row (escapes ``|``)."""
    content = _defanged(text)
    if cell:
        content = content.replace("|", "\\|")
    if not content:
        return "` `"
    ticks = "`" * (_longest_backticks(content) + 1)
    spaced = content.startswith(" ") and content.endswith(" ") and content.strip(" ")
    pad = " " if content.startswith("`") or content.endswith("`") or spaced else ""
    return f"{ticks}{pad}{content}{pad}{ticks}"


def md_fence(lines: Iterable[str], info: str = "") -> str:
    """A fenced code block of ``lines`` (each kept on one line) that none of them can close."""
    body = [_defanged(line) for line in lines]
    fence = "`" * max(3, max((_longest_backticks(line) for line in body), default=0) + 1)
    return "\n".join([fence + info, *body, fence])


def html_text(text: str) -> str:
    """``text`` as literal text inside HTML (a ``<summary>``): no tag, no entity, no mention."""
    return html.escape(terminal_text(text.replace("\n", " ")), quote=False).replace("@", _MENTION)


def html_code(text: str) -> str:
    """``text`` in ``<code>`` inside an HTML block (not inline markdown, which would parse it)."""
    return f"<code>{html.escape(terminal_text(text), quote=False)}</code>"

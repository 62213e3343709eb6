"""How a source CSV is read: the Collibra Import API's CSV parameters, with its defaults.

The names and defaults are those of ``POST /rest/2.0/import/csv-job`` (separator ``;``, quote
``"``, escape ``\\``, strictQuotes and ignoreLeadingWhitespace off, no header row); the characters
that split a multivalue cell follow from them as the Import API documents
(../shared/template-facts.md §1.2, §1.3).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Literal

Section = Literal["assets", "glossaries", "data_products", "tags", "lineage"]
SECTIONS: tuple[Section, ...] = ("assets", "glossaries", "data_products", "tags", "lineage")


@dataclass(frozen=True, slots=True)
class CsvOptions:
    """The CSV parameters of one source file; invalid values raise ``ValueError`` with one sentence.

    ``escape`` None means no escape character. ``header_row`` skips the first record (its field
    count is then the count every row must have). ``encoding`` is any Python codec name; a
    byte-order mark is honoured (for UTF-8 it is dropped).
    """

    separator: str = ";"
    quote: str = '"'
    escape: str | None = "\\"
    strict_quotes: bool = False
    ignore_leading_whitespace: bool = False
    header_row: bool = False
    encoding: str = "utf-8"
    # What a multivalue cell splits on and quotes with (`["${n}"]`, and inside `[[ ]]`).
    multivalue_separator: str = field(init=False)
    multivalue_quote: str = field(init=False)

    def __post_init__(self) -> None:
        for name in ("separator", "quote", "escape"):
            value = getattr(self, name)
            if value is None and name == "escape":
                continue
            if not isinstance(value, str) or len(value) != 1:
                raise ValueError(f"{name} must be one character, got {value!r}")
            if value in "\r\n":
                raise ValueError(f"{name} cannot be a line break")
        specials = [c for c in (self.separator, self.quote, self.escape) if c is not None]
        if len(set(specials)) != len(specials):
            raise ValueError("separator, quote and escape must be three different characters")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {self.encoding!r}") from None
        object.__setattr__(self, "multivalue_separator", "," if self.separator == ";" else ";")
        object.__setattr__(self, "multivalue_quote", "|" if self.quote == '"' else '"')
        if self.escape in (self.multivalue_separator, self.multivalue_quote):
            raise ValueError(
                f"escape {self.escape!r} cannot also be the multivalue separator "
                f"({self.multivalue_separator!r}) or quote ({self.multivalue_quote!r})"
            )

    @property
    def codec(self) -> str:
        """The codec to open the file with: a UTF-8 byte-order mark is dropped, not read as text."""
        name = codecs.lookup(self.encoding).name
        return "utf-8-sig" if name == "utf-8" else self.encoding

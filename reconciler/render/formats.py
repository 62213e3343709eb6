"""The output formats the commands offer: enums only, so the CLI can declare its options without
importing any renderer (see tests/test_imports.py)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class OutputFormat(StrEnum):
    """plan and drift: text for people, markdown for a PR comment, JSON for tools."""

    text = "text"
    markdown = "markdown"
    json = "json"


class RenderFormat(StrEnum):
    """render: the compiled requests as JSON or YAML."""

    json = "json"
    yaml = "yaml"


class SchemaFormat(StrEnum):
    """schema: the JSON Schema, or the markdown field reference."""

    json = "json"
    markdown = "markdown"


def in_format(
    output: OutputFormat, *, text: Callable[[], str], markdown: Callable[[], str], json: Callable[[], str]
) -> str:
    """The rendering of one of plan's or drift's formats: only the one asked for is made."""
    return {OutputFormat.text: text, OutputFormat.markdown: markdown, OutputFormat.json: json}[output]()

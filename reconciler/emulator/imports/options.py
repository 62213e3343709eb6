"""A run's import options, read from its workflow's parameters as the packages read them
(../shared/atlan-csv-formats.md §6.2, §7, §9.2).

Asset import: per file (``assets``, ``glossaries``, ``data_products``, ``tags``), the options of
``<file>_config: advanced`` are honoured only when it is ``advanced`` (``CustomConfig.
getEffectiveValue``); ``<file>_upsert_semantic`` always is. The delta options are honoured only
with ``assets_delta_semantic: full``. Lineage builder: its options have no such gate.

Values arrive as the SDK sends them: booleans and numbers as JSON, or as text (the UI's form).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.imports.csvfile import FileError

ASSET_IMPORT = "asset-import"
LINEAGE_BUILDER = "lineage-builder"
# The sections of one asset-import run, in the order the package processes them (§7.9).
ASSET_SECTIONS = ("tags", "glossaries", "data_products", "assets")
SEMANTICS = ("upsert", "partial", "update")
_DEFAULT_SEMANTIC = {"assets": "update", "glossaries": "upsert", "data_products": "upsert"}
_DEFAULT_PREVIOUS_PREFIX = "csa-asset-import"  # DeltaProcessor's default previous-file prefix


@dataclass(frozen=True)
class Delta:
    """``assets_delta_semantic: full``: what happens to the assets the previous file had."""

    removal: str  # archive | purge
    reload: str  # all | changes
    previous_prefix: str


@dataclass(frozen=True)
class FileOptions:
    section: str
    semantic: str = "upsert"  # upsert | partial | update
    fail_on_errors: bool = True
    separator: str = ","
    batch_size: int = 20
    remove_if_empty: frozenset[str] = frozenset()
    case_sensitive: bool = True
    table_view_agnostic: bool = False
    tag_handling: str = "replace"  # ignore | append | replace | remove
    cm_handling: str = "merge"  # ignore | merge | overwrite
    encoding: str | None = None
    relaxed_cqn: bool = False
    delta: Delta | None = None


def boolean(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip().lower() == "true"  # Kotlin's String.toBoolean()
    return default


def _text(value: Any, default: str) -> str:
    text = "" if value is None else str(value).strip()
    return text or default


def _choice(params: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _text(params.get(name), default).lower()
    if value not in choices:
        raise FileError(f"parameter {name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _separator(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        return ","
    value = str(value)
    if len(value) > 1:  # Importer.kt's own words (it exits 2)
        raise FileError(
            f"Field separator must be only a single character. The provided value is too long: {value}"
        )
    if value in '"\r\n':
        raise FileError(f"parameter {name}: {value!r} cannot separate fields")
    return value


def _batch_size(params: Mapping[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        return 20
    try:
        size = int(str(value).strip())
    except ValueError:
        size = 0
    if size < 1:
        raise FileError(f"parameter {name}: expected a positive whole number, got {value!r}")
    return size


def _attributes(value: Any) -> frozenset[str]:
    """``*_attr_to_overwrite``: a JSON array as text (the SDK sends ``"null"`` for none)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except ValueError:
            value = [part.strip() for part in value.split(",")]
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(item) for item in value if str(item).strip())


def _encoding(params: Mapping[str, Any]) -> str | None:
    value = params.get("input_encoding")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        codecs.lookup(value.strip())
    except LookupError:
        raise FileError(f"parameter input_encoding: unknown encoding {value.strip()!r}") from None
    return value.strip()


def asset_import_options(params: Mapping[str, Any], section: str) -> FileOptions:
    """The options of one file of an asset-import run; FileError for a value the package refuses."""
    advanced = _text(params.get(f"{section}_config"), "default").lower() == "advanced"
    gated = params if advanced else {}
    semantics = SEMANTICS if section == "assets" else ("upsert", "update")
    delta = None
    if section == "assets" and _choice(params, "assets_delta_semantic", ("full", "delta"), "delta") == "full":
        delta = Delta(
            removal=_choice(params, "assets_delta_removal_type", ("archive", "purge"), "archive"),
            reload=_choice(params, "assets_delta_reload_calculation", ("all", "changes"), "all"),
            previous_prefix=_text(params.get("assets_previous_file_prefix"), _DEFAULT_PREVIOUS_PREFIX),
        )
    return FileOptions(
        section=section,
        semantic=(
            _choice(params, f"{section}_upsert_semantic", semantics, _DEFAULT_SEMANTIC[section])
            if section in _DEFAULT_SEMANTIC
            else "upsert"
        ),
        fail_on_errors=boolean(gated.get(f"{section}_fail_on_errors"), True),
        separator=_separator(gated, f"{section}_field_separator"),
        batch_size=_batch_size(gated, f"{section}_batch_size"),
        remove_if_empty=_attributes(gated.get(f"{section}_attr_to_overwrite")),
        case_sensitive=boolean(gated.get(f"{section}_case_sensitive"), True),
        table_view_agnostic=boolean(gated.get(f"{section}_table_view_agnostic"), False),
        tag_handling=_choice(
            gated, f"{section}_tag_handling", ("ignore", "append", "replace", "remove"), "replace"
        ),
        cm_handling=_choice(gated, f"{section}_cm_handling", ("ignore", "merge", "overwrite"), "merge"),
        encoding=_encoding(params),
        relaxed_cqn=boolean(params.get("relaxed_cqn"), False),
        delta=delta,
    )


def lineage_options(params: Mapping[str, Any]) -> FileOptions:
    """The lineage builder's options (not gated; unknown assets created partial by default)."""
    return FileOptions(
        section="lineage",
        semantic=_choice(params, "lineage_upsert_semantic", SEMANTICS, "partial"),
        fail_on_errors=boolean(params.get("lineage_fail_on_errors"), True),
        separator=_separator(params, "field_separator"),
        batch_size=_batch_size(params, "batch_size"),
        case_sensitive=boolean(params.get("lineage_case_sensitive"), True),
        encoding=_encoding(params),
    )

"""What each file of the two packages accepts: its columns, required headers, identity, typeNames
and the encoding each cell is parsed with (../shared/atlan-csv-formats.md §1-§5, §9).

The Atlan type and attribute names, each attribute's kind of value and the values of its enum
come from the unmodified SDK (``atlan_vocabulary.json``, written by tests/data/sdk_vocabulary.py
and checked against pyatlan by tests/data/test_vocabulary.py), read on first use.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from reconciler.data.options import Section

GLOSSARY_TYPES = ("AtlasGlossary", "AtlasGlossaryCategory", "AtlasGlossaryTerm")
MESH_TYPES = ("DataDomain", "DataProduct")
# Lineage builder's headers, exact and case-sensitive (LineageTransformer.REQUIRED_HEADERS, §9.1).
LINEAGE_COLUMNS = (
    "Source Type", "Source Connector", "Source Connection", "Source Identity", "Source Name",
    "Target Type", "Target Connector", "Target Connection", "Target Identity", "Target Name",
    "Transformation Connector", "Transformation Connection", "Transformation Identity",
    "Transformation Name",
)  # fmt: skip
# The tag-definitions file's headers (AtlanTagImporter, §5).
TAG_COLUMNS = (
    "Atlan tag name", "Color", "Icon", "Synced connection name", "Synced connector type",
    "Allowed values for tag", "Tag ID in source", "Account ID (dbt)", "Project ID (dbt)",
    "Schema path (Snowflake)", "Description", "description",
)  # fmt: skip
# Headers the package reads that are no attribute of the SDK's models (§2, §3, §5).
_EXTRA_HEADERS = {
    "typeName": "text",
    "connectorType": "text",
    "customConnectorType": "text",
    "userDefRelationshipTos": "text*",
    "userDefRelationshipFroms": "text*",
}
# Kinds the SDK's models do not say: announcementType is an enum in the Java SDK (EnumXformer,
# §1.1), the data product DSL a JSON string, and a user-defined relationship carries its labels
# after the reference (``<ref> {{toTypeLabel=…}}``), which no single pattern checks.
_KIND_OVERRIDES = {
    "announcementType": "enum",
    "dataProductAssetsDSL": "json",
    "userDefRelationshipTo": "text*",
    "userDefRelationshipFrom": "text*",
}
_ENUM_OVERRIDES = {"announcementType": ("information", "warning", "issue")}
# References written differently from TypeName@qualifiedName (§1.1).
_TERM_REFERENCES = frozenset({
    "assignedTerms", "seeAlso", "preferredTerms", "preferredToTerms", "synonyms", "antonyms",
    "translatedTerms", "translationTerms", "validValuesFor", "validValues", "classifies", "isA",
    "replacedBy", "replacementTerms",
})  # fmt: skip
_CATEGORY_REFERENCES = frozenset({"parentCategory", "categories"})
_NAMED_REFERENCES = frozenset({"anchor", "readme", "parentDomain", "dataDomain", "connection"})
CUSTOM_METADATA = "::"


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """One file of the packages, as its importer reads it."""

    name: Section
    required: tuple[str, ...]  # headers the file must have
    identity: tuple[str, ...]  # the columns that say which asset a row is
    filled: tuple[str, ...]  # columns every row must fill
    # required headers the package ignores: added, empty, to a header that lacks them
    ignored: tuple[str, ...] = ()
    # typeName -> further columns such a row must fill
    filled_for_type: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    type_columns: tuple[str, ...] = ()  # columns that hold a typeName
    own_columns: tuple[str, ...] = ()  # columns besides the Atlan attributes
    attributes: bool = True  # Atlan attributes and Set::Attribute columns are columns too

    def allowed_types(self) -> frozenset[str]:
        known = vocabulary().types
        if self.name == "glossaries":
            return frozenset(GLOSSARY_TYPES)
        if self.name == "data_products":
            return frozenset(MESH_TYPES)
        if self.name == "assets":
            return known - set(GLOSSARY_TYPES) - set(MESH_TYPES)
        return known

    def columns(self) -> frozenset[str]:
        """Every column name the file knows (custom metadata aside)."""
        own = frozenset(self.own_columns)
        return own | vocabulary().columns if self.attributes else own

    def is_column(self, name: str) -> bool:
        if self.attributes and is_custom_metadata(name):
            return True
        return name in self.columns()

    def suggestion(self, name: str) -> str:
        """`` (did you mean 'x'?)`` for the nearest column name, or nothing."""
        return did_you_mean(name, sorted(self.columns()))


SECTION_SPECS: Mapping[Section, SectionSpec] = {
    "assets": SectionSpec(
        "assets",
        required=("typeName", "qualifiedName", "name"),
        identity=("typeName", "qualifiedName"),
        filled=("typeName", "qualifiedName"),
        type_columns=("typeName",),
    ),
    # Glossaries, categories and terms are known by name and glossary (and a category by its
    # parent too); qualifiedName is ignored (§3).
    "glossaries": SectionSpec(
        "glossaries",
        required=("typeName", "name", "qualifiedName"),
        identity=("typeName", "name", "anchor", "parentCategory"),
        filled=("typeName", "name"),
        ignored=("qualifiedName",),
        filled_for_type={"AtlasGlossaryCategory": ("anchor",), "AtlasGlossaryTerm": ("anchor",)},
        type_columns=("typeName",),
    ),
    # Domains are known by their path, products by name and domain; qualifiedName is ignored (§4).
    "data_products": SectionSpec(
        "data_products",
        required=("typeName", "name", "qualifiedName"),
        identity=("typeName", "name", "parentDomain", "dataDomain"),
        filled=("typeName", "name"),
        ignored=("qualifiedName",),
        filled_for_type={"DataProduct": ("dataDomain",)},
        type_columns=("typeName",),
    ),
    "tags": SectionSpec(
        "tags",
        required=("Atlan tag name",),
        identity=("Atlan tag name",),
        filled=("Atlan tag name",),
        own_columns=TAG_COLUMNS,
        attributes=False,
    ),
    # A row is one edge: source, target and the process between them; the Name columns are used
    # only to create a missing asset (§6.5, inferred), and further columns are attributes of the
    # process (§9.1).
    "lineage": SectionSpec(
        "lineage",
        required=LINEAGE_COLUMNS,
        identity=tuple(c for c in LINEAGE_COLUMNS if not c.endswith(" Name")),
        filled=tuple(c for c in LINEAGE_COLUMNS if not c.endswith(" Name")),
        type_columns=("Source Type", "Target Type"),
        own_columns=LINEAGE_COLUMNS,
    ),
}


def is_custom_metadata(name: str) -> bool:
    """``Set::Attribute``: a custom metadata column (its set and attribute are checked by Atlan)."""
    left, found, right = name.partition(CUSTOM_METADATA)
    return bool(found and left.strip() and right.strip())


def did_you_mean(value: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    types: frozenset[str]
    kinds: Mapping[str, str]  # column -> kind; a trailing * marks a multi-valued attribute
    enums: Mapping[str, tuple[str, ...]]

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.kinds)


@functools.cache
def vocabulary() -> Vocabulary:
    data: dict[str, Any] = json.loads(
        resources.files("reconciler.data").joinpath("atlan_vocabulary.json").read_text("utf-8")
    )
    kinds = {**data["attributes"], **_EXTRA_HEADERS, **_KIND_OVERRIDES}
    enums = {name: tuple(values) for name, values in data["enums"].items()} | _ENUM_OVERRIDES
    return Vocabulary(frozenset(data["types"]), kinds, enums)


def multi_valued(column: str) -> bool | None:
    """Whether Atlan reads ``column`` as a list (True), one value (False), or cannot say (None)."""
    if column in LINEAGE_COLUMNS or column in ("Atlan tag name", "typeName", "qualifiedName"):
        return False
    if column == "Allowed values for tag":
        return True
    kind = vocabulary().kinds.get(column)
    return None if kind is None else kind.endswith("*")


Check = Callable[[str], "str | None"]  # a value -> what is wrong with it, or None


def cell_check(column: str) -> Check | None:
    """How one value of ``column`` is checked, or None when the package takes any text."""
    if column in _TERM_REFERENCES:
        return _term_reference
    if column in _CATEGORY_REFERENCES:
        return _category_reference
    if column == "links":
        return _link
    if column in _NAMED_REFERENCES:
        return None
    kind = vocabulary().kinds.get(column, "text").rstrip("*")
    if kind == "enum":
        return functools.partial(_enum, vocabulary().enums.get(column, ()))
    return _CHECKS.get(kind)


def type_check(allowed: frozenset[str], section: Section) -> Check:
    """The check of a typeName cell of ``section``."""

    def check(value: str) -> str | None:
        if value in allowed:
            return None
        if section == "assets" and value in GLOSSARY_TYPES:
            return f"{value} rows belong in the glossaries file"
        if section == "assets" and value in MESH_TYPES:
            return f"{value} rows belong in the data_products file"
        hint = did_you_mean(value, sorted(allowed))
        if len(allowed) <= len(MESH_TYPES) + len(GLOSSARY_TYPES):
            return f"expected one of {', '.join(sorted(allowed))}; got {value!r}{hint}"
        return f"unknown typeName {value!r}{hint}"

    return check


def _boolean(value: str) -> str | None:
    # The package reads anything but "true" as false; a typo would silently be false.
    return None if value.lower() in ("true", "false") else f"expected true or false, got {value!r}"


_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?\d+(\.\d*)?")


def _integer(value: str) -> str | None:
    return None if _INTEGER.fullmatch(value) else f"expected a whole number, got {value!r}"


def _number(value: str) -> str | None:
    try:
        float(value)
    except ValueError:
        return f"expected a number, got {value!r}"
    return None


def _date(value: str) -> str | None:
    # TimestampXformer: epoch milliseconds (a decimal is rounded) or an ISO-8601 instant.
    if _DECIMAL.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return None
    return f"expected epoch milliseconds or an ISO-8601 instant such as 2024-01-31T12:00:00Z, got {value!r}"


def _enum(values: tuple[str, ...], value: str) -> str | None:
    # EnumXformer tries the value, then its upper case.
    if not values or value in values or value.upper() in values:
        return None
    return f"expected one of {', '.join(values)}; got {value!r}{did_you_mean(value.upper(), values)}"


def _json(value: str) -> str | None:
    try:
        json.loads(value)
    except ValueError as exc:
        return f"expected JSON: {exc}"
    return None


def _json_object(value: str) -> str | None:
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        return f"expected a JSON object: {exc}"
    return None if isinstance(parsed, dict) else "expected a JSON object"


_SEMANTIC = re.compile(r"^(\+\+|--)")  # append / remove instead of replace (AssetRefXformer)


def _reference(value: str) -> str | None:
    type_name, found, qualified_name = _SEMANTIC.sub("", value).partition("@")
    if not found or not type_name or not qualified_name:
        return f"expected TypeName@qualifiedName, got {value!r}"
    if type_name not in vocabulary().types:
        hint = did_you_mean(type_name, sorted(vocabulary().types))
        return f"unknown typeName {type_name!r} in reference {value!r}{hint}"
    return None


def _term_reference(value: str) -> str | None:
    term, found, glossary = _SEMANTIC.sub("", value).partition("@@@")
    if found and term and glossary:
        return None
    return f"expected Term@@@Glossary, got {value!r}"


def _category_reference(value: str) -> str | None:
    path, found, glossary = value.partition("@@@")
    if found and path and glossary:
        return None
    return f"expected Parent@Category@@@Glossary, got {value!r}"


def _link(value: str) -> str | None:
    problem = _json_object(_SEMANTIC.sub("", value))
    return f"a link is one JSON object per line: {problem}" if problem else None


_CHECKS: Mapping[str, Check] = {
    "boolean": _boolean,
    "integer": _integer,
    "number": _number,
    "date": _date,
    "json": _json,
    "json-object": _json_object,
    "reference": _reference,
}

"""Finding what a cell names in the catalog: assets by type and qualifiedName, connections by
name and connector type, glossaries, categories and terms by name and path, domains by path.

A lookup made inside a batch is remembered only once its batch commits (``commit``); a batch
rolled back forgets its lookups too (``rollback``), so nothing later points at an asset that a
failed batch would have created.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.catalog import Catalog

DEFERRED = re.compile(r"\{\{([a-zA-Z0-9-]+)/(.+?)\}\}(/.*)?")  # AssetRefXformer.DEFERRED_QN_PATTERN
GLOSSARY, CATEGORY, TERM = "AtlasGlossary", "AtlasGlossaryCategory", "AtlasGlossaryTerm"
DOMAIN, PRODUCT, CONNECTION = "DataDomain", "DataProduct", "Connection"
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class CellError(Exception):
    """A value that cannot be used: what is wrong with it, in one line."""


def new_id() -> str:
    """A 21-character id, as Atlan's generated qualifiedNames use (NanoId)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(21))


def related(document: Mapping[str, Any]) -> dict[str, Any]:
    """An Atlan related object pointing at ``document``."""
    return {
        "typeName": document["typeName"],
        "guid": document["guid"],
        "uniqueAttributes": {"qualifiedName": document["attributes"]["qualifiedName"]},
    }


def guid_of(value: Any) -> str | None:
    return value.get("guid") if isinstance(value, Mapping) else None


class Resolver:
    """Lookups for one run; ``case_sensitive`` is the file's matching of asset qualifiedNames."""

    def __init__(self, catalog: Catalog, *, case_sensitive: bool = True) -> None:
        self.catalog = catalog
        self.case_sensitive = case_sensitive
        self._known: dict[tuple[str, ...], dict[str, Any]] = {}
        self._pending: dict[tuple[str, ...], dict[str, Any]] = {}

    # -- the per-batch memory ------------------------------------------------------------------

    def commit(self) -> None:
        self._known.update(self._pending)
        self._pending.clear()

    def rollback(self) -> None:
        self._pending.clear()

    def _recall(self, key: tuple[str, ...]) -> dict[str, Any] | None:
        return self._pending.get(key) or self._known.get(key)

    def remember(self, key: tuple[str, ...], document: dict[str, Any]) -> dict[str, Any]:
        self._pending[key] = document
        return document

    # -- assets ------------------------------------------------------------------------------

    def asset(self, type_names: str | tuple[str, ...], qualified_name: str) -> dict[str, Any] | None:
        """The stored asset (of the first of ``type_names`` that has one), matched as configured."""
        return self.catalog.find(type_names, qualified_name, case_sensitive=self.case_sensitive)

    def reference(self, type_name: str, qualified_name: str) -> dict[str, Any]:
        """A related object for ``Type@qualifiedName`` (a deferred connection resolved): it must exist."""
        qualified_name = self.qualified_name(qualified_name)
        key = ("asset", type_name, qualified_name if self.case_sensitive else qualified_name.casefold())
        found = self._recall(key)
        if found is None:
            document = self.asset(type_name, qualified_name)
            if document is None:
                raise CellError(f"no {type_name} with qualifiedName {qualified_name!r} exists")
            found = self.remember(key, related(document))
        return found

    # -- connections ----------------------------------------------------------------------------

    def connection(self, connector: str, name: str) -> dict[str, Any] | None:
        """The connection called ``name`` of connector type ``connector`` (type compared lower-case)."""
        key = ("connection", connector.lower(), name)
        found = self._recall(key)
        if found is not None:
            return found
        for document in self.catalog.named(CONNECTION, name):
            if str(document["attributes"].get("connectorName", "")).lower() == connector.lower():
                return self.remember(key, document)
        return None

    def qualified_name(self, value: str) -> str:
        """``value`` with a leading ``{{connectorType/connectionName}}`` replaced by that
        connection's qualifiedName; CellError if there is no such connection."""
        if not value.startswith("{{"):
            return value
        match = DEFERRED.fullmatch(value)
        if match is None:
            return value
        connection = self.connection(match.group(1), match.group(2))
        if connection is None:
            raise CellError(
                f"no {match.group(1)} connection named {match.group(2)!r} for {value!r}"
                " (Unable to find connection for the provided details)"
            )
        return str(connection["attributes"]["qualifiedName"]) + (match.group(3) or "")

    # -- glossaries, categories, terms ------------------------------------------------------

    def glossary(self, name: str) -> dict[str, Any] | None:
        found = self.catalog.named(GLOSSARY, name)
        return found[0] if found else None

    def _walk(
        self, type_name: str, path: list[str], parent_attribute: str, glossary: str | None = None
    ) -> dict[str, Any] | None:
        """The entity at ``path`` (names from the top), each the child of the one before."""
        parent: str | None = None
        found: dict[str, Any] | None = None
        for name in path:
            found = next(
                (
                    document
                    for document in self.catalog.named(type_name, name, glossary=glossary)
                    if guid_of(document["attributes"].get(parent_attribute)) == parent
                ),
                None,
            )
            if found is None:
                return None
            parent = found["guid"]
        return found

    def category(self, path: list[str], glossary: Mapping[str, Any]) -> dict[str, Any] | None:
        """The category at ``path`` (names from the top) in ``glossary``."""
        return self._walk(CATEGORY, path, "parentCategory", str(glossary["attributes"]["qualifiedName"]))

    def category_path(self, value: str) -> dict[str, Any]:
        """``Parent@Child@@@Glossary``: the category, which must exist."""
        path, glossary_name = split_category_path(value)
        glossary = self.glossary(glossary_name)
        if glossary is None:
            raise CellError(f"no glossary named {glossary_name!r} (in {value!r})")
        found = self.category(path, glossary)
        if found is None:
            raise CellError(f"no category {value!r} exists")
        return found

    def term(self, value: str) -> dict[str, Any]:
        """``Term@@@Glossary``: the term, which must exist."""
        name, glossary_name = split_term(value)
        found = self.term_named(name, glossary_name)
        if found is None:
            raise CellError(f"no term {value!r} exists")
        return found

    def term_named(self, name: str, glossary_name: str) -> dict[str, Any] | None:
        glossary = self.glossary(glossary_name)
        if glossary is None:
            return None
        terms = self.catalog.named(TERM, name, glossary=str(glossary["attributes"]["qualifiedName"]))
        return terms[0] if terms else None

    # -- domains and products ---------------------------------------------------------------

    def domain(self, path: list[str]) -> dict[str, Any] | None:
        """The domain at ``path`` (``Root@Sub@SubSub`` split), or None."""
        return self._walk(DOMAIN, path, "parentDomain")

    def product(self, name: str, domain: Mapping[str, Any]) -> dict[str, Any] | None:
        for document in self.catalog.named(PRODUCT, name):
            if guid_of(document["attributes"].get("dataDomain")) == domain["guid"]:
                return document
        return None


def split_term(value: str) -> tuple[str, str]:
    name, found, glossary = value.partition("@@@")
    if not found or not name.strip() or not glossary.strip():
        raise CellError(f"expected Term@@@Glossary, got {value!r}")
    return name.strip(), glossary.strip()


def split_category_path(value: str) -> tuple[list[str], str]:
    path, found, glossary = value.partition("@@@")
    names = [name.strip() for name in path.split("@")]
    if not found or not glossary.strip() or not all(names):
        raise CellError(f"expected Parent@Category@@@Glossary, got {value!r}")
    return names, glossary.strip()


def split_domain_path(value: str) -> list[str]:
    names = [name.strip() for name in value.split("@")]
    if not all(names):
        raise CellError(f"expected a domain path Root@Sub@SubSub, got {value!r}")
    return names

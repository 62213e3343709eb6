"""Warnings: what a valid manifest says that is allowed but probably not meant.

A warning never stops a load. The loader pins each one to its ``file:line:column`` like a problem
and logs it on the ``reconciler.manifest`` logger once the load succeeded; the CLI prints that
logger's warnings on stderr (reconciler/cli.py ``_configure_logging``), so ``validate``,
``plan``, ``apply``, ``drift`` and ``render`` all show them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from reconciler.errors import Problem
from reconciler.manifest.models import (
    ASSET_ATTRIBUTES,
    GLOSSARY_ATTRIBUTES,
    AssetImportManifest,
    LineageBuilderManifest,
)
from reconciler.manifest.positions import FieldPath

logger = logging.getLogger("reconciler.manifest")


def manifest_warnings(manifest: AssetImportManifest | LineageBuilderManifest) -> list[tuple[FieldPath, str]]:
    """Each warning about ``manifest`` as (field path, sentence); [] for most manifests, cheaply."""
    if not isinstance(manifest, AssetImportManifest):
        return []
    found: list[tuple[FieldPath, str]] = []
    spec = manifest.spec
    sections = (
        ("assets", spec.assets),
        ("glossaries", spec.glossaries),
        ("data_products", spec.data_products),
    )
    for name, section in sections:
        removed = section.advanced.remove_attributes if section is not None and section.advanced else None
        offered = GLOSSARY_ATTRIBUTES if name == "glossaries" else ASSET_ATTRIBUTES
        for index, attribute in enumerate(removed or ()):
            if attribute not in offered:
                found.append(
                    (
                        ("spec", name, "advanced", "remove_attributes", index),
                        f"{attribute!r} is not one of the attributes Atlan's UI offers for {name}; the "
                        "package clears it on the asset types that have it and skips it, with a "
                        "warning, on the others",
                    )
                )
    return found


def log_warnings(warnings: Iterable[Problem]) -> None:
    for warning in warnings:
        logger.warning("%s", warning)

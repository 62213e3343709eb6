"""The packages' parameters that the manifest models, and the manifest field each one comes from.

One table for the models (``spec.parameters`` may not name a modelled parameter), the compiler
(which parameters an option becomes, in what order) and export (which live parameters become
fields). Names and values are the packages' own: ../shared/atlan-csv-formats.md §6.1-§6.2
(asset import, ``package.pkl``) and §9.2 (lineage builder, ``package.pkl`` / ``LineageBuilderCfg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Final

# The asset-import package's files, in the order the compiler writes them.
FILE_SECTIONS: Final = ("assets", "glossaries", "data_products", "tags")
# The sections the SDK's builder knows: `to_workflow()` always ends with their three `*_config`.
SDK_SECTIONS: Final = ("assets", "glossaries", "data_products")
_WITH_HANDLING: Final = SDK_SECTIONS  # the tags file has no upsert, attribute, CM, tag or link option


@dataclass(frozen=True, slots=True)
class Option:
    """One field of a section's ``advanced:`` block: the parameter ``<section>_<suffix>``, read by
    the package only with ``<section>_config: advanced`` (``CustomConfig.getEffectiveValue``)."""

    field: str
    suffix: str
    sections: tuple[str, ...]

    def parameter(self, section: str) -> str:
        return f"{section}_{self.suffix}"


# In the order the compiler writes them: the SDK's `*_advanced()` order first (so a manifest the
# SDK can express compiles to its request), then the options only the package knows.
ADVANCED_OPTIONS: Final = (
    Option("remove_attributes", "attr_to_overwrite", _WITH_HANDLING),
    Option("fail_on_errors", "fail_on_errors", FILE_SECTIONS),
    Option("case_sensitive_match", "case_sensitive", ("assets",)),
    Option("is_table_view_agnostic", "table_view_agnostic", ("assets",)),
    Option("field_separator", "field_separator", FILE_SECTIONS),
    Option("batch_size", "batch_size", FILE_SECTIONS),
    Option("cm_handling", "cm_handling", _WITH_HANDLING),
    Option("tag_handling", "tag_handling", _WITH_HANDLING),
    Option("link_idempotency", "link_idempotency", _WITH_HANDLING),
)
# `assets.delta`: field -> parameter; removal and reload are read only with semantic full.
DELTA_OPTIONS: Final = MappingProxyType(
    {
        "semantic": "assets_delta_semantic",
        "removal": "assets_delta_removal_type",
        "reload": "assets_delta_reload_calculation",
    }
)
# The lineage builder's `options:`: field -> parameter (no `_config` gating in that package).
LINEAGE_OPTIONS: Final = MappingProxyType(
    {
        "input_handling": "lineage_upsert_semantic",
        "fail_on_errors": "lineage_fail_on_errors",
        "case_sensitive_match": "lineage_case_sensitive",
        "field_separator": "field_separator",
        "batch_size": "batch_size",
        "cm_handling": "cm_handling",
        "tag_handling": "tag_handling",
    }
)


@cache  # asked for each section of each manifest compiled
def options_of(section: str) -> tuple[tuple[str, str], ...]:
    """``(field, parameter)`` of each ``advanced:`` option ``section`` has, in compile order."""
    return tuple(
        (option.field, option.parameter(section)) for option in ADVANCED_OPTIONS if section in option.sections
    )


def _asset_import() -> dict[str, str]:
    fields = {
        "import_type": "spec.object_store (always CLOUD)",
        "cloud_source": "spec.object_store",
        "input_encoding": "spec.input_encoding",
    }
    for section in FILE_SECTIONS:
        at = f"spec.{section}"
        fields[f"{section}_prefix"] = f"{at}.prefix"
        fields[f"{section}_key"] = f"{at}.object_key"
        if section in _WITH_HANDLING:
            fields[f"{section}_upsert_semantic"] = f"{at}.input_handling"
        fields[f"{section}_config"] = f"{at}.advanced (present: advanced)"
        fields.update({parameter: f"{at}.advanced.{field}" for field, parameter in options_of(section)})
    fields.update({parameter: f"spec.assets.delta.{field}" for field, parameter in DELTA_OPTIONS.items()})
    return fields


def _lineage_builder() -> dict[str, str]:
    return {
        "lineage_prefix": "spec.lineage.prefix",
        "lineage_key": "spec.lineage.object_key",
        "lineage_import_type": "spec.lineage (always CLOUD)",
        "cloud_source": "spec.object_store",
        **{parameter: f"spec.options.{field}" for field, parameter in LINEAGE_OPTIONS.items()},
    }


# Kind -> every parameter name the compiler can write for it -> the manifest field that sets it.
MODELLED: Final = MappingProxyType(
    {
        "AssetImport": MappingProxyType(_asset_import()),
        "LineageBuilder": MappingProxyType(_lineage_builder()),
    }
)

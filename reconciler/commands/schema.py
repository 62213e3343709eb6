"""``reconciler schema``: the JSON Schema of the manifest format, or its markdown field reference."""

from __future__ import annotations

from reconciler import console
from reconciler.manifest.schema import field_reference, manifest_json_schema_text
from reconciler.render.formats import SchemaFormat


def schema(*, output: SchemaFormat) -> int:
    console.out(manifest_json_schema_text() if output is SchemaFormat.json else field_reference())
    return 0

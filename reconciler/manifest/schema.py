"""The manifest format, described for machines (JSON Schema) and for people (a markdown reference).

Both are generated from the models, so neither can drift from what the loader accepts.
"""

from __future__ import annotations

import json
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter
from pydantic_core import PydanticUndefined

from reconciler.manifest.models import (
    API_VERSION,
    ASSET_ATTRIBUTES,
    GLOSSARY_ATTRIBUTES,
    AssetImportManifest,
    LineageBuilderManifest,
    Manifest,
)

SCHEMA_ID = "https://reconciler.dev/schema/reconciler-v1.json"


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one manifest document, for yaml-language-server and others."""
    schema = TypeAdapter(Manifest).json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"reconciler manifest ({API_VERSION})",
        "description": "An Atlan asset-import or lineage-builder workflow, declared.",
        **schema,
    }


def manifest_json_schema_text() -> str:
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=False) + "\n"


def field_reference() -> str:
    """A markdown table of every field of both kinds: path, type, default, meaning."""
    lines = []
    for model in (AssetImportManifest, LineageBuilderManifest):
        kind = model.model_fields["kind"].annotation
        lines += [
            f"#### `kind: {get_args(kind)[0]}`",
            "",
            "| field | type | default | description |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{path}` | {kind_text} | {default} | {description} |"
            for path, kind_text, default, description in _rows(model, "")
        ]
        lines.append("")
    lines += [
        "`remove_attributes` takes any attribute name. Atlan's UI offers these, and a name outside them is a",
        "warning:",
        f"for assets and data products {', '.join(f'`{a}`' for a in ASSET_ATTRIBUTES)};",
        f"for glossaries also {', '.join(f'`{a}`' for a in GLOSSARY_ATTRIBUTES[len(ASSET_ATTRIBUTES) :])}.",
        "",
    ]
    return "\n".join(lines)


def _rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = f"{prefix}{key}"
        inner = _inner_model(info.annotation)
        required = info.is_required()
        if info.default is not PydanticUndefined and info.default is not None:
            default = f"`{json.dumps(info.default)}`"
        elif info.default_factory is not None:
            default = "`[]`" if get_origin(_strip(info.annotation)) is list else "`{}`"
        else:
            default = "**required**" if required else "—"
        description = (info.description or (inner.__doc__ if inner else "") or "").strip()
        description = description.split("\n")[0].replace("|", "\\|")
        rows.append((path, _type_text(info.annotation), default, description))
        if inner is not None:
            list_suffix = "[]" if get_origin(_strip(info.annotation)) is list else ""
            rows += _rows(inner, f"{path}{list_suffix}.")
    return rows


def _strip(annotation: Any) -> Any:
    """Drop Optional and Annotated wrappers."""
    while True:
        origin = get_origin(annotation)
        if origin is not None and hasattr(annotation, "__metadata__"):
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if get_origin(annotation) is list:
        annotation = _strip(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _as_written(annotation: Any) -> Any:
    """The type a field's validator takes as written, where it says (``json_schema_input_type``:
    ``source`` is a path or a mapping), else ``annotation``."""
    inner = annotation
    while True:
        origin = get_origin(inner)
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(inner) if a is not type(None)]
            if len(args) != 1:
                return annotation
            inner = args[0]
        elif origin is Annotated:
            for meta in inner.__metadata__:
                written = getattr(meta, "json_schema_input_type", Any)
                if written is not Any and written is not PydanticUndefined:
                    return written
            inner = get_args(inner)[0]
        else:
            return annotation


def _type_text(annotation: Any) -> str:
    annotation = _strip(_as_written(annotation))
    origin = get_origin(annotation)
    if origin is Literal:
        values = get_args(annotation)
        return "one of " + ", ".join(f"`{v}`" for v in values) if len(values) < 6 else "attribute name"
    if origin is list:
        item = _strip(get_args(annotation)[0])
        if item is Any or get_origin(item) in (Union, types.UnionType):
            return "list"  # of items of several shapes (an inline template): the JSON Schema says which
        return f"list of {_type_text(item)}"
    if origin is dict:
        return f"map of string to {_type_text(get_args(annotation)[1])}"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_text(a) for a in get_args(annotation) if a is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return {str: "string", int: "integer", bool: "boolean", float: "number"}.get(annotation, str(annotation))


REFERENCE_START = "<!-- field-reference:start -->\n"
REFERENCE_END = "<!-- field-reference:end -->"


def splice_reference(readme: str) -> str:
    """``readme`` with the text between the field-reference markers replaced by the current one."""
    head, rest = readme.split(REFERENCE_START, 1)
    _, tail = rest.split(REFERENCE_END, 1)
    return f"{head}{REFERENCE_START}{field_reference()}{REFERENCE_END}{tail}"


if __name__ == "__main__":  # `make docs`
    import sys
    from pathlib import Path

    target = Path(sys.argv[1])
    target.write_text(splice_reference(target.read_text()))

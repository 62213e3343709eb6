"""One document's data validated into a manifest model, or every failure as one positioned sentence.

Pydantic's validation errors are translated into a ``Problem`` each, pinned to ``file:line:column``
and a field path through the document's ``SourceMap``, with the nearest valid key or value
suggested for a typo. A secret field's value is never echoed. The sentences are pinned by
tests/manifest/test_loader_errors.py.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.errors import Problem
from reconciler.manifest.models import (
    API_VERSION,
    KINDS,
    MANIFEST_MODELS,
    SECRET_FIELDS,
    AssetImportManifest,
    LineageBuilderManifest,
)
from reconciler.manifest.positions import FieldPath, SourceMap


def validate(
    data: Any, source: SourceMap
) -> tuple[AssetImportManifest | LineageBuilderManifest | None, list[Problem]]:
    """The manifest ``data`` describes, or (None and) the problems that stop it being one."""
    if not isinstance(data, dict):
        return None, [
            source.problem((), "a manifest must be a mapping with apiVersion, kind, metadata, spec")
        ]
    header = _header_problems(data, source)
    if header:
        return None, header
    model = MANIFEST_MODELS[data["kind"]]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_translate(error, model, source) for error in exc.errors()]


def did_you_mean(value: object, options: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to ``value``, or nothing if none is close."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _header_problems(data: dict[str, Any], source: SourceMap) -> list[Problem]:
    problems = []
    api_version = data.get("apiVersion")
    if api_version != API_VERSION:
        if api_version is None:
            message = f"missing required field 'apiVersion' (supported: {API_VERSION})"
        else:
            message = f"unsupported apiVersion {api_version!r}; supported: {API_VERSION}"
        problems.append(source.problem(("apiVersion",), message))
    kind = data.get("kind")
    if kind not in KINDS:
        supported = ", ".join(KINDS)
        if kind is None:
            message = f"missing required field 'kind' (supported: {supported})"
        else:
            message = f"unknown kind {kind!r}{did_you_mean(kind, KINDS)}; supported: {supported}"
        problems.append(source.problem(("kind",), message))
    return problems


_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _translate(error: ErrorDetails, model: type[BaseModel], source: SourceMap) -> Problem:
    loc: FieldPath = tuple(error["loc"])
    kind = error["type"]
    if loc and loc[-1] == "[key]":  # a mapping key is wrong (a label key): point at the key
        return source.problem(loc[:-1], str(error["msg"]).removeprefix("Value error, "), key=True)
    secret = any(part in SECRET_FIELDS for part in loc if isinstance(part, str))
    given = "" if secret else _describe(error.get("input"))
    if kind == "missing":
        return source.problem(loc, f"missing required field {loc[-1]!r}")
    if kind == "extra_forbidden":
        valid = _fields_at(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), valid)
        listing = f" (valid: {', '.join(valid)})" if valid else ""
        return source.problem(loc, f"unknown field {loc[-1]!r}{hint}{listing}", key=True)
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        value = error.get("input")
        hint = did_you_mean(value, options) if isinstance(value, str) else ""
        got = repr(value) if isinstance(value, str) else given
        return source.problem(loc, f"expected one of {', '.join(options)}; got {got}{hint}")
    if kind in _TYPE_NAMES:
        got = f", got {given}" if given else ""
        return source.problem(loc, f"expected {_TYPE_NAMES[kind]}{got}")
    if kind == "greater_than_equal":
        return source.problem(loc, f"must be at least {error['ctx']['ge']}, got {given}")
    if kind == "value_error":
        return source.problem(loc, str(error["msg"]).removeprefix("Value error, "))
    return source.problem(loc, str(error["msg"]))


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {str: "a string", int: "an integer", float: "a number"}.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


def _fields_at(model: type[BaseModel], loc: FieldPath) -> list[str]:
    """The keys a mapping at ``loc`` accepts, for suggestions."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        if part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    """Unwrap Optional/Annotated/list to the model class inside, if any."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _model_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list):
        for arg in get_args(annotation):
            inner = _model_in(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
        return None
    if origin is Literal:
        return None
    return annotation

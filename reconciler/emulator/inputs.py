"""Which objects a run reads: noted in the run document when the run is created.

An asset-import or lineage-builder workflow names a file per section with the parameters
``<section>_prefix`` and ``<section>_key`` (sections ``assets``, ``glossaries``,
``data_products``, ``tags``, ``lineage``; reconciler/packages/compiler.py), read at
``prefix/key`` from the store its ``cloud_source`` parameter points at: a credential (kind
``s3``, ``gcs`` or ``adls``, the bucket or container in its ``extra``), or, left an unresolved
``{{placeholder}}``, the tenant's own store. Each new run gets ``status.inputs``, one item per section::

    {"section": "assets", "store": "s3/my-bucket", "key": "prefix/assets.csv",
     "state": "found", "etag": "\\"<md5>\\"", "size": 812, "metadata": {"reconciler-sha256": "..."}}

``state`` is ``found`` (with ``etag``, ``size`` and ``metadata`` as they were when the run was
created), ``missing``, or ``unknown`` (a credential the emulator does not know, or a key no file
can hold). The runs search shows the field like any other (``status.inputs.key``...). The run
reads exactly these objects when it executes (imports/run.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.emulator.objects import ObjectProblem, ObjectStore, normalise_key, store_name

SECTIONS = ("assets", "glossaries", "data_products", "tags", "lineage")
_BUCKET_FIELDS = {"s3": "s3_bucket", "gcs": "gcs_bucket", "adls": "adls_container"}
_PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")
UNKNOWN = "unknown"

CredentialLookup = Callable[[str], Mapping[str, Any] | None]


def parameters(spec: Any) -> dict[str, Any]:
    """The workflow's parameters by name: ``spec.arguments`` and every DAG task's arguments."""
    found: dict[str, Any] = {}
    if not isinstance(spec, Mapping):
        return found
    lists = [_get(spec, "arguments", "parameters")]
    for template in _list(spec.get("templates")):
        lists += [_get(task, "arguments", "parameters") for task in _list(_get(template, "dag", "tasks"))]
    for items in lists:
        for item in _list(items):
            if isinstance(item, Mapping) and isinstance(item.get("name"), str):
                found.setdefault(item["name"], item.get("value"))
    return found


def payload_credentials(payload: Any) -> dict[str, Mapping[str, Any]]:
    """The credential bodies of a request's ``payload`` by parameter (malformed items skipped:
    the store refuses those requests)."""
    found: dict[str, Mapping[str, Any]] = {}
    for item in _list(payload):
        if not isinstance(item, Mapping) or item.get("type") != "credential":
            continue
        body = item.get("body")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                continue
        if isinstance(item.get("parameter"), str) and isinstance(body, Mapping):
            found[item["parameter"]] = body
    return found


def store_of(
    cloud_source: Any, payload: Mapping[str, Mapping[str, Any]], credential: CredentialLookup
) -> str:
    """``tenant``, ``<kind>/<bucket>``, or ``unknown``, for a workflow's ``cloud_source`` value."""
    if not isinstance(cloud_source, str) or not cloud_source.strip():
        return store_name("tenant")
    placeholder = _PLACEHOLDER.fullmatch(cloud_source.strip())
    if placeholder is not None:
        body = payload.get(placeholder.group(1))
        if body is None:
            return store_name("tenant")  # no credential: the package reads Atlan's own store
    else:
        body = credential(cloud_source)
    kind = body.get("authType") if body is not None else None
    extra = body.get("extra") if body is not None else None
    if kind not in _BUCKET_FIELDS or not isinstance(extra, Mapping):
        return UNKNOWN
    try:
        return store_name(str(kind), str(extra.get(_BUCKET_FIELDS[str(kind)]) or ""))
    except ObjectProblem:
        return UNKNOWN


def run_inputs(
    spec: Any, *, payload: Any = None, credential: CredentialLookup, objects: ObjectStore
) -> list[dict[str, Any]]:
    """The objects a run of a workflow with ``spec`` (and the request's ``payload``) reads, as now."""
    params = parameters(spec)
    sections = [s for s in SECTIONS if isinstance(params.get(f"{s}_key"), str) and params[f"{s}_key"].strip()]
    if not sections:
        return []
    store = store_of(params.get("cloud_source"), payload_credentials(payload), credential)
    inputs: list[dict[str, Any]] = []
    for section in sections:
        prefix = params.get(f"{section}_prefix")
        path = f"{prefix if isinstance(prefix, str) else ''}/{params[f'{section}_key']}"
        try:
            key = normalise_key(path)
        except ObjectProblem:
            inputs.append({"section": section, "store": store, "key": path, "state": UNKNOWN})
            continue
        item: dict[str, Any] = {"section": section, "store": store, "key": key, "state": UNKNOWN}
        if store != UNKNOWN:
            stored = objects.head(store, key)
            item["state"] = "missing" if stored is None else "found"
            if stored is not None:
                item.update(etag=stored.etag, size=stored.size, metadata=dict(stored.metadata))
        inputs.append(item)
    return inputs


def _get(node: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
    return node


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []

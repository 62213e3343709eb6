"""Normalisation: the view of a workflow that desired and live are compared on.

Only what a manifest controls is compared: labels and annotations minus the ones the server and
Argo write, the task parameters as a name -> value map (order is irrelevant), and the rest of the
spec without empty values (Argo writes unset structs as ``{}``). Server-set fields (uid,
resourceVersion, creationTimestamp, managedFields, status) never enter the view. The credential
placeholder ``{{credentialGuid}}`` and the credential id the server puts in its place compare
equal. A credential is compared by its non-secret parts (``credential``: authType, username,
extra; recorded in an annotation) and by a salted digest of the whole (digests.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER
from reconciler.packages.identity import CREDENTIAL_ANNOTATION
from reconciler.packages.spec import parameter_values, parameters, tasks
from reconciler.plan.model import ABSENT

# Annotations the reconciler keeps for itself; compared by their own rules, not shown as diffs.
CREDENTIAL_DIGEST_ANNOTATION = "reconciler.dev/credential-digest"
ENV_DIGEST_ANNOTATION = "reconciler.dev/env-digest"  # salted digests of the values from ${env:...}
LAST_RUN_ANNOTATION = "reconciler.dev/last-run"
APPLIED_ANNOTATION = "reconciler.dev/applied"  # short digests of each field apply wrote (digests.py)
# The files the sources generate (reconciler/plan/content.py): section -> sha256 of the content
# last put in place with its run, and section -> the version token (ETag, generation) uploaded.
CONTENT_ANNOTATION = "reconciler.dev/content"
CONTENT_VERSION_ANNOTATION = "reconciler.dev/content-version"
BOOKKEEPING_ANNOTATIONS = frozenset(
    {
        CREDENTIAL_DIGEST_ANNOTATION,
        ENV_DIGEST_ANNOTATION,
        LAST_RUN_ANNOTATION,
        APPLIED_ANNOTATION,
        CONTENT_ANNOTATION,
        CONTENT_VERSION_ANNOTATION,
    }
)
# Prefixes that Argo and Kubernetes write on their own.
SERVER_OWNED_PREFIXES = ("workflows.argoproj.io/", "kubectl.kubernetes.io/")


def workflow_view(metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The comparable view of a workflow given its metadata and spec (desired or live)."""
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    parameters = parameter_values(spec)
    if parameters.get("cloud_source"):
        parameters["cloud_source"] = CREDENTIAL_PLACEHOLDER
    # The rest of the spec is compared without the parameters. The shape shares every part it
    # does not change with ``spec``: a plan of 10,000 workflows holds 10,000 views.
    shape = _without_empty(_without_parameters(spec))
    view: dict[str, Any] = {
        "labels": {k: labels[k] for k in _compared_labels(tuple(labels))},
        "annotations": {k: annotations[k] for k in _compared_annotations(tuple(annotations))},
        "parameters": parameters,
        "spec": shape,
    }
    if CREDENTIAL_ANNOTATION in annotations:
        view["credential"] = _credential_view(annotations[CREDENTIAL_ANNOTATION])
    return view


@lru_cache(maxsize=1024)  # workflows that share a credential share its parsed view (read-only)
def _credential_view(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# The workflows of a package carry the same keys: which of them are compared, and in what order,
# is worked out once per set of keys, not per workflow.
@lru_cache(maxsize=256)
def _compared_labels(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(key for key in keys if not key.startswith(SERVER_OWNED_PREFIXES)))


@lru_cache(maxsize=256)
def _compared_annotations(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        key
        for key in _compared_labels(keys)
        if key not in BOOKKEEPING_ANNOTATIONS and key != CREDENTIAL_ANNOTATION
    )


def _without_parameters(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """``spec`` without the tasks' ``arguments.parameters``; new containers only on the way to them."""
    templates = spec.get("templates")
    if not isinstance(templates, list):
        return spec
    changed = []
    for template in templates:
        dag = template.get("dag") if isinstance(template, dict) else None
        steps = dag.get("tasks") if isinstance(dag, dict) else None
        if isinstance(dag, dict) and isinstance(steps, list):
            template = {**template, "dag": {**dag, "tasks": [_task_without_parameters(t) for t in steps]}}
        changed.append(template)
    return {**spec, "templates": changed}


def _task_without_parameters(task: Any) -> Any:
    arguments = task.get("arguments") if isinstance(task, dict) else None
    if not isinstance(arguments, dict) or "parameters" not in arguments:
        return task
    rest = {k: v for k, v in arguments.items() if k != "parameters"}
    return {**task, "arguments": rest} if rest else {k: v for k, v in task.items() if k != "arguments"}


_CONTAINERS = (dict, list)  # a tuple, not ``dict | list``: that builds a new union at every call


def _without_empty(value: Any) -> Any:
    """``value`` without empty maps, lists and nulls (Argo serialises unset structs as ``{}``).

    Copy on write: a container that loses nothing is returned itself, not copied. It runs on
    every node of 20,000 views in a plan of 10,000 workflows, so scalars are kept without a call.
    """
    if type(value) is dict:
        kept: dict[str, Any] | None = None
        for key, inner in value.items():
            new = _without_empty(inner) if isinstance(inner, _CONTAINERS) else inner
            drop = new is None or (not new and isinstance(new, _CONTAINERS))
            if kept is None and (drop or new is not inner):
                kept = {}
                for before, same in value.items():  # the part before the first change
                    if before == key:
                        break
                    kept[before] = same
            if kept is not None and not drop:
                kept[key] = new
        return value if kept is None else kept
    if type(value) is list:
        items = [_without_empty(inner) if isinstance(inner, _CONTAINERS) else inner for inner in value]
        for new, old in zip(items, value, strict=True):
            if new is not old:
                return items
        return value
    return value


def view_fields(view: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Each field of a view with its value: a part and one key (``("parameters", "x")``), or a
    part that is not a map. The unit apply records (APPLIED_ANNOTATION) and drift reports on."""
    for part, content in view.items():
        if isinstance(content, Mapping):
            for key, value in content.items():
                yield (part, key), value
        else:
            yield (part,), content


# -- `ignore`: fields left to the tenant ------------------------------------------------------


def under(path: Sequence[str], prefixes: Sequence[Sequence[str]]) -> bool:
    """True when ``path`` is one of ``prefixes`` or below one (JSON-pointer prefix match)."""
    return any(tuple(path[: len(prefix)]) == tuple(prefix) for prefix in prefixes)


def lookup(view: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The value at ``path`` in a view (a copy), or ABSENT."""
    node: Any = view
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return ABSENT
        node = node[part]
    return copy.deepcopy(node)


@dataclass(frozen=True, slots=True)
class KeptLive:
    """The manifest's ``ignore``, resolved against the live workflow: each ignored path with its
    live value (or ABSENT). The one place that says what ignoring means, for both the view the
    planner compares and the request the applier sends."""

    fields: tuple[tuple[tuple[str, ...], Any], ...] = ()

    @classmethod
    def of(cls, live_view: Mapping[str, Any], paths: Iterable[tuple[str, ...]]) -> KeptLive:
        return cls(tuple((path, lookup(live_view, path)) for path in paths))

    def covers(self, path: Sequence[str]) -> bool:
        """True when ``path`` is an ignored path or below one."""
        return under(path, [kept for kept, _ in self.fields])

    def view(self, view: dict[str, Any]) -> dict[str, Any]:
        """``view`` (desired) with each ignored path at its live value, or removed."""
        if not self.fields:
            return view
        result = copy.deepcopy(view)
        for path, value in self.fields:
            parent: Any = result
            for part in path[:-1]:
                parent = parent.setdefault(part, {}) if isinstance(parent, dict) else {}
            if not isinstance(parent, dict):
                continue
            if value == ABSENT:
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        return result

    def patch(self, body: dict[str, Any]) -> None:
        """Put the live values into a request ``body`` (labels, annotations, parameters), in place."""
        metadata = body["metadata"]
        for path, value in self.fields:
            root, key = path[0], (path[1] if len(path) > 1 else None)
            if root in ("labels", "annotations"):
                target: dict[str, Any] = metadata[root]
                if key is None:
                    target.clear()
                    target.update(value if isinstance(value, dict) else {})
                elif value == ABSENT:
                    target.pop(key, None)
                else:
                    target[key] = value
            elif root == "parameters":
                for task in tasks(body["spec"]):
                    listed = parameters(task)
                    if key is None:
                        live = value if isinstance(value, dict) else {}
                        listed[:] = [{"name": k, "value": v} for k, v in live.items()]
                        continue
                    listed[:] = [p for p in listed if p["name"] != key]
                    if value != ABSENT:
                        listed.append({"name": key, "value": value})

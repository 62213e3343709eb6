"""Reading a workflow spec: its DAG tasks and their parameters, tolerant of missing parts.

Package workflows have one template with one task (``main`` -> ``run``), but a live workflow may
have been edited by hand, so every reader walks all of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def tasks(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every DAG task of ``spec``, as the same (mutable) objects."""
    for template in spec.get("templates") or []:
        yield from (template.get("dag") or {}).get("tasks") or []


def parameters(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The task's parameter list itself (mutating it changes the task), or a new empty list."""
    found: list[dict[str, Any]] = (task.get("arguments") or {}).get("parameters") or []
    return found


def parameter_values(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter name -> value over all tasks; the first one wins."""
    values: dict[str, Any] = {}
    for task in tasks(spec):
        for parameter in parameters(task):
            name = parameter.get("name")
            if type(name) is not str:
                name = str(name)
            if name not in values:
                values[name] = parameter.get("value")
    return values


def cloud_source(spec: Mapping[str, Any]) -> str | None:
    """The ``cloud_source`` parameter: a credential id once the server has stored the credential."""
    for task in tasks(spec):
        for parameter in parameters(task):
            if parameter.get("name") == "cloud_source":  # the first one, as in parameter_values
                value = parameter.get("value")
                return value if isinstance(value, str) else None
    return None


JSON_SCALARS = (str, int, float, bool, type(None))  # a tuple, for isinstance and ``in``

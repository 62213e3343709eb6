"""Reading a workflow spec: its DAG tasks and their parameters, tolerant of missing parts.

Package workflows have one template with one task (``main`` -> ``run``), but a live workflow may
have been edited by hand, so every reader walks all of them.
"""

from __future__ import annotations

import sys
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
ParameterKey = tuple[str, type, Any]
SharedParameters = dict[ParameterKey, dict[str, Any]]


def parameter_key(name: Any, value: Any) -> ParameterKey | None:
    """What makes two ``{name, value}`` parameters the same one, if the value is a scalar. The
    type is part of it: True == 1 == 1.0, but they are different parameters."""
    return (name, type(value), value) if type(name) is str and type(value) in JSON_SCALARS else None


def share_parameters(spec: Mapping[str, Any], shared: SharedParameters) -> None:
    """Make ``spec``'s task parameters share memory with other workflows' in place: the workflows
    of a package repeat most of their parameters. A parameter equal to one in ``shared``
    (``{name, value}`` with a scalar value) becomes that same object, and a new one is added to
    it, its strings interned. Specs treated so are read-only: a change is made on a copy."""
    try:
        for task in tasks(spec):
            found = parameters(task)
            for index, parameter in enumerate(found):
                # parameter_key, inlined: this runs for every parameter of 10,000 listed workflows.
                key = None
                if len(parameter) == 2:
                    name, value = parameter.get("name"), parameter.get("value")
                    if type(name) is str and type(value) in JSON_SCALARS:
                        key = (name, type(value), value)
                        same = shared.get(key)
                        if same is not None:
                            found[index] = same
                            continue
                for name, value in parameter.items():
                    if type(value) is str:
                        parameter[name] = sys.intern(value)
                if key is not None:
                    shared[key] = parameter
    except AttributeError:  # not the shape of a package workflow: nothing to share
        return

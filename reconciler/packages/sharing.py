"""Sharing memory between the requests of one process: the one seam for it.

At 10,000 workflows the compiled requests and the listed workflows repeat the same few hundred
strings and most of their task parameters. Sharing them saved about 1.5 KB a request and tens of
megabytes a listing (the git log of this file's predecessors, compiler.py and spec.py, has the
figures; benchmarks/scale.py measures peak RSS). What is shared is handed out read-only:

- a task parameter ``{name, value}`` with a scalar value is one ``ReadOnlyParameter`` for every
  request and listed workflow that has it; changing one raises, and a copy (``copy.deepcopy``,
  which request bodies are made from) is an ordinary dict;
- label, annotation and parameter strings are interned (``sys.intern``): immutable anyway.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NoReturn

from reconciler.packages.spec import JSON_SCALARS, parameters, tasks

ParameterKey = tuple[str, type, Any]


class ReadOnlyParameter(dict[str, Any]):
    """A ``{name, value}`` task parameter shared between requests: read-only."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a shared task parameter is read-only: change a copy (copy.deepcopy)")

    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return dict(self)  # the values are scalars

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        return dict, (dict(self),)


SharedParameters = dict[ParameterKey, ReadOnlyParameter]


def parameter_key(name: Any, value: Any) -> ParameterKey | None:
    """What makes two ``{name, value}`` parameters the same one, if the value is a scalar. The
    type is part of it: True == 1 == 1.0, but they are different parameters."""
    return (name, type(value), value) if type(name) is str and type(value) in JSON_SCALARS else None


def text(value: str) -> str:
    """``value`` interned: one object for every equal string that goes through here."""
    return sys.intern(value)


def strings(value: Mapping[Any, Any]) -> dict[str, str]:
    """A map of strings (labels, annotations), keys and values interned; None becomes ""."""
    return {
        sys.intern(str(k)): sys.intern(v if type(v) is str else "" if v is None else str(v))
        for k, v in value.items()
    }


# The compiler's parameters made so far; bounded, so a long-lived process keeps the common ones,
# not every prefix.
_COMPILED: SharedParameters = {}
_MAX_COMPILED = 20_000


def _read_only(name: str, value: Any) -> ReadOnlyParameter:
    return ReadOnlyParameter(name=sys.intern(name), value=sys.intern(value) if type(value) is str else value)


def compiled_parameter(name: str, value: Any) -> dict[str, Any]:
    """A ``{name, value}`` parameter for a compiled request: an equal one made before is returned
    itself (read-only); a value that is not a scalar gets a new dict."""
    key = parameter_key(name, value)
    if key is None:
        return {"name": sys.intern(name), "value": value}
    found = _COMPILED.get(key)
    if found is None:
        found = ReadOnlyParameter(
            name=sys.intern(name), value=sys.intern(value) if type(value) is str else value
        )
        if len(_COMPILED) < _MAX_COMPILED:
            _COMPILED[key] = found
    return found


def share_parameters(spec: Mapping[str, Any], shared: SharedParameters) -> None:
    """Make ``spec``'s task parameters (a listed workflow's) share memory with other workflows' in
    place: a parameter equal to one in ``shared`` becomes that same read-only object, and a new
    one is added to it."""
    try:
        for task in tasks(spec):
            found = parameters(task)
            for index, parameter in enumerate(found):
                # parameter_key, inlined: this runs for every parameter of 10,000 listed workflows.
                if len(parameter) == 2:
                    name, value = parameter.get("name"), parameter.get("value")
                    if type(name) is str and type(value) in JSON_SCALARS:
                        key = (name, type(value), value)
                        same = shared.get(key)
                        if same is None:
                            same = shared[key] = ReadOnlyParameter(
                                name=sys.intern(name),
                                value=sys.intern(value) if type(value) is str else value,
                            )
                        found[index] = same
                        continue
                for name, value in parameter.items():
                    if type(value) is str:
                        parameter[name] = sys.intern(value)
    except AttributeError:  # not the shape of a package workflow: nothing to share
        return

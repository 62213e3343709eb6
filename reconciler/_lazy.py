"""Package ``__init__``s that import their members on first use (PEP 562).

``import reconciler.plan.planner`` runs ``reconciler/__init__.py`` first: if that imported the
HTTP client, every pure module would load httpx and anyio (about 0.8 s of the CLI's start).
Each package lists where its public names live; ``attribute_loader`` imports a home module only
when one of its names is first read. ``reconciler/emulator/__init__.py`` does the same by hand,
as the emulator imports nothing else of the package.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Collection, Mapping
from typing import Any


def attribute_loader(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: name -> the module (absolute) that defines it."""

    def load(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return load


def keep_over_subpackages(package: str, names: Collection[str]) -> None:
    """Keep the public ``names`` of ``package`` from being replaced by its subpackages of the same
    name (``reconciler.plan``, the function, and ``reconciler.plan``, the package): importing a
    subpackage binds it on its parent, which an eager ``__init__`` used to undo by importing the
    function after it."""

    class Package(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if name in names and isinstance(value, types.ModuleType):
                return
            super().__setattr__(name, value)

    sys.modules[package].__class__ = Package

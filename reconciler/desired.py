"""The desired state: manifests read from disk and compiled into workflow requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.collector import collector_paused
from reconciler.manifest.cache import ManifestCache
from reconciler.manifest.loader import AnyManifest, FieldPath, LoadedManifest, load_manifests
from reconciler.packages.compiler import CompiledWorkflow, compile_all
from reconciler.redaction import SECRETS


@dataclass(frozen=True, slots=True)
class DesiredWorkflow:
    """One manifest and the workflow request it compiles to."""

    loaded: LoadedManifest
    compiled: CompiledWorkflow

    @property
    def manifest(self) -> AnyManifest:
        return self.loaded.manifest

    @property
    def name(self) -> str:
        return self.loaded.name


def read_desired(
    paths: Sequence[Path],
    *,
    instance: str,
    environ: Mapping[str, str],
    cache: ManifestCache | None = None,
) -> list[DesiredWorkflow]:
    """Load, validate and compile every manifest under ``paths``; raises ManifestError.

    With a ``cache``, unchanged files are read from it instead of parsed. The resolved
    secrets are registered for scrubbing before anything can print them.
    """
    loaded = load_manifests(paths, cache=cache)
    with collector_paused():  # see reconciler.collector: all of this is acyclic data
        compiled = compile_all(loaded, instance=instance, environ=environ)
        for workflow in compiled:
            SECRETS.add(workflow.secrets)
        return [
            DesiredWorkflow(_without_positions(item), workflow)
            for item, workflow in zip(loaded, compiled, strict=True)
        ]


def _without_positions(item: LoadedManifest) -> LoadedManifest:
    """Valid and compiled, a manifest needs its positions no more (they serve error messages),
    except where its name stands; at 10,000 manifests the maps are tens of megabytes."""
    name: FieldPath = ("metadata", "name")
    kept = {name: item.source.position(name)}
    return replace(item, source=replace(item.source, values=kept, keys={}))

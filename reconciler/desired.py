"""The desired state: manifests read from disk and compiled into workflow requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.collector import collector_paused
from reconciler.errors import ManifestError
from reconciler.manifest.cache import ManifestCache
from reconciler.manifest.loader import AnyManifest, LoadedManifest, load_manifests
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
        try:
            compiled = compile_all(loaded, instance=instance, environ=environ)
        except ManifestError:
            # Loaded manifests keep only the position of their name: compile again with every
            # position, so each missing variable is reported at its own line.
            compile_all(load_manifests(paths, exact_positions=True), instance=instance, environ=environ)
            raise
        for workflow in compiled:
            SECRETS.add(workflow.secrets)
        return [DesiredWorkflow(item, workflow) for item, workflow in zip(loaded, compiled, strict=True)]

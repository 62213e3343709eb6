"""The desired state: manifests read from disk and compiled into workflow requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from reconciler.errors import DataError, ManifestError
from reconciler.manifest.cache import ManifestCache
from reconciler.manifest.loader import LoadedManifest, load_manifests, load_manifests_as
from reconciler.packages.compiler import (
    CompiledWorkflow,
    UnresolvedReferenceError,
    compile_all,
    compile_workflow,
)
from reconciler.packages.sources import Findings, PreparedSource, SourcedFile, compile_files, has_source
from reconciler.redaction import SECRETS

_NO_SOURCES: Mapping[str, PreparedSource] = MappingProxyType({})  # one for all manifests without a source
_NO_BYTES: Mapping[str, bytes] = MappingProxyType({})
# How much of the generated files' bytes one load keeps (compile_files): a plan diffs a changed
# file's rows without rendering it again. 10 files of 10,000 rows take about 5.5 MB.
KEPT_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DesiredWorkflow:
    """One wanted workflow: the request its manifest compiles to, and the few manifest fields
    that planning, applying and drift go by.

    The validated manifest itself is let go once compiled: at 10,000 manifests its models take
    about 50 MB, and nothing after compiling reads more of it than this.
    """

    name: str
    kind: str
    file: str  # the manifest file it was read from
    compiled: CompiledWorkflow
    run_policy: str = "on-change"
    run_token: str | None = None
    depends_on: tuple[str, ...] = ()
    adopt: str | None = None  # the unmanaged workflow to take over
    ignore: tuple[str, ...] = ()  # JSON pointers left to the live value
    drift_ignore: tuple[str, ...] = ()  # JSON pointers whose drift is not reported
    # The sources of ``compiled.files``, by section: they render a file again for an upload; and
    # the bytes compiling kept of some (reconciler/packages/sources.py compile_files).
    sources: Mapping[str, PreparedSource] = field(
        default_factory=lambda: _NO_SOURCES, compare=False, repr=False
    )
    rendered: Mapping[str, bytes] = field(default_factory=lambda: _NO_BYTES, compare=False, repr=False)

    @classmethod
    def of(
        cls, loaded: LoadedManifest, compiled: CompiledWorkflow, files: Sequence[SourcedFile] = ()
    ) -> DesiredWorkflow:
        spec = loaded.manifest.spec
        return cls(
            name=loaded.name,
            kind=loaded.kind,
            file=loaded.source.file,
            compiled=compiled,
            run_policy=spec.run.policy,
            run_token=spec.run.token,
            depends_on=tuple(spec.depends_on),
            adopt=spec.adopt,
            ignore=tuple(spec.ignore),
            drift_ignore=tuple(spec.drift_ignore),
            sources={f.source.section: f.source for f in files} if files else _NO_SOURCES,
            rendered={f.source.section: f.data for f in files if f.data is not None} if files else _NO_BYTES,
        )


def read_desired(
    paths: Sequence[Path],
    *,
    instance: str,
    environ: Mapping[str, str],
    cache: ManifestCache | None = None,
) -> list[DesiredWorkflow]:
    """Load, validate and compile every manifest under ``paths``, and the files their sources
    generate; raises ManifestError (a DataError when a source has a problem) with every problem.

    With a ``cache``, unchanged files are read from it instead of parsed. The resolved
    secrets are registered for scrubbing before anything can print them.
    """
    unresolved = False
    sources = _SourceFiles()

    def compiled(item: LoadedManifest) -> DesiredWorkflow | None:
        # Compiled as soon as loaded, so that its models go at once (see load_manifests_as).
        nonlocal unresolved
        files = sources.of(item)
        try:
            workflow = compile_workflow(
                item.manifest, instance=instance, environ=environ, files=[f.compiled for f in files or ()]
            )
        except UnresolvedReferenceError:
            unresolved = True
            return None
        return None if files is None else DesiredWorkflow.of(item, workflow, files)

    with sources.reported():
        desired = load_manifests_as(paths, compiled, cache=cache)
        if unresolved:
            # Loaded manifests keep only the position of their name: compile again with every
            # position, so each missing variable is reported at its own line.
            compile_all(load_manifests(paths, exact_positions=True), instance=instance, environ=environ)
            raise AssertionError("unreachable: compile_all raised")  # pragma: no cover
    kept = [item for item in desired if item is not None]
    for item in kept:
        SECRETS.add(item.compiled.secrets)
    return kept


def check_manifests(paths: Sequence[Path], *, cache: ManifestCache | None = None) -> list[LoadedManifest]:
    """Load and validate every manifest under ``paths`` and the files their sources generate,
    without resolving ``${env:NAME}`` references (``validate --skip-env``); raises as
    ``read_desired`` does."""
    sources = _SourceFiles()

    def checked(item: LoadedManifest) -> LoadedManifest:
        sources.of(item)
        return item

    with sources.reported():
        return load_manifests_as(paths, checked, cache=cache)


class _SourceFiles:
    """The files each manifest's sources generate, rendered once per manifest (a load that
    finds a problem hands valid manifests over twice: see load_manifests_as), and their
    problems, reported together with the manifests' own."""

    def __init__(self) -> None:
        self.findings = Findings()
        self.done: dict[tuple[str, int], tuple[SourcedFile, ...] | None] = {}
        self.room = KEPT_BYTES

    def of(self, item: LoadedManifest) -> tuple[SourcedFile, ...] | None:
        """The files ``item`` generates; None when its sources have a problem (kept for later)."""
        if not has_source(item.manifest):
            return ()
        key = (item.source.file, item.source.document)
        if key not in self.done:
            try:
                files = compile_files(item, keep=self.room)
                self.room -= sum(len(f.data) for f in files if f.data is not None)
                self.done[key] = files
            except DataError as exc:
                self.findings.add(exc)
                self.done[key] = None
        return self.done[key]

    @contextmanager
    def reported(self) -> Iterator[None]:
        """Raise the sources' problems at the end of the block, with the manifests' if it raises
        a ManifestError: one run reports every problem it found."""
        try:
            yield
        except ManifestError as exc:
            error = self.findings.error(exc.problems)
            if error is None:
                raise
            raise error from None
        self.findings.raise_any()


@asynccontextmanager
async def reading_desired(
    paths: Sequence[Path],
    *,
    instance: str,
    environ: Mapping[str, str],
    cache: ManifestCache | None = None,
) -> AsyncIterator[asyncio.Future[list[DesiredWorkflow]]]:
    """``read_desired`` in a worker thread, while the body talks to the tenant.

    Loading waits on nothing and the listing waits on the network, so a plan takes about the
    longer of the two instead of their sum. A problem in the manifests is still what the user
    sees first, whatever the body met meanwhile (an unreachable tenant, a missing key), as when
    manifests were read before anything else.
    """
    loading = asyncio.ensure_future(
        asyncio.to_thread(read_desired, paths, instance=instance, environ=environ, cache=cache)
    )
    try:
        yield loading
    except BaseException:
        await asyncio.wait([loading])  # a thread cannot be stopped: it is finishing anyway
        error = None if loading.cancelled() else loading.exception()
        if isinstance(error, ManifestError):
            raise error from None
        raise
    await asyncio.wait([loading])
    loading.result()  # an error of a load the body did not wait for is not lost

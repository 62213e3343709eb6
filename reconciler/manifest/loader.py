"""Read manifests from files and directories into validated models, or report every problem.

This module runs a load; each of its steps has its own module:

- ``documents``: YAML text to plain data, with the position of every value (and all of the
  loader's ruamel.yaml speed-ups);
- ``messages``: that data validated into a manifest model, pydantic's errors translated into
  ``file:line:column`` sentences with "did you mean" hints;
- ``checks``: the checks across manifests (unique names, ``depends_on`` naming manifests and not
  in a cycle, one adopter per workflow);
- ``positions``: the ``SourceMap`` that pins a problem to its place, shared by all three.

Nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ruamel.yaml import YAML

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.cache import CachedDocument, ManifestCache
from reconciler.manifest.checks import Claim, cross_manifest_problems
from reconciler.manifest.documents import DocumentBuilder, compose, name_position, new_yaml
from reconciler.manifest.messages import validate
from reconciler.manifest.models import AssetImportManifest, LineageBuilderManifest
from reconciler.manifest.positions import NAME, FieldPath, Position, SourceMap, format_path

__all__ = [
    "MANIFEST_SUFFIXES",
    "AnyManifest",
    "FieldPath",
    "LoadedManifest",
    "Position",
    "SourceMap",
    "format_path",
    "load_manifests",
    "load_manifests_as",
    "load_text",
    "manifest_files",
]

AnyManifest = AssetImportManifest | LineageBuilderManifest
MANIFEST_SUFFIXES = (".yaml", ".yml")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LoadedManifest:
    """A valid manifest and where it came from."""

    manifest: AnyManifest
    source: SourceMap

    @property
    def name(self) -> str:
        return self.manifest.metadata.name

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @property
    def location(self) -> str:
        return self.source.name_location


def manifest_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand files and directories (recursively, skipping hidden ones) into manifest files."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in MANIFEST_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                problems.append(Problem(str(path), 0, 0, "", "no manifest files (*.yaml, *.yml)"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, 0, "", "no such file or directory"))
    return files, problems


def load_manifests(
    paths: Iterable[Path], *, cache: ManifestCache | None = None, exact_positions: bool = False
) -> tuple[LoadedManifest, ...]:
    """Load and validate every manifest under ``paths``; raise ManifestError with all problems.

    A valid manifest keeps one position, its name's: the full maps only serve error messages,
    and at 10,000 manifests they are tens of megabytes. ``exact_positions`` keeps them all (to
    pin a later problem, e.g. a missing variable, to its line). With a ``cache``, files whose
    bytes loaded cleanly before are read from it instead of parsed.
    """
    return tuple(load_manifests_as(paths, _itself, cache=cache, exact_positions=exact_positions))


def load_manifests_as(
    paths: Iterable[Path],
    convert: Callable[[LoadedManifest], T],
    *,
    cache: ManifestCache | None = None,
    exact_positions: bool = False,
) -> list[T]:
    """As ``load_manifests``, but each valid manifest is handed to ``convert`` as soon as it is
    read, and only what that returns is kept: a caller that compiles there holds one file's
    models at a time, not all of them (about 50 MB at 10,000 manifests). ``convert`` may run
    for manifests of a load that then fails."""
    paths = list(paths)
    kept, problems = _load_files(paths, None if exact_positions else cache, convert, slim=not exact_positions)
    if problems and not exact_positions:
        # A problem that involves a valid manifest (a duplicate name, an unknown depends_on)
        # is found again with every position.
        kept, problems = _load_files(paths, None, convert, slim=False)
    if cache is not None and cache.misses:
        cache.prune()  # only when entries were added: most loads hit and pay nothing for it
    if problems:
        raise ManifestError(problems)
    return kept


def load_text(
    text: str, file: str, *, yaml: YAML | None = None, exact_positions: bool = True
) -> tuple[list[LoadedManifest], list[Problem]]:
    """Load every document of one YAML text; never raises for bad input.

    Without ``exact_positions``, a valid manifest keeps only the position of its name, and a
    document is first built without noting positions at all: only one with a problem is built
    again, position by position, to say where.
    """
    loaded: list[LoadedManifest] = []
    yaml = yaml or new_yaml()
    documents, problems = compose(text, file, yaml)
    for index, node in enumerate(documents):
        if node is None:
            continue
        if not exact_positions:
            quick = DocumentBuilder(file, index, yaml, track=False)
            manifest, _ = validate(quick.build(node), SourceMap(file, index, {}, {}))
            where = name_position(node) if manifest is not None and not quick.problems else None
            if manifest is not None and where is not None:
                loaded.append(_kept(manifest, file, index, where))
                continue
        builder = DocumentBuilder(file, index, yaml)
        data = builder.build(node)
        source = SourceMap(file, index, builder.values, builder.keys)
        if data is None and builder.problems:
            problems.extend(builder.problems)
            continue
        # Validate even after structural problems, so one run reports everything it can.
        manifest, document_problems = validate(data, source)
        found = sorted([*builder.problems, *document_problems], key=lambda p: (p.line, p.column))
        problems.extend(found)
        if manifest is not None and not found:
            loaded.append(LoadedManifest(manifest, source))
    return loaded, problems


def _itself(item: LoadedManifest) -> LoadedManifest:
    return item


def _load_files(
    paths: Iterable[Path], cache: ManifestCache | None, convert: Callable[[LoadedManifest], T], *, slim: bool
) -> tuple[list[T], list[Problem]]:
    files, problems = manifest_files(paths)
    kept: list[T] = []
    claims: list[Claim] = []
    yaml: YAML | None = None  # made at the first file to parse: making one is not cheap
    for file in files:
        try:
            content = file.read_bytes()
            text = content.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), 0, 0, "", f"cannot read: {exc}"))
            continue
        cached = cache.get(content) if cache is not None else None
        if cached is not None:
            file_manifests = [_from_cache(document, str(file)) for document in cached]
        else:
            yaml = yaml or new_yaml()
            file_manifests, file_problems = load_text(text, str(file), yaml=yaml, exact_positions=not slim)
            problems.extend(file_problems)
            if cache is not None and not file_problems:
                cache.put(content, [_to_cache(item) for item in file_manifests])
        claims.extend(_claim(item) for item in file_manifests)
        kept.extend(convert(item) for item in file_manifests)
    problems.extend(cross_manifest_problems(claims))
    return kept, problems


def _claim(item: LoadedManifest) -> Claim:
    spec = item.manifest.spec
    return Claim(item.name, item.source, spec.adopt, tuple(spec.depends_on))


def _to_cache(item: LoadedManifest) -> CachedDocument:
    where = item.source.position(NAME)
    return CachedDocument(
        document=item.source.document, line=where.line, column=where.column, manifest=item.manifest
    )


def _from_cache(document: CachedDocument, file: str) -> LoadedManifest:
    return _kept(document.manifest, file, document.document, Position(document.line, document.column))


def _kept(manifest: AnyManifest, file: str, document: int, name: Position) -> LoadedManifest:
    """A valid manifest as kept: with the position of its name only."""
    return LoadedManifest(manifest, SourceMap(file, document, {NAME: name}, {}))

"""Read manifests from files and directories into validated models, or report every problem.

This module runs a load; each of its steps has its own module:

- ``screen``: what a file's text must pass before ruamel.yaml reads it (nesting depth, characters
  YAML refuses, UTF-8), so that hostile text is a problem, never a crash;
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

import os
import stat
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
from reconciler.manifest.notices import log_warnings, manifest_warnings
from reconciler.manifest.positions import NAME, FieldPath, Position, SourceMap, format_path
from reconciler.manifest.screen import decoding_problem

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
    """A valid manifest, where it came from, and what it says that is probably not meant
    (reconciler/manifest/notices.py), each pinned to where it stands."""

    manifest: AnyManifest
    source: SourceMap
    warnings: tuple[Problem, ...] = ()

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
    """Expand files and directories into the manifest files to load, each file once.

    Directories are read recursively, skipping hidden entries, and followed through symbolic
    links; a directory reached again (a link back to a parent, or a second link to it) is read
    once, so a loop ends. A file reached twice (named twice, as ``./a.yaml`` and ``a.yaml``, or
    by name and through its directory, or through a link) is loaded once, under the name it was
    first reached by. Names are kept as given, not resolved, so messages say what the user wrote.
    A broken link or an unreadable directory is a problem, not skipped: it may hide manifests,
    and ``--prune`` would archive their workflows.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    loaded: set[tuple[int, int]] = set()  # (device, inode) of each file in ``files``
    for path in paths:
        try:
            info = path.stat()
        except OSError as exc:
            problems.append(Problem(str(path), 0, 0, "", _unreachable(path, exc)))
            continue
        if stat.S_ISDIR(info.st_mode):
            found = _directory_files(path, info, problems)
            if not found:
                problems.append(Problem(str(path), 0, 0, "", "no manifest files (*.yaml, *.yml)"))
        elif stat.S_ISREG(info.st_mode):
            found = [(path, info)]
        else:
            problems.append(Problem(str(path), 0, 0, "", "not a file or directory"))
            continue
        for file, file_info in found:
            identity = (file_info.st_dev, file_info.st_ino)
            if identity not in loaded:
                loaded.add(identity)
                files.append(file)
    return files, problems


def _directory_files(
    root: Path, root_info: os.stat_result, problems: list[Problem]
) -> list[tuple[Path, os.stat_result]]:
    """The manifest files under ``root``, sorted by name, with what ``stat`` says of each."""
    found: list[tuple[Path, os.stat_result]] = []
    read: set[tuple[int, int]] = set()  # (device, inode) of each directory read
    # Directories reached through a link wait until the others are read, so a directory is read
    # under its own name, not a link's, whenever the walk can reach it that way.
    pending: list[tuple[Path, os.stat_result]] = []
    linked: list[tuple[Path, os.stat_result]] = []
    directory, info = root, root_info
    while True:
        if (info.st_dev, info.st_ino) not in read:
            read.add((info.st_dev, info.st_ino))
            _read_directory(directory, found, pending, linked, problems)
        if not (pending or linked):
            break
        directory, info = pending.pop() if pending else linked.pop(0)
    return sorted(found, key=lambda item: item[0])


def _read_directory(
    directory: Path,
    found: list[tuple[Path, os.stat_result]],
    pending: list[tuple[Path, os.stat_result]],
    linked: list[tuple[Path, os.stat_result]],
    problems: list[Problem],
) -> None:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        problems.append(Problem(str(directory), 0, 0, "", f"cannot read directory: {exc.strerror}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        try:
            info = entry.stat()  # of what a link points to
        except OSError as exc:
            problems.append(Problem(str(path), 0, 0, "", _unreachable(path, exc)))
            continue
        if stat.S_ISDIR(info.st_mode):
            (linked if entry.is_symlink() else pending).append((path, info))
        elif stat.S_ISREG(info.st_mode) and path.suffix in MANIFEST_SUFFIXES:
            found.append((path, info))


def _unreachable(path: Path, error: OSError) -> str:
    if path.is_symlink():
        return f"broken symbolic link ({error.strerror})"
    if isinstance(error, FileNotFoundError):
        return "no such file or directory"
    return f"cannot read: {error.strerror}"


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
    kept, problems, warnings = _load_files(
        paths, None if exact_positions else cache, convert, slim=not exact_positions
    )
    if problems and not exact_positions:
        # A problem that involves a valid manifest (a duplicate name, an unknown depends_on)
        # is found again with every position.
        kept, problems, warnings = _load_files(paths, None, convert, slim=False)
    if cache is not None and cache.misses:
        cache.prune()  # only when entries were added: most loads hit and pay nothing for it
    if problems:
        raise ManifestError(problems)
    log_warnings(warnings)
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
            # A manifest with a warning is built again too: a warning says where it stands.
            if manifest is not None and where is not None and not manifest_warnings(manifest):
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
            warnings = tuple(source.problem(path, message) for path, message in manifest_warnings(manifest))
            loaded.append(LoadedManifest(manifest, source, warnings))
    return loaded, problems


def _itself(item: LoadedManifest) -> LoadedManifest:
    return item


def _load_files(
    paths: Iterable[Path], cache: ManifestCache | None, convert: Callable[[LoadedManifest], T], *, slim: bool
) -> tuple[list[T], list[Problem], list[Problem]]:
    """What ``convert`` made of each valid manifest, the problems, and the warnings."""
    files, problems = manifest_files(paths)
    kept: list[T] = []
    warnings: list[Problem] = []
    claims: list[Claim] = []
    yaml: YAML | None = None  # made at the first file to parse: making one is not cheap
    for file in files:
        try:
            content = file.read_bytes()
        except OSError as exc:
            problems.append(Problem(str(file), 0, 0, "", f"cannot read: {exc}"))
            continue
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(decoding_problem(content, exc, str(file)))
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
        warnings.extend(warning for item in file_manifests for warning in item.warnings)
        kept.extend(convert(item) for item in file_manifests)
    problems.extend(cross_manifest_problems(claims))
    return kept, problems, warnings


def _claim(item: LoadedManifest) -> Claim:
    spec = item.manifest.spec
    return Claim(item.name, item.source, spec.adopt, tuple(spec.depends_on))


def _to_cache(item: LoadedManifest) -> CachedDocument:
    where = item.source.position(NAME)
    return CachedDocument(
        document=item.source.document,
        line=where.line,
        column=where.column,
        manifest=item.manifest,
        warnings=[(w.line, w.column, w.path, w.message) for w in item.warnings],
    )


def _from_cache(document: CachedDocument, file: str) -> LoadedManifest:
    warnings = tuple(Problem(file, *warning) for warning in document.warnings)
    return _kept(
        document.manifest, file, document.document, Position(document.line, document.column), warnings
    )


def _kept(
    manifest: AnyManifest, file: str, document: int, name: Position, warnings: tuple[Problem, ...] = ()
) -> LoadedManifest:
    """A valid manifest as kept: with the position of its name only."""
    return LoadedManifest(manifest, SourceMap(file, document, {NAME: name}, {}), warnings)

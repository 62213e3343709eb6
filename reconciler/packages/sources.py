"""The files a manifest's sections generate from their ``source``, checked and known by digest.

A section's ``source`` names a CSV file and, optionally, a template (a JSON or YAML file, or a
list inline in the manifest), each relative to the manifest's directory and inside the
repository: the git top level above the manifest (the nearest directory holding ``.git``), or the
current directory outside git. No absolute path (the models refuse it), no way out through ``..``
or a symbolic link: a manifest in a pull request must not make the machine that runs it upload a
file from elsewhere.

``prepare_sources`` runs every check that reads no row (paths, CSV settings, the template);
``PreparedSource.render`` streams the generated file into a sink (reconciler.data does the work);
``compile_files`` does both with the bytes hashed (and kept, up to a budget), for the compiled
desired state. Problems
come all at once, each where it is: a path or a CSV setting at the manifest's file:line:column, a
template key at the template's line (an inline template's, in the manifest), a row at the source
CSV's line.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

# Lazy (reconciler/_lazy.py): its modules load at the first source, so a manifest without one costs
# no import time.
from reconciler import data
from reconciler.errors import DataError, Problem
from reconciler.manifest.documents import DocumentBuilder, compose, new_yaml
from reconciler.manifest.loader import (
    MANIFEST_SUFFIXES,
    AnyManifest,
    FieldPath,
    LoadedManifest,
    SourceMap,
    format_path,
    load_text,
)
from reconciler.manifest.models import (
    ImportSection,
    LineageBuilderManifest,
    Source,
    is_absolute,
)
from reconciler.packages.compiler import CompiledFile

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from reconciler.data import CsvOptions, Section, Template

# Where a key of a template stands: its path in the template -> (line, column).
Locate = Callable[[FieldPath], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class PreparedSource:
    """One section's source, checked but not read yet: ``render`` makes its file."""

    manifest: str  # the manifest's name
    section: Section
    file: Path  # the source CSV, symbolic links resolved
    display: str  # the source CSV as messages name it
    template: Template | None  # None: the file is in the package's format already
    options: CsvOptions
    field_separator: str
    mask: tuple[str, ...] = ()  # columns a plan shows as a digest

    def render(self, sink: IO[bytes]) -> CompiledFile:
        """Stream the generated file into ``sink``; a ``DataError`` names every bad row (what
        reached the sink then is incomplete)."""
        if self.template is None:
            rendered = data.passthrough(
                self.file, self.section, field_separator=self.field_separator, sink=sink, display=self.display
            )
        else:
            rendered = data.render_source(
                self.file,
                self.template,
                self.options,
                field_separator=self.field_separator,
                sink=sink,
                display=self.display,
            )
        return CompiledFile(
            self.section,
            self.display,
            rendered.sha256,
            rendered.size,
            rendered.rows,
            field_separator=self.field_separator,
            mask=self.mask,
        )

    def render_bytes(self) -> tuple[CompiledFile, bytes]:
        """The generated file in memory, for an upload or a plan's row diff (the files are a few
        MB at most; a plan of unchanged sources never calls this)."""
        sink = io.BytesIO()
        compiled = self.render(sink)
        return compiled, sink.getvalue()


@dataclass
class Findings:
    """Problems of sources, gathered across sections and manifests to be reported at once."""

    problems: list[Problem] = field(default_factory=list)
    omitted: int = 0  # problems a DataError counted but left out (reconciler/data/problems.py)

    def add(self, error: DataError, *, under: str = "") -> None:
        """Take ``error``'s problems; ``under`` prefixes their paths (an inline template's keys)."""
        self.problems += [replace(p, path=under + p.path) if under else p for p in error.problems]
        self.omitted += error.omitted

    def error(self, before: Sequence[Problem] = ()) -> DataError | None:
        """One DataError with ``before`` (the manifests' own problems) and these, or None."""
        if not self.problems:
            return None
        return DataError([*before, *self.problems], omitted=self.omitted)

    def raise_any(self) -> None:
        error = self.error()
        if error is not None:
            raise error


@dataclass(frozen=True, slots=True)
class SourcedFile:
    """A generated file: what is known of it, the source that renders it again, and its bytes
    when they were kept (see ``compile_files``)."""

    compiled: CompiledFile
    source: PreparedSource
    data: bytes | None = field(default=None, repr=False)


def compile_files(item: LoadedManifest, *, keep: int = 0) -> tuple[SourcedFile, ...]:
    """Every file ``item``'s sources generate, hashed as it streams by, with the source that
    renders it again (for an upload); ``DataError`` with every problem of its sources. A manifest
    without a source costs one look at its sections.

    The bytes of the files that fit in ``keep`` bytes (together) are kept: a plan that finds one
    changed diffs its rows without rendering it a second time."""
    findings = Findings()
    files = []
    for source in prepare_sources(item, findings):
        sink = _Kept(keep)
        try:
            compiled = source.render(sink)
        except DataError as exc:
            findings.add(exc)
            continue
        data = sink.kept()
        keep -= 0 if data is None else len(data)
        files.append(SourcedFile(compiled, source, data))
    findings.raise_any()
    return tuple(files)


def has_source(manifest: AnyManifest) -> bool:
    """Whether a section of ``manifest`` has a source: all that a manifest without one costs
    (10,000 of them: about 15 ms, beside a load of 4 to 5 s)."""
    if isinstance(manifest, LineageBuilderManifest):
        return manifest.spec.lineage.source is not None
    spec = manifest.spec
    return any(
        section is not None and section.source is not None
        for section in (spec.assets, spec.glossaries, spec.data_products, spec.tags)
    )


def file_sections(manifest: AnyManifest) -> list[tuple[Section, Source, str]]:
    """``(section, source, field separator of the section's file)`` of each section with a source."""
    if isinstance(manifest, LineageBuilderManifest):
        options = manifest.spec.options
        separator = (options.field_separator if options is not None else None) or ","
        source = manifest.spec.lineage.source
        return [] if source is None else [("lineage", source, separator)]
    spec = manifest.spec
    found: list[tuple[Section, Source, str]] = []
    sections: tuple[tuple[Section, ImportSection | None], ...] = (
        ("assets", spec.assets),
        ("glossaries", spec.glossaries),
        ("data_products", spec.data_products),
        ("tags", spec.tags),
    )
    for name, section in sections:
        if section is not None and section.source is not None:
            separator = (section.advanced.field_separator if section.advanced is not None else None) or ","
            found.append((name, section.source, separator))
    return found


def prepare_sources(item: LoadedManifest, findings: Findings) -> list[PreparedSource]:
    """Each source of ``item`` that passes the checks that read no row; the problems of the
    others go to ``findings``."""
    sections = file_sections(item.manifest)
    if not sections:
        return []
    from reconciler.data.vocabulary import SECTION_SPECS  # see the import of reconciler.data
    from reconciler.data.writer import check_separator

    where = _Where(item)
    directory = os.path.dirname(item.source.file)
    root = repository_root(Path(os.path.abspath(directory)))
    prepared = []
    for section, source, separator in sections:
        at: FieldPath = ("spec", section, "source")
        ok = True
        try:
            check_separator(separator)
        except ValueError as exc:
            where.report(findings, _separator_path(section), str(exc))
            ok = False
        try:
            options = data.CsvOptions(**(source.csv.model_dump() if source.csv is not None else {}))
        except ValueError as exc:
            where.report(findings, (*at, "csv"), str(exc))
            ok = False
        for index, column in enumerate(source.mask):
            spec = SECTION_SPECS[section]
            if not spec.is_column(column):
                message = f"{column!r} is not a column of the {section} file{spec.suggestion(column)}"
                where.report(findings, (*at, "mask", index), message)
                ok = False
        found = _located(directory, source.file, root, where, (*at, "file"), findings)
        template = None
        if source.template is not None:
            template = _template(
                section, source.template, directory, root, where, (*at, "template"), findings
            )
            ok = ok and template is not None
        if ok and found is not None:
            path, display = found
            prepared.append(
                PreparedSource(
                    item.name, section, path, display, template, options, separator, tuple(source.mask)
                )
            )
    return prepared


def repository_root(directory: Path) -> Path:
    """The git top level at or above ``directory`` (the nearest holding ``.git``, a directory or a
    worktree's file), or the current directory outside git. No subprocess: git need not be there."""
    for candidate in (directory, *directory.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return Path.cwd()


def resolve_inside(directory: str, written: str, root: Path) -> tuple[Path, str]:
    """The regular file ``written`` names, relative to ``directory``, with symbolic links resolved,
    and how messages name it; ``ValueError`` when it is not one inside ``root``."""
    display = os.path.normpath(os.path.join(directory, written))
    if is_absolute(written):  # refused by the models already; kept for models built in code
        raise ValueError(f"{written!r} is an absolute path: write it relative to the manifest's directory")
    joined = os.path.join(os.path.abspath(directory), written)
    if not Path(os.path.normpath(joined)).is_relative_to(root):
        raise ValueError(f"{written!r} is outside the repository ({root}): '..' may not lead out of it")
    if not os.path.lexists(joined):
        raise ValueError(f"{written!r} does not exist (looked for {display})")
    real = Path(os.path.realpath(joined))
    if not real.is_relative_to(os.path.realpath(root)):
        raise ValueError(f"{written!r} leads outside the repository ({root}) through a symbolic link")
    try:
        info = real.stat()
    except OSError:
        raise ValueError(f"{written!r} is a broken symbolic link") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{written!r} is not a file")
    return real, display


def _located(
    directory: str, written: str, root: Path, where: _Where, path: FieldPath, findings: Findings
) -> tuple[Path, str] | None:
    try:
        return resolve_inside(directory, written, root)
    except ValueError as exc:
        where.report(findings, path, str(exc))
        return None


def _template(
    section: Section,
    template: str | list[Any],
    directory: str,
    root: Path,
    where: _Where,
    at: FieldPath,
    findings: Findings,
) -> Template | None:
    """The checked template, or None with its problems in ``findings``."""
    if isinstance(template, list):
        try:
            # Positions first cost a second parse of the manifest: only once there is a problem.
            return data.load_template(template, section, file=where.item.source.file)
        except DataError:
            pass
        try:
            return data.load_template(template, section, file=where.item.source.file, locate=where.locate(at))
        except DataError as exc:
            findings.add(exc, under=format_path(at))
            return None
    found = _located(directory, template, root, where, at, findings)
    if found is None:
        return None
    path, display = found
    try:
        if path.suffix in MANIFEST_SUFFIXES:
            content, locate = _yaml_template(path, display)
            return data.load_template(content, section, file=display, locate=locate)
        return data.load_template(path, section, file=display)
    except DataError as exc:
        findings.add(exc)
    return None


def _yaml_template(path: Path, display: str) -> tuple[Any, Locate]:
    """A YAML template file's data, and where each of its keys stands (read as manifests are)."""

    def failed(line: int, column: int, message: str) -> DataError:
        return DataError([Problem(display, line, column, "", message)])

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise failed(0, 0, f"cannot read the template: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise failed(0, 0, f"cannot read the template: not UTF-8 ({exc.reason})") from exc
    yaml = new_yaml()
    nodes, problems = compose(text, display, yaml)
    if problems:
        raise DataError(problems)
    documents = [node for node in nodes if node is not None]
    if len(documents) != 1:
        raise failed(1, 1, "a template file holds one YAML document: the template's list")
    builder = DocumentBuilder(display, 0, yaml)
    content = builder.build(documents[0])
    if builder.problems:
        raise DataError(builder.problems)
    return content, _locator(SourceMap(display, 0, builder.values, builder.keys), ())


def _locator(source: SourceMap, at: FieldPath) -> Locate:
    def locate(path: FieldPath) -> tuple[int, int]:
        # A key's own position, where the path ends in one (the problem is mostly the key).
        where = source.position((*at, *path), key=bool(path) and isinstance(path[-1], str))
        return where.line, where.column

    return locate


class _Where:
    """Positions in one manifest, worked out when a problem first needs them: a loaded manifest
    keeps only its name's position (reconciler/manifest/loader.py), so its file is read again."""

    def __init__(self, item: LoadedManifest) -> None:
        self.item = item
        self._exact: SourceMap | None = None

    @property
    def source(self) -> SourceMap:
        if self._exact is None:
            self._exact = _exact_source(self.item)
        return self._exact

    def report(self, findings: Findings, path: FieldPath, message: str) -> None:
        """A problem at ``path``, or at the nearest part of it that is written (``source.file``
        of the short form ``source: data/terms.csv`` is ``source``)."""
        source = self.source
        while len(path) > 1 and path not in source.values and len(source.values) > 1:
            path = path[:-1]
        findings.problems.append(source.problem(path, message))

    def locate(self, at: FieldPath) -> Locate:
        return _locator(self.source, at)


def _exact_source(item: LoadedManifest) -> SourceMap:
    source = item.source
    if len(source.values) > 1:  # loaded with every position already
        return source
    try:
        text = Path(source.file).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return source
    loaded, _ = load_text(text, source.file)
    return next((other.source for other in loaded if other.source.document == source.document), source)


def _separator_path(section: Section) -> FieldPath:
    if section == "lineage":
        return ("spec", "options", "field_separator")
    return ("spec", section, "advanced", "field_separator")


class _Kept(io.BytesIO):
    """A sink that keeps the bytes while they fit in ``room``, and nothing once they do not:
    compiling needs a file's digest, not its bytes (``room`` 0 keeps nothing)."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room
        self.over = room <= 0

    def write(self, data: ReadableBuffer, /) -> int:
        size = memoryview(data).nbytes
        if not self.over and self.tell() + size > self.room:
            self.over = True
            self.seek(0)
            self.truncate()
        if not self.over:
            super().write(data)
        return size

    def kept(self) -> bytes | None:
        return None if self.over else self.getvalue()

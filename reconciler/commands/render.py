"""``reconciler render PATH...``: the workflow requests the manifests compile to, secrets masked;
with ``--files DIR``, the files their sources generate instead."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from ruamel.yaml import YAML

from reconciler import console
from reconciler.commands._files import Writer, write_files
from reconciler.desired import read_desired
from reconciler.errors import DataError
from reconciler.manifest.loader import load_manifests
from reconciler.packages.compiler import CompiledFile
from reconciler.packages.sources import Findings, PreparedSource, prepare_sources
from reconciler.render.formats import RenderFormat
from reconciler.settings import Settings


def render(
    paths: Sequence[Path],
    *,
    output: RenderFormat,
    settings: Settings,
    environ: Mapping[str, str],
    files: Path | None = None,
) -> int:
    if files is not None:
        return render_files(paths, files, settings=settings)
    desired = read_desired(
        paths,
        instance=settings.instance,
        environ=settings.manifest_environ(environ),
        cache=settings.manifest_cache(),
    )
    bodies = [workflow.compiled.redacted() for workflow in desired]
    if output is RenderFormat.json:
        console.out(json.dumps(bodies, indent=2, ensure_ascii=False))
    else:
        buffer = io.StringIO()
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.allow_unicode = True
        yaml.dump(bodies, buffer)
        console.out(buffer.getvalue())
    return 0


def render_files(paths: Sequence[Path], directory: Path, *, settings: Settings) -> int:
    """Write every file the manifests' sources generate, byte for byte what will be uploaded, to
    ``directory/<manifest name>/<section>.csv``: all of them, or none when a source has a problem
    (a DataError lists every one). Needs no environment variable: no request is compiled."""
    findings = Findings()
    made: list[tuple[Path, CompiledFile]] = []
    pending: list[tuple[Path, Writer]] = []
    for item in load_manifests(paths, cache=settings.manifest_cache()):
        for source in prepare_sources(item, findings):
            target = directory / source.manifest / f"{source.section}.csv"
            pending.append((target, _writer(source, target, made, findings)))
    if pending:
        # Each file streams into its temporary file; nothing is renamed into place if any had a problem.
        write_files(pending, make_parents=True, ready=findings.raise_any)
    findings.raise_any()
    for target, file in made:
        rows = f"{file.rows} row" + ("" if file.rows == 1 else "s")
        console.out(f"{target}: {rows}, {file.size} bytes, sha256 {file.sha256}")
    if not made:
        console.out("No manifest has a source: no file written.")
    return 0


def _writer(
    source: PreparedSource, target: Path, made: list[tuple[Path, CompiledFile]], findings: Findings
) -> Writer:
    def write(sink: IO[bytes]) -> None:
        try:
            made.append((target, source.render(sink)))
        except DataError as exc:
            findings.add(exc)

    return write

"""``reconciler validate PATH...``: are the manifests and their data sources valid, and (by default)
is every variable set?"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler import console
from reconciler.desired import check_manifests, read_desired
from reconciler.settings import Settings


def validate(paths: Sequence[Path], *, skip_env: bool, settings: Settings, environ: Mapping[str, str]) -> int:
    """Exit 0 with one summary line when valid; a ManifestError (exit 1) lists every problem."""
    if skip_env:
        found = [
            (item.kind, item.source.file) for item in check_manifests(paths, cache=settings.manifest_cache())
        ]
    else:
        desired = read_desired(
            paths,
            instance=settings.instance,
            environ=settings.manifest_environ(environ),
            cache=settings.manifest_cache(),
        )
        found = [(d.kind, d.file) for d in desired]
    kinds = Counter(kind for kind, _ in found)
    files = len({file for _, file in found})
    breakdown = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    noun = "manifest" if len(found) == 1 else "manifests"
    checked = " (environment references not checked)" if skip_env else ""
    console.out(
        f"Valid: {len(found)} {noun} in {files} file{'s' if files != 1 else ''} ({breakdown}){checked}."
    )
    return 0

"""``reconciler render PATH...``: the workflow requests the manifests compile to, secrets masked."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ruamel.yaml import YAML

from reconciler import console
from reconciler.desired import read_desired
from reconciler.render.formats import RenderFormat
from reconciler.settings import Settings


def render(
    paths: Sequence[Path], *, output: RenderFormat, settings: Settings, environ: Mapping[str, str]
) -> int:
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

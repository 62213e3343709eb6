"""``reconciler export``: write manifests for live workflows, to bring them under management.

Unmanaged workflows get ``adopt:`` so that, after export, ``plan`` shows only adoptions and no
spec change. Secrets cannot be read back: each becomes a ``${env:...}`` reference to set.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reconciler import console
from reconciler.atlan import AtlanWorkflowClient, queries
from reconciler.commands._files import write_text_files
from reconciler.errors import ReconcilerError
from reconciler.live import LiveWorkflow
from reconciler.manifest.models import env_references
from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER
from reconciler.packages.decompile import CredentialInfo, NotRepresentable, decompile, kind_of
from reconciler.packages.identity import INSTANCE_LABEL, MANIFEST_LABEL, PACKAGES, workflow_name
from reconciler.packages.spec import cloud_source
from reconciler.settings import Settings
from reconciler.target import choose_target, connect


@dataclass(frozen=True)
class Exported:
    manifest_name: str
    workflow: str
    document: dict[str, Any]
    adopt: bool
    notes: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()  # what the manifest cannot carry: plan will change it


async def _select(
    client: AtlanWorkflowClient, settings: Settings, names: Sequence[str], everything: bool
) -> list[LiveWorkflow]:
    if names:
        found = await client.get_workflows(names)
        missing = sorted(set(names) - set(found))
        if missing:
            raise ReconcilerError(f"no such workflow: {', '.join(missing)}")
        return list(found.values())
    if everything:
        found_lists = await asyncio.gather(
            *(client.search_workflows(queries.name_starts_with(f"{p.prefix}-")) for p in PACKAGES.values())
        )
        return [w for workflows in found_lists for w in workflows]
    return await client.list_managed(settings.instance)


async def _credential(
    client: AtlanWorkflowClient, workflow: LiveWorkflow
) -> tuple[CredentialInfo | None, str | None]:
    guid = cloud_source(workflow.spec)
    if not guid or guid == CREDENTIAL_PLACEHOLDER:
        return None, None
    data = await client.get_credential(guid)
    if not data or not data.get("authType"):
        return None, f"credential {guid} could not be read; object_store left out (the tenant keeps it)"
    return CredentialInfo(str(data["authType"]), data.get("username"), data.get("extra") or {}), None


async def export_workflows(settings: Settings, names: Sequence[str], everything: bool) -> list[Exported]:
    async with connect(settings) as client:
        selected = await _select(client, settings, names, everything)
        results = []
        for workflow in sorted(selected, key=lambda w: w.name):
            owner = workflow.labels.get(INSTANCE_LABEL)
            kind = kind_of(workflow.labels, workflow.name)
            if kind is None:
                console.err(f"skipped {workflow.name}: not an asset-import or lineage-builder workflow")
                continue
            if owner is not None and owner != settings.instance:
                console.err(f"skipped {workflow.name}: managed by instance {owner!r}")
                continue
            credential, note = await _credential(client, workflow)
            manifest_name = workflow.labels.get(MANIFEST_LABEL) or workflow.name
            try:
                decompiled = decompile(
                    workflow.raw.get("metadata") or {},
                    workflow.spec,
                    kind=kind,
                    manifest_name=manifest_name,
                    derived_name=workflow_name(PACKAGES[kind], settings.instance, manifest_name),
                    credential=credential,
                )
            except NotRepresentable as exc:
                console.err(f"skipped {workflow.name}: no manifest can describe it ({exc})")
                continue
            results.append(
                Exported(
                    manifest_name,
                    workflow.name,
                    decompiled.document,
                    owner is None,
                    (note,) if note else (),
                    decompiled.lost,
                )
            )
    return results


def to_yaml(exported: Exported, source: str) -> str:
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.dump(exported.document, buffer)
    variables = sorted(set(env_references(buffer.getvalue())))
    when = f"{datetime.now(UTC):%Y-%m-%d}"
    header = [f"# Exported by reconciler from {source} on {when}: workflow {exported.workflow}."]
    if exported.adopt and not exported.lost:
        header.append("# Not managed yet: `adopt` takes it over on the next apply, without changing it.")
    elif exported.adopt:
        header.append("# Not managed yet: `adopt` takes it over on the next apply, with the changes below.")
    if variables:
        header.append(f"# Secrets cannot be read back: set {', '.join(variables)} before planning.")
    header += [f"# Note: {note}" for note in exported.notes]
    header += [f"# Changes: {lost}" for lost in exported.lost]
    return "\n".join(header) + "\n" + buffer.getvalue()


def export_command(
    *,
    names: Sequence[str],
    everything: bool,
    output_dir: Path | None,
    force: bool,
    settings: Settings,
    environ: Mapping[str, str],
) -> int:
    exported = asyncio.run(export_workflows(settings, names, everything))
    source = "the embedded emulator" if choose_target(settings).embedded else str(settings.atlan_base_url)
    texts = [(item, to_yaml(item, source)) for item in exported]
    if output_dir is None:
        console.out("---\n".join(text for _, text in texts))
    else:
        _write(output_dir, texts, force=force)
    adopting = sum(1 for item in exported if item.adopt)
    where = f" to {output_dir}" if output_dir else ""
    console.err(f"Exported {len(exported)} manifest(s){where}; {adopting} to adopt.")
    for item in exported:
        if item.lost:
            console.err(
                f"{item.workflow}: a manifest cannot carry all of it; plan will show: {'; '.join(item.lost)}"
            )
    return 0


def _write(directory: Path, texts: Iterable[tuple[Exported, str]], *, force: bool) -> None:
    pending = [(directory / f"{item.manifest_name}.yaml", text) for item, text in texts]
    existing = [str(path) for path, _ in pending if path.exists()]
    if existing and not force:
        raise ReconcilerError(f"would overwrite {', '.join(existing)}; pass --force to replace them")
    write_text_files(pending, make_parents=True)

"""Who a workflow belongs to: its package, its deterministic name, the labels that mark it managed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Labels written on every workflow the reconciler manages (README, Plan and apply): one search by the instance
# label lists exactly the managed set, and the manifest label ties each workflow to its manifest.
INSTANCE_LABEL = "reconciler.dev/instance"
MANIFEST_LABEL = "reconciler.dev/manifest"
# The credential's non-secret parts (authType, username, extra), so plans can show what changed.
CREDENTIAL_ANNOTATION = "reconciler.dev/credential"
# Which values came from `${env:NAME}` references: JSON pointer into the compared view -> the
# manifest text (`/imports/${env:PREFIX}`). Plans, drift and export show that text, never the value.
ENV_ANNOTATION = "reconciler.dev/env"
# Set from `protect: true`; prune skips such workflows even after their manifest is gone.
PROTECT_ANNOTATION = "reconciler.dev/protect"
NAMESPACE = "default"


@dataclass(frozen=True, slots=True)
class Package:
    """One Atlan package as its SDK builder describes it (``pyatlan/model/packages/``)."""

    kind: str  # the manifest kind
    name: str  # asset-import
    title: str  # Asset Import
    description: str
    icon: str

    @property
    def prefix(self) -> str:
        """The workflow-name prefix and templateRef name, e.g. ``csa-asset-import``."""
        return f"csa-{self.name}"

    @property
    def package_name(self) -> str:
        return f"@csa/{self.name}"


ASSET_IMPORT = Package(
    kind="AssetImport",
    name="asset-import",
    title="Asset Import",
    description="Import assets from a CSV file.",
    icon="http://assets.atlan.com/assets/ph-cloud-arrow-up-light.svg",
)
LINEAGE_BUILDER = Package(
    kind="LineageBuilder",
    name="lineage-builder",
    title="Lineage Builder",
    description="Build lineage from a CSV file.",
    icon="http://assets.atlan.com/assets/ph-tree-structure-light.svg",
)
PACKAGES = {package.kind: package for package in (ASSET_IMPORT, LINEAGE_BUILDER)}


def workflow_name(package: Package, instance: str, manifest_name: str) -> str:
    """``csa-<package>-<10 digits>``, the digits derived from (instance, manifest name).

    Atlan names package workflows ``csa-<package>-<epoch>``; keeping that shape means the SDK's
    ``find_by_type`` (a ``[0-9]{10}`` regexp) still finds ours. Deriving the digits instead of
    taking the clock makes a create idempotent: a retried or concurrent create of the same
    manifest collides on the server's unique name (409) rather than making a duplicate.
    """
    digest = hashlib.sha256(f"{instance}\0{manifest_name}".encode()).digest()
    return f"{package.prefix}-{int.from_bytes(digest[:8], 'big') % 10**10:010d}"

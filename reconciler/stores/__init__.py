"""Object stores: where the input files of asset-import and lineage workflows are uploaded.

One small async API (base.py) for every backend, opened by ``open_store`` (factory.py):

==========  =====================================  =================================================
kind        backend                                version token / metadata
==========  =====================================  =================================================
s3          obstore S3Store (cloud.py)             ETag; ``x-amz-meta-reconciler-sha256``
adls        obstore AzureStore, blob API           ETag; ``x-ms-meta-reconciler_sha256``
gcs         google-cloud-storage (gcs.py)          generation; ``reconciler-sha256``
tenant      Atlan's presigned URLs (tenant.py)     ETag (generation on GCS); no metadata
local       obstore LocalStore (local.py)          MD5 ETag; a sidecar ``<key>.json``
==========  =====================================  =================================================

This is an I/O edge like ``reconciler.atlan``: deciding and rendering never import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler._lazy import attribute_loader

if TYPE_CHECKING:
    from reconciler.stores.base import (
        Anonymous,
        AzureAccountKey,
        AzureClientSecret,
        Credentials,
        GcsServiceAccount,
        ObjectStore,
        S3Keys,
        StoredObject,
        StoreKind,
        StoreLocation,
        object_path,
    )
    from reconciler.stores.factory import open_store
    from reconciler.stores.tenant import Presigner

_BASE = "reconciler.stores.base"
_HOMES = {
    "Anonymous": _BASE,
    "AzureAccountKey": _BASE,
    "AzureClientSecret": _BASE,
    "Credentials": _BASE,
    "GcsServiceAccount": _BASE,
    "ObjectStore": _BASE,
    "Presigner": "reconciler.stores.tenant",
    "S3Keys": _BASE,
    "StoreKind": _BASE,
    "StoreLocation": _BASE,
    "StoredObject": _BASE,
    "object_path": _BASE,
    "open_store": "reconciler.stores.factory",
}
__getattr__ = attribute_loader(__name__, _HOMES)

__all__ = [
    "Anonymous",
    "AzureAccountKey",
    "AzureClientSecret",
    "Credentials",
    "GcsServiceAccount",
    "ObjectStore",
    "Presigner",
    "S3Keys",
    "StoreKind",
    "StoreLocation",
    "StoredObject",
    "object_path",
    "open_store",
]

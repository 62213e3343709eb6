"""reconciler: Atlan's asset-import and lineage-builder workflows as code.

The CLI (``reconciler plan|apply|drift|...``) is the main interface; these are the pieces it is
built from, for use as a library::

    desired = read_desired([Path("manifests")], instance="default", environ=os.environ)
    async with AtlanWorkflowClient(base_url, api_key) as client:
        live = await client.list_managed("default")
        result = plan(desired, live, instance="default")
        outcome = await apply_plan(result, desired, client)
"""

from importlib.metadata import version as _version
from typing import TYPE_CHECKING

from reconciler._lazy import attribute_loader, keep_over_subpackages

if TYPE_CHECKING:
    from reconciler.apply import ApplyResult, ItemResult, WaitPolicy, apply_plan
    from reconciler.atlan import AtlanWorkflowClient, RateLimit, RetryPolicy
    from reconciler.desired import DesiredWorkflow, read_desired
    from reconciler.drift import DriftReport, Finding, detect_drift
    from reconciler.errors import (
        ApiError,
        AuthenticationError,
        ConflictError,
        ManifestError,
        NotFoundError,
        OutcomeUnknownError,
        PermissionDeniedError,
        PlanFileError,
        PlanningError,
        Problem,
        RateLimitedError,
        ReconcilerError,
        ServerError,
        SettingsError,
        TransportError,
    )
    from reconciler.live import LiveRun, LiveWorkflow
    from reconciler.manifest.loader import LoadedManifest, load_manifests
    from reconciler.manifest.models import AssetImportManifest, LineageBuilderManifest
    from reconciler.packages.compiler import CompiledWorkflow, compile_workflow
    from reconciler.plan.model import Action, FieldChange, Plan, PlannedWorkflow
    from reconciler.plan.planner import plan
    from reconciler.settings import Settings, load_settings

_HOMES = {
    "Action": "reconciler.plan.model",
    "ApiError": "reconciler.errors",
    "ApplyResult": "reconciler.apply",
    "AssetImportManifest": "reconciler.manifest.models",
    "AtlanWorkflowClient": "reconciler.atlan",
    "AuthenticationError": "reconciler.errors",
    "CompiledWorkflow": "reconciler.packages.compiler",
    "ConflictError": "reconciler.errors",
    "DesiredWorkflow": "reconciler.desired",
    "DriftReport": "reconciler.drift",
    "FieldChange": "reconciler.plan.model",
    "Finding": "reconciler.drift",
    "ItemResult": "reconciler.apply",
    "LineageBuilderManifest": "reconciler.manifest.models",
    "LiveRun": "reconciler.live",
    "LiveWorkflow": "reconciler.live",
    "LoadedManifest": "reconciler.manifest.loader",
    "ManifestError": "reconciler.errors",
    "NotFoundError": "reconciler.errors",
    "OutcomeUnknownError": "reconciler.errors",
    "PermissionDeniedError": "reconciler.errors",
    "Plan": "reconciler.plan.model",
    "PlanFileError": "reconciler.errors",
    "PlannedWorkflow": "reconciler.plan.model",
    "PlanningError": "reconciler.errors",
    "Problem": "reconciler.errors",
    "RateLimit": "reconciler.atlan",
    "RateLimitedError": "reconciler.errors",
    "ReconcilerError": "reconciler.errors",
    "RetryPolicy": "reconciler.atlan",
    "ServerError": "reconciler.errors",
    "Settings": "reconciler.settings",
    "SettingsError": "reconciler.errors",
    "TransportError": "reconciler.errors",
    "WaitPolicy": "reconciler.apply",
    "apply_plan": "reconciler.apply",
    "compile_workflow": "reconciler.packages.compiler",
    "detect_drift": "reconciler.drift",
    "load_manifests": "reconciler.manifest.loader",
    "load_settings": "reconciler.settings",
    "plan": "reconciler.plan.planner",
    "read_desired": "reconciler.desired",
}
__getattr__ = attribute_loader(__name__, _HOMES)
keep_over_subpackages(__name__, {"plan"})

__version__ = _version("reconciler")

__all__ = [
    "Action",
    "ApiError",
    "ApplyResult",
    "AssetImportManifest",
    "AtlanWorkflowClient",
    "AuthenticationError",
    "CompiledWorkflow",
    "ConflictError",
    "DesiredWorkflow",
    "DriftReport",
    "FieldChange",
    "Finding",
    "ItemResult",
    "LineageBuilderManifest",
    "LiveRun",
    "LiveWorkflow",
    "LoadedManifest",
    "ManifestError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "Plan",
    "PlanFileError",
    "PlannedWorkflow",
    "PlanningError",
    "Problem",
    "RateLimit",
    "RateLimitedError",
    "ReconcilerError",
    "RetryPolicy",
    "ServerError",
    "Settings",
    "SettingsError",
    "TransportError",
    "WaitPolicy",
    "__version__",
    "apply_plan",
    "compile_workflow",
    "detect_drift",
    "load_manifests",
    "load_settings",
    "plan",
    "read_desired",
]

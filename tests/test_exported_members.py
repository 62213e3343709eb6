"""The public surface of ``import reconciler`` is deliberate: this test changes with it."""

from __future__ import annotations

import reconciler

EXPECTED = {
    "Action", "ApiError", "ApplyResult", "AssetImportManifest", "AtlanWorkflowClient",
    "AuthenticationError", "CompiledWorkflow", "ConflictError", "DesiredWorkflow", "DriftReport",
    "FieldChange", "Finding", "ItemResult", "LineageBuilderManifest", "LiveRun", "LiveWorkflow",
    "LoadedManifest", "ManifestError", "NotFoundError", "OutcomeUnknownError", "PermissionDeniedError",
    "Plan", "PlanFileError", "PlannedWorkflow", "PlanningError", "Problem", "RateLimit",
    "RateLimitedError", "ReconcilerError", "RetryPolicy", "ServerError", "Settings", "SettingsError",
    "TransportError", "WaitPolicy", "__version__", "apply_plan", "compile_workflow", "detect_drift",
    "load_manifests", "load_settings", "plan", "read_desired",
}  # fmt: skip


def test_all_is_exactly_the_public_surface() -> None:
    assert set(reconciler.__all__) == EXPECTED
    assert reconciler.__all__ == sorted(reconciler.__all__)


def test_every_exported_name_exists_and_comes_from_the_package() -> None:
    for name in reconciler.__all__:
        member = getattr(reconciler, name)
        if name != "__version__":
            assert member.__module__.startswith("reconciler."), name


def test_errors_share_one_root() -> None:
    errors = [getattr(reconciler, n) for n in reconciler.__all__ if n.endswith("Error")]
    assert errors
    assert all(issubclass(error, reconciler.ReconcilerError) for error in errors)

"""Paths and values the tests share."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "atlan-workflow-fixtures"
EXAMPLES = REPO / "manifests"
TEST_MANIFESTS = Path(__file__).resolve().parent / "manifests"

# Planted in every test's environment; no captured output may ever contain it.
CANARY = "canary-7f3c9e1d-secret-value-4b2a"

# The values the SDK fixtures were built with, for the secret fields.
SDK_SECRETS = {
    "TEST_SECRET_KEY": "test-secret-key",
    "TEST_SERVICE_ACCOUNT_JSON": "test-service-account-json",
    "TEST_CLIENT_SECRET": "test-client-secret",
}

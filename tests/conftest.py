"""Shared fixtures. Every test runs in a clean environment with a canary secret planted in it."""

from __future__ import annotations

import os

import pytest

from tests.helpers import CANARY


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ATLAN_*/RECONCILER_*/GITHUB_* setting leaks in from the machine; the canary is set."""
    for name in list(os.environ):
        if name.startswith(("ATLAN_", "RECONCILER_", "GITHUB_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECONCILER_CANARY_SECRET", CANARY)
    for name in ("AWS_SECRET_ACCESS_KEY", "GCS_SERVICE_ACCOUNT_JSON", "AZURE_CLIENT_SECRET"):
        monkeypatch.setenv(name, CANARY)

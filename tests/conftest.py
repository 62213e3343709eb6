"""Shared fixtures. Every test runs in a clean environment with a canary secret planted in it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from reconciler.redaction import SECRETS
from tests.github.conftest import PR_NUMBER, TOKEN
from tests.github.fake_github import FakeGitHub
from tests.helpers import CANARY
from tests.network_guard import loopback_guard, loopback_only  # noqa: F401 - autouse: loopback only


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No ATLAN_*/RECONCILER_*/GITHUB_* setting, nor CI, leaks in from the machine (so the tests
    run alike in CI, where no target is chosen implicitly; tests that need them set them); the
    canary is set; state (the embedded emulator's database, the manifest cache) goes to a fresh
    directory."""
    for name in list(os.environ):
        if name.startswith(("ATLAN_", "RECONCILER_", "GITHUB_")) or name == "CI":
            monkeypatch.delenv(name)
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(state))
    # The buckets manifests name are local stand-ins (the embedded emulator's own, when embedded):
    # no test uploads to a cloud unless it asks to (tests/integration/test_content_backends.py).
    monkeypatch.setenv("RECONCILER_STAND_INS", str(state / "objects"))
    monkeypatch.setenv("CANARY_SECRET", CANARY)
    for name in ("AWS_SECRET_ACCESS_KEY", "GCS_SERVICE_ACCOUNT_JSON", "AZURE_CLIENT_SECRET"):
        monkeypatch.setenv(name, CANARY)


@pytest.fixture(autouse=True)
def forget_registered_secrets() -> Iterator[None]:
    """The scrubber's registry is process-wide (the CLI's process lives for one command): a short
    secret one test registered (an API key "k") must not mask the next test's output."""
    yield
    SECRETS.clear()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """GitHub's REST API, as the stand-in served on 127.0.0.1, with pull request PR_NUMBER open."""
    fake = FakeGitHub(token=TOKEN)
    with fake.serve():
        fake.add_pull_request(PR_NUMBER)
        yield fake

"""Choosing the target: the tenant, or the embedded emulator only where that cannot be a mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import cli
from reconciler.errors import SettingsError
from reconciler.settings import load_settings
from reconciler.target import Target, choose_target
from tests.helpers import CANARY, EXAMPLES

URL = "http://127.0.0.1:9"  # nothing listens there
KEY = "target-test-key-" + CANARY
VARIABLES = ("RECONCILER_TARGET", "ATLAN_BASE_URL", "ATLAN_API_KEY", "CI", "GITHUB_ACTIONS")
IMPLICIT = Target(embedded=True, why="No ATLAN_BASE_URL set")
EXPLICIT = Target(embedded=True, why="RECONCILER_TARGET=embedded")
OVERRIDING = Target(embedded=True, why="RECONCILER_TARGET=embedded (ATLAN_BASE_URL is ignored)")
TENANT = Target(embedded=False)
CHOOSE = (
    "set ATLAN_BASE_URL (and ATLAN_API_KEY) to use the tenant, "
    "or RECONCILER_TARGET=embedded to use the embedded emulator"
)

# (environment, the target chosen, or the SettingsError's message)
TABLE: list[tuple[dict[str, str], Target | str]] = [
    # RECONCILER_TARGET=tenant needs both
    ({"RECONCILER_TARGET": "tenant", "ATLAN_BASE_URL": URL, "ATLAN_API_KEY": KEY}, TENANT),
    ({"RECONCILER_TARGET": "tenant", "ATLAN_BASE_URL": URL, "ATLAN_API_KEY": KEY, "CI": "true"}, TENANT),
    (
        {"RECONCILER_TARGET": "tenant"},
        "ATLAN_BASE_URL and ATLAN_API_KEY are not set; "
        "RECONCILER_TARGET=tenant needs ATLAN_BASE_URL and ATLAN_API_KEY",
    ),
    (
        {"RECONCILER_TARGET": "tenant", "ATLAN_API_KEY": KEY},
        "ATLAN_BASE_URL is not set; RECONCILER_TARGET=tenant needs ATLAN_BASE_URL and ATLAN_API_KEY",
    ),
    (
        {"RECONCILER_TARGET": "tenant", "ATLAN_BASE_URL": URL},
        "ATLAN_API_KEY is not set; RECONCILER_TARGET=tenant needs ATLAN_BASE_URL and ATLAN_API_KEY",
    ),
    (
        {"RECONCILER_TARGET": "tenant", "ATLAN_BASE_URL": URL, "ATLAN_API_KEY": ""},
        "ATLAN_API_KEY is not set; RECONCILER_TARGET=tenant needs ATLAN_BASE_URL and ATLAN_API_KEY",
    ),
    # RECONCILER_TARGET=embedded always wins, and says so when a URL is set too
    ({"RECONCILER_TARGET": "embedded"}, EXPLICIT),
    ({"RECONCILER_TARGET": "embedded", "CI": "true", "ATLAN_API_KEY": KEY}, EXPLICIT),
    ({"RECONCILER_TARGET": "embedded", "GITHUB_ACTIONS": "true"}, EXPLICIT),
    ({"RECONCILER_TARGET": "Embedded", "ATLAN_BASE_URL": URL, "ATLAN_API_KEY": KEY}, OVERRIDING),
    ({"RECONCILER_TARGET": "embedded", "ATLAN_BASE_URL": URL, "CI": "true"}, OVERRIDING),
    # unset (or empty): a URL means the tenant
    ({"ATLAN_BASE_URL": URL, "ATLAN_API_KEY": KEY}, TENANT),
    ({"RECONCILER_TARGET": "", "ATLAN_BASE_URL": URL, "ATLAN_API_KEY": KEY, "CI": "true"}, TENANT),
    (
        {"ATLAN_BASE_URL": URL},
        "ATLAN_API_KEY is not set; it is needed to talk to the tenant at ATLAN_BASE_URL",
    ),
    (
        {"ATLAN_BASE_URL": URL, "CI": "true"},
        "ATLAN_API_KEY is not set; it is needed to talk to the tenant at ATLAN_BASE_URL",
    ),
    # unset, no URL: the emulator only outside CI and with no API key
    ({}, IMPLICIT),
    ({"RECONCILER_TARGET": ""}, IMPLICIT),
    ({"CI": ""}, IMPLICIT),
    ({"CI": "false", "GITHUB_ACTIONS": "False"}, IMPLICIT),
    ({"CI": "0"}, IMPLICIT),
    ({"ATLAN_API_KEY": ""}, IMPLICIT),
    (
        {"CI": "true"},
        f"ATLAN_BASE_URL is not set but CI is set, so the embedded emulator is not used without "
        f"being asked for: {CHOOSE}",
    ),
    (
        {"CI": "1"},
        f"ATLAN_BASE_URL is not set but CI is set, so the embedded emulator is not used without "
        f"being asked for: {CHOOSE}",
    ),
    (
        {"GITHUB_ACTIONS": "true", "CI": "false"},
        f"ATLAN_BASE_URL is not set but GITHUB_ACTIONS is set, so the embedded emulator is not used "
        f"without being asked for: {CHOOSE}",
    ),
    (
        {"ATLAN_API_KEY": KEY},
        f"ATLAN_BASE_URL is not set but ATLAN_API_KEY is set, so the embedded emulator is not used "
        f"without being asked for: {CHOOSE}",
    ),
    (
        {"ATLAN_API_KEY": KEY, "CI": "true", "GITHUB_ACTIONS": "true"},
        f"ATLAN_BASE_URL is not set but ATLAN_API_KEY and CI and GITHUB_ACTIONS are set, so the "
        f"embedded emulator is not used without being asked for: {CHOOSE}",
    ),
]


def _environment(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("environ", "expected"), TABLE)
def test_the_target_table(
    environ: dict[str, str], expected: Target | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(monkeypatch, environ)
    settings = load_settings()
    if isinstance(expected, Target):
        assert choose_target(settings) == expected
    else:
        with pytest.raises(SettingsError) as raised:
            choose_target(settings)
        assert str(raised.value) == expected
        assert KEY not in str(raised.value)
        assert URL not in str(raised.value)


@pytest.mark.parametrize("value", ["Tenant2", "emulator", "true"])
def test_an_unknown_target_is_a_settings_error_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_TARGET", value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == "invalid setting RECONCILER_TARGET: Input should be 'tenant' or 'embedded'"


# -- through the CLI -----------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTTP request any httpx client tries to send (to a tenant or to the embedded
    emulator); none gets an answer."""
    requests: list[str] = []

    async def refuse(self: httpx.AsyncClient, request: httpx.Request, **_: Any) -> httpx.Response:
        requests.append(f"{request.method} {request.url}")
        raise httpx.ConnectError("no request may be sent in this test", request=request)

    monkeypatch.setattr(httpx.AsyncClient, "send", refuse)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    return requests


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_in_ci_with_an_api_key_and_no_url_nothing_is_sent_and_no_emulator_is_made(
    command: str,
    sent: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(state))
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("ATLAN_API_KEY", KEY)
    argv = [command, "--auto-approve", str(EXAMPLES)] if command == "apply" else [command, str(EXAMPLES)]

    assert cli.main(argv) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: ATLAN_BASE_URL is not set but ATLAN_API_KEY and CI are set, so the embedded emulator is "
        f"not used without being asked for: {CHOOSE}\n"
    )
    assert KEY not in err
    assert sent == []
    # No emulator database: at most the manifest cache, which the manifests were read into meanwhile.
    assert not list(state.rglob("emulator.db*"))


def test_an_unknown_target_exits_1_before_anything_is_read(
    sent: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(state))
    monkeypatch.setenv("RECONCILER_TARGET", "prod-" + CANARY)
    assert cli.main(["plan", str(EXAMPLES)]) == 1
    _, err = capsys.readouterr()
    assert err == "error: invalid setting RECONCILER_TARGET: Input should be 'tenant' or 'embedded'\n"
    assert sent == []
    assert not state.exists()


def test_explicit_embedded_wins_over_a_url_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(state))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("ATLAN_BASE_URL", URL)  # refused if anything went there
    monkeypatch.setenv("ATLAN_API_KEY", KEY)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("RECONCILER_RETRIES", "0")

    assert cli.main(["plan", str(EXAMPLES)]) == 0

    out, err = capsys.readouterr()
    assert "Plan: 7 to create" in out
    assert err == (
        "RECONCILER_TARGET=embedded (ATLAN_BASE_URL is ignored): using the embedded emulator "
        f"({state / 'emulator.db'}).\n"
    )
    assert (state / "emulator.db").is_file()


def test_in_ci_the_tenant_is_used_when_configured_even_without_a_target(
    sent: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(state))
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("ATLAN_BASE_URL", URL)
    monkeypatch.setenv("ATLAN_API_KEY", KEY)
    monkeypatch.setenv("RECONCILER_RETRIES", "0")
    assert cli.main(["plan", str(EXAMPLES)]) == 1
    _, err = capsys.readouterr()
    assert sent
    assert all(request.split()[1].startswith(URL + "/") for request in sent)
    assert "embedded emulator" not in err
    assert not list(state.rglob("emulator.db*"))

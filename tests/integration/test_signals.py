"""Issue 14: Ctrl-C and SIGTERM, sent to a real `reconciler apply` process.

The apply runs as a subprocess against the emulator (real HTTP on 127.0.0.1), slowed by the
emulator's latency fault so that a request is in flight when the signal comes. The tests wait for
conditions (a prompt on the terminal, a request in the emulator's log), with a generous deadline
that only keeps a broken build from hanging; nothing is timed.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import API_KEY, Tenant

DEADLINE = 60.0  # seconds before a hung process fails the test rather than the whole run


def _until(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def _environ(tenant: Tenant | None, tmp_path: Path, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ATLAN_", "RECONCILER_"))}
    environ.pop("CI", None)
    if tenant is None:
        environ |= {"RECONCILER_TARGET": "embedded", "RECONCILER_STATE_DIR": str(tmp_path / "state")}
    else:
        # The examples' data sources upload to local stand-ins of their buckets, not to a cloud.
        environ |= {
            "ATLAN_BASE_URL": tenant.server.base_url,
            "ATLAN_API_KEY": API_KEY,
            "RECONCILER_STAND_INS": str(tmp_path / "objects"),
        }
    return environ | {"AWS_ACCESS_KEY_ID": "AKIASIGNALS", "NO_COLOR": "1", **extra}


def _reconciler(*argv: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from reconciler.cli import run; sys.exit(run())", *argv]


@pytest.fixture
def slow_apply(tenant: Tenant, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `apply --auto-approve` one write at a time, each request taking a second."""
    started: list[subprocess.Popen[str]] = []

    def start(**extra: str) -> subprocess.Popen[str]:
        tenant.faults(latency_ms=1000)
        environ = _environ(tenant, tmp_path, RECONCILER_PARALLELISM="1", **extra)
        process = subprocess.Popen(
            _reconciler("apply", "--auto-approve", str(tenant.manifests)),
            env=environ,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        # The first create answered: the apply is under way, the second create is in flight.
        _until(lambda: any(r["endpoint"].endswith("?submit=true") for r in tenant.requests()), "a create")
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_sigint_mid_apply_lets_the_write_in_flight_finish_and_reports(
    tenant: Tenant, slow_apply: Callable[..., subprocess.Popen[str]]
) -> None:
    process = slow_apply()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=DEADLINE)

    assert process.returncode == 130, err
    assert "interrupted: starting nothing new" in err
    assert "apply interrupted: run `reconciler plan` to see what is left" in err
    assert "Apply interrupted:" in out
    assert "not started" in out
    assert "Traceback" not in err
    created = len(tenant.templates())
    assert 1 <= created < 7  # the first was answered (and the one in flight, if any, finished)
    # What was left is planned and applied by the next run.
    assert tenant.apply().code == 0
    assert len(tenant.templates()) == 7


def test_a_second_signal_stops_the_write_in_flight_at_once(
    tenant: Tenant, slow_apply: Callable[..., subprocess.Popen[str]]
) -> None:
    process = slow_apply(RECONCILER_INTERRUPT_GRACE="600")
    process.send_signal(signal.SIGTERM)
    assert process.stderr is not None
    before = ""
    while "interrupted: starting nothing new" not in before:  # the first signal was handled
        line = process.stderr.readline()
        assert line, before
        before += line
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=DEADLINE)
    err = before + err

    assert process.returncode == 130, err
    assert "interrupted again: stopping the items in flight now" in err
    assert "interrupted while creating" in out or "not started" in out
    assert tenant.apply().code == 0
    assert len(tenant.templates()) == 7


def test_ctrl_c_at_the_confirmation_prompt_aborts_at_once(tmp_path: Path) -> None:
    """The first Ctrl-C at the prompt was swallowed (asyncio's handler only cancelled the task)."""
    manifests = Path(__file__).parents[2] / "manifests"
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        _reconciler("apply", str(manifests)),
        env=_environ(None, tmp_path),
        cwd=tmp_path,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    )
    os.close(secondary)
    seen = b""

    def prompted() -> bool:
        nonlocal seen
        if select.select([primary], [], [], 0.05)[0]:
            seen += os.read(primary, 4096)
        return b"Enter a value" in seen

    try:
        _until(prompted, "the confirmation prompt")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
        while select.select([primary], [], [], 0.05)[0]:
            try:
                seen += os.read(primary, 4096)
            except OSError:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
        os.close(primary)

    assert process.returncode == 130
    assert b"aborted" in seen

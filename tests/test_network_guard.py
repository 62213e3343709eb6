"""The loopback-only guard (tests/network_guard.py): a test that reaches past loopback fails, and
nothing is sent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO
from tests.network_guard import LoopbackGuard, NonLoopbackError, is_loopback

OUTSIDE = [
    ("169.254.169.254", 80),
    ("8.8.8.8", 53),
    ("2001:4860:4860::8888", 443),
    ("metadata.google.internal", 80),
]


class Recorder:
    """Stands in for the real socket call: counts what would have been sent."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, *args: Any) -> str:
        self.calls.append(args)
        return "sent"


@pytest.mark.parametrize("address", OUTSIDE)
def test_a_connection_past_loopback_is_refused_before_the_real_call(address: tuple[str, int]) -> None:
    guard, real = LoopbackGuard(), Recorder()
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with (
        socket.socket(family, socket.SOCK_STREAM) as sock,
        pytest.raises(NonLoopbackError, match="tests may reach loopback only"),
    ):
        guard.connect(real)(sock, address)
    assert real.calls == []
    assert len(guard.violations) == 1


@pytest.mark.parametrize("address", OUTSIDE)
def test_a_datagram_or_lookup_past_loopback_is_refused(address: tuple[str, int]) -> None:
    guard, real = LoopbackGuard(), Recorder()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(NonLoopbackError):
            guard.sendto(real)(sock, b"query", address)
        with pytest.raises(NonLoopbackError):
            guard.sendmsg(real)(sock, [b"query"], [], 0, address)
    with pytest.raises(NonLoopbackError):
        guard.resolver(real)(address[0], address[1])
    assert real.calls == []
    assert len(guard.violations) == 3


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "localhost", None, ""]
)
def test_loopback_gets_through(host: str | None) -> None:
    guard, real = LoopbackGuard(), Recorder()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert guard.connect(real)(sock, (host, 8080)) == "sent"
    assert guard.resolver(real)(host, 8080) == "sent"
    assert guard.violations == []
    assert is_loopback(host)


def test_a_test_that_reaches_past_loopback_fails_even_when_it_swallows_the_error(tmp_path: Path) -> None:
    (tmp_path / "test_reach.py").write_text(
        "import socket\n"
        "import urllib.request\n"
        "\n"
        "def test_asks_the_metadata_address():\n"
        "    try:\n"
        "        socket.create_connection(('169.254.169.254', 80), timeout=5)\n"
        "    except OSError:\n"
        "        pass  # as a credential chain would, on to the next source\n"
        "\n"
        "def test_sends_a_datagram_to_a_public_address():\n"
        "    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:\n"
        "        try:\n"
        "            sock.sendto(b'x', ('8.8.8.8', 53))\n"
        "        except OSError:\n"
        "            pass\n"
        "\n"
        "def test_resolves_a_public_name():\n"
        "    try:\n"
        "        urllib.request.urlopen('http://metadata.google.internal/', timeout=5)\n"
        "    except OSError:\n"
        "        pass\n"
        "\n"
        "def test_stays_on_loopback():\n"
        "    with socket.socket() as server:\n"
        "        server.bind(('127.0.0.1', 0))\n"
        "        server.listen()\n"
        "        socket.create_connection(server.getsockname(), timeout=5).close()\n",
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.network_guard", "-p", "no:cacheprovider", "-q", "-rA"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3 errors" in result.stdout
    assert "PASSED test_reach.py::test_stays_on_loopback" in result.stdout
    for name, said in [
        (
            "test_asks_the_metadata_address",
            "name lookup of '169.254.169.254'",
        ),  # create_connection resolves first
        ("test_sends_a_datagram_to_a_public_address", "datagram to ('8.8.8.8', 53)"),
        ("test_resolves_a_public_name", "name lookup of 'metadata.google.internal'"),
    ]:
        assert f"ERROR test_reach.py::{name}" in result.stdout
        assert said in result.stdout

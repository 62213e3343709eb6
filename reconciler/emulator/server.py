"""Serving the emulator over HTTP with uvicorn: in the foreground (CLI) or on a background thread (tests)."""

from __future__ import annotations

import ipaddress
import socket
import sqlite3
import threading
from collections.abc import Callable
from types import TracebackType

import uvicorn

from reconciler.emulator.app import create_app
from reconciler.emulator.config import ConfigError, EmulatorConfig
from reconciler.emulator.gateway import EmulatorApp


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int, *, allow_remote: bool = False) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port); non-loopback hosts need allow_remote."""
    if not allow_remote and not is_loopback(host):
        raise ConfigError(f"refusing to listen on non-loopback host {host!r} without --allow-remote")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it every answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(app: EmulatorApp, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def open_state(app: EmulatorApp) -> None:
    """Open the database before serving, so a bad ``--db`` (a directory, not SQLite, not writable)
    stops the server at start instead of failing every request with a 500."""
    try:
        app.emulator.store.open()
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"cannot open the state database {app.emulator.config.db_path}: {exc}") from exc


def serve(
    config: EmulatorConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    allow_remote: bool = False,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until interrupted; ``on_ready`` gets the base URL once bound."""
    app = create_app(config)
    open_state(app)
    sock = bind(host, port, allow_remote=allow_remote)
    try:
        if on_ready is not None:
            on_ready(base_url(sock))
        _server(app, log_level).run(sockets=[sock])
    finally:
        sock.close()
        app.emulator.close()


class EmulatorServer:
    """The emulator on a loopback port, served by uvicorn on a background thread.

    ::

        with EmulatorServer(EmulatorConfig(api_key="k", db_path=tmp / "e.db")) as server:
            httpx.get(server.base_url + "/")
            server.app.emulator.log.counts()
    """

    def __init__(self, config: EmulatorConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.app = create_app(config)
        self._host, self._port = host, port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> EmulatorServer:
        self._socket = bind(self._host, self._port)
        self.base_url = base_url(self._socket)
        self._server = _server(self.app, "warning")
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="emulator", daemon=True
        )
        self._thread.start()
        started = threading.Event()

        def wait() -> None:
            while not (self._server is not None and self._server.started) and self._thread is not None:
                if not self._thread.is_alive():
                    break
                started.wait(0.01)

        wait()
        if not self._server.started:
            self.stop()
            raise RuntimeError("the emulator did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
        self.app.emulator.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

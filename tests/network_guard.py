"""No test reaches past loopback (issue 16): a guard on this process's sockets.

Every connection this process opens, every datagram it sends and every name it resolves must be
loopback (127.0.0.0/8, ::1, ``localhost``) or a Unix socket. Anything else is refused before the
real call, so nothing leaves the machine, and the test that tried fails, even when the library
that tried swallowed the error (a cloud SDK falling back from one credential source to the next
would). The classic case is a cloud client left to its defaults asking the instance-metadata
address 169.254.169.254.

It sees what goes through Python's ``socket`` module: httpx, requests, urllib, asyncio. Native
clients (obstore's Rust HTTP stack) and other processes (Azurite, fake-gcs-server, pyatlan's venv)
are kept on loopback by their configuration: explicit endpoints and credentials everywhere, and
reconciler/stores/factory.py points obstore's metadata endpoints at a closed loopback port.

The fixtures are used by tests/conftest.py; ``pytest -p tests.network_guard`` loads them alone
(tests/test_network_guard.py proves the guard that way).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NonLoopbackError(OSError):
    """What a refused connection, datagram or lookup raises, instead of reaching the network."""


def is_loopback(host: object) -> bool:
    if host is None or host == "":
        return True  # getaddrinfo(None, port): the local wildcard, used to bind
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # any other name would be resolved through DNS, off the machine
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


class LoopbackGuard:
    """Wraps socket functions so that only loopback gets through; records every refusal."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def refuse(self, what: str, target: object) -> NonLoopbackError:
        message = f"{what} {target!r}: tests may reach loopback only (tests/network_guard.py)"
        with self._lock:
            self.violations.append(message)
        return NonLoopbackError(errno.ENETUNREACH, message)

    def check_address(self, what: str, sock: socket.socket, address: Any) -> None:
        if sock.family == getattr(socket, "AF_UNIX", None):
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not is_loopback(host):
            raise self.refuse(what, address)

    def connect(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(sock: socket.socket, address: Any) -> Any:
            self.check_address("connect to", sock, address)
            return real(sock, address)

        return connect

    def sendto(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
            self.check_address("datagram to", sock, args[-1])
            return real(sock, data, *args)

        return sendto

    def sendmsg(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def sendmsg(sock: socket.socket, buffers: Any, *args: Any) -> Any:
            if len(args) >= 3 and args[2] is not None:
                self.check_address("message to", sock, args[2])
            return real(sock, buffers, *args)

        return sendmsg

    def resolver(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback(host):
                raise self.refuse("name lookup of", host)
            return real(host, *args, **kwargs)

        return resolve

    @contextlib.contextmanager
    def installed(self) -> Iterator[LoopbackGuard]:
        with pytest.MonkeyPatch.context() as patch:
            for name, wrap in (
                ("connect", self.connect),
                ("connect_ex", self.connect),
                ("sendto", self.sendto),
                ("sendmsg", self.sendmsg),
            ):
                patch.setattr(socket.socket, name, wrap(getattr(socket.socket, name)))
            for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
                patch.setattr(socket, name, self.resolver(getattr(socket, name)))
            yield self


@pytest.fixture(scope="session", autouse=True)
def loopback_guard() -> Iterator[LoopbackGuard]:
    """The guard, installed for the whole session (session fixtures' servers included)."""
    with LoopbackGuard().installed() as guard:
        yield guard


@pytest.fixture(autouse=True)
def loopback_only(loopback_guard: LoopbackGuard) -> Iterator[None]:
    """Fail the test if anything it ran tried to reach past loopback."""
    seen = len(loopback_guard.violations)
    yield
    tried = loopback_guard.violations[seen:]
    if tried:
        pytest.fail("reached past loopback:\n" + "\n".join(tried), pytrace=False)

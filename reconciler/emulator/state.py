"""The state behind one app: store, object stores, clock, faults, request log, live settings and the
search cache."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from typing import Any

from starlette.types import Scope

from reconciler.emulator.catalog import Catalog
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.faults import FaultInjector, RequestLog
from reconciler.emulator.imports.run import Execution, execute
from reconciler.emulator.match_cache import SortedMatches
from reconciler.emulator.objects import ObjectStore
from reconciler.emulator.presign import Presigner
from reconciler.emulator.runs import RunEntry
from reconciler.emulator.store import RunSettings, Store


@dataclass
class Settings:
    """The parts of the configuration the admin endpoint may change while the emulator runs."""

    role: str
    username: str
    run_seconds: float
    pending_seconds: float
    failure_rate: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Emulator:
    """The state behind one app: store, object stores, clock, faults, request log and live settings."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.store = Store(config.db_path)
        self.catalog = Catalog(config.db_path)
        self.objects = ObjectStore(config.objects_root())
        self.presigner = Presigner(config.api_key)
        self.faults = FaultInjector(config.faults, config.seed)
        self.log = RequestLog(config.request_log_limit, config.request_log_body_bytes)
        self.settings = Settings(
            config.role, config.username, config.run_seconds, config.pending_seconds, config.failure_rate
        )
        self._key = config.api_key.encode()
        self.sorted_matches = SortedMatches(self.store.version)
        self._importing = threading.Lock()  # one import at a time: each sees the last one's catalog

    def authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)
        return False

    def run_settings(self) -> RunSettings:
        s = self.settings
        return RunSettings(s.run_seconds, s.pending_seconds, s.failure_rate, self.config.seed)

    def execute_import(self, run: RunEntry) -> Execution:
        """Carry out an import run just submitted (blocking: call it off the event loop)."""
        with self._importing:
            return execute(
                run.name,
                run.source,
                objects=self.objects,
                catalog=self.catalog,
                now=self.clock.now(),
                username=self.settings.username,
            )

    def close(self) -> None:
        self.store.close()
        self.catalog.close()
        self.objects.close()

"""Configuration of one emulator instance: where its state lives, who the caller is, what goes wrong."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.emulator.clock import Clock

API_TOKEN_ROLE = "$api-token-default-access"  # noqa: S105 - a role name, not a secret
FAULT_KINDS = ("500", "502", "503", "504", "429", "drop", "lost-500", "lost-503", "lost-drop")
LOST_MODES = ("500", "502", "503", "504", "drop")


class ConfigError(ValueError):
    """A configuration value (CLI flag or admin request) is out of range or unknown."""


@dataclass
class ScriptedFault:
    """Fail the next ``times`` requests that match ``method`` and the ``path`` regex (searched).

    ``fault`` is a status ("500", "502", "503", "504", "429"), "drop" (connection closed, nothing
    answered), or "lost-<status>"/"lost-drop" (the request is carried out and committed, then the
    answer is replaced by that status or a dropped connection).
    """

    fault: str
    path: str = ""
    method: str = ""
    times: int = 1

    def __post_init__(self) -> None:
        if self.fault not in FAULT_KINDS:
            raise ConfigError(f"fault must be one of {', '.join(FAULT_KINDS)}, not {self.fault!r}")
        if self.times < 1:
            raise ConfigError("times must be at least 1")
        try:
            re.compile(self.path)
        except re.error as exc:
            raise ConfigError(f"path is not a valid regular expression: {exc}") from exc
        self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        return (not self.method or self.method == method) and re.search(self.path, path) is not None


@dataclass
class FaultConfig:
    """Knobs that make the API slow or unreliable. Every random draw comes from a seeded generator.

    Rates are fractions of API requests (0.0-1.0). The admin endpoint and ``GET /`` never fault.
    """

    latency_ms: float = 0.0
    """Fixed delay added to every API request."""
    jitter_ms: float = 0.0
    """Extra delay drawn uniformly from [0, jitter_ms]."""
    error_rate_500: float = 0.0
    error_rate_503: float = 0.0
    error_rate_429: float = 0.0
    """Fraction of API requests refused with 429 and a ``Retry-After`` of the rate-limit window."""
    drop_rate: float = 0.0
    """Fraction of requests whose connection is closed without an answer (nothing is carried out)."""
    lost_response_rate: float = 0.0
    """Fraction of writes (every POST but the searches) carried out and committed, then not answered."""
    lost_response_mode: str = "503"
    """What the client gets for a lost response: "500", "502", "503", "504" or "drop"."""
    rate_limit: int = 0
    """At most this many API requests in any ``rate_limit_window_seconds`` (0 = unlimited); more get 429."""
    rate_limit_window_seconds: float = 1.0
    script: list[ScriptedFault] = field(default_factory=list)
    """Deterministic faults for the next matching requests, consumed in order."""

    def __post_init__(self) -> None:
        for name in ("error_rate_500", "error_rate_503", "error_rate_429", "drop_rate", "lost_response_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be between 0 and 1, not {value}")
        for name in ("latency_ms", "jitter_ms"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if self.error_rate_500 + self.error_rate_503 + self.error_rate_429 + self.drop_rate > 1.0:
            raise ConfigError(
                "error_rate_500 + error_rate_503 + error_rate_429 + drop_rate must not exceed 1"
            )
        if self.lost_response_mode not in LOST_MODES:
            raise ConfigError(f"lost_response_mode must be one of {', '.join(LOST_MODES)}")
        if self.rate_limit < 0 or self.rate_limit_window_seconds <= 0:
            raise ConfigError("rate_limit must be >= 0 and rate_limit_window_seconds > 0")
        self.script = [s if isinstance(s, ScriptedFault) else ScriptedFault(**s) for s in self.script]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], base: FaultConfig | None = None) -> FaultConfig:
        """``base`` (or the defaults) with the keys of ``data`` replaced; unknown keys are refused."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown fault setting(s): {', '.join(unknown)}")
        merged = (base or cls()).to_json()
        merged.update(data)
        try:
            script = [ScriptedFault(**item) for item in merged.pop("script")]
            return cls(**merged, script=script)
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc


@dataclass
class EmulatorConfig:
    """Everything ``create_app`` needs. Only ``api_key`` has no usable default."""

    api_key: str
    db_path: Path | str = ":memory:"
    """SQLite file holding the state; ":memory:" keeps it for the life of the app only."""
    run_seconds: float = 30.0
    """How long a run takes from submission to its final phase."""
    pending_seconds: float = 1.0
    """How long a run stays Pending before Running (capped at run_seconds)."""
    failure_rate: float = 0.0
    """Fraction of runs that end Failed instead of Succeeded (decided per run, deterministically)."""
    role: str = API_TOKEN_ROLE
    """The role whoami reports; "$api-token-default-access" or "$admin" make pyatlan use workflows/*."""
    username: str = "service-account-apikey-emulator"
    seed: int = 0
    faults: FaultConfig = field(default_factory=FaultConfig)
    clock: Clock = field(default_factory=Clock)
    max_body_bytes: int = 8 * 1024 * 1024
    """Largest request body accepted (8 MiB); a larger one is answered 413 without being read whole."""
    max_object_bytes: int = 512 * 1024 * 1024
    """Largest object a PUT stores (512 MiB), to a presigned URL or the admin endpoint; larger is
    answered 413. Uploads go straight to disk, so memory holds one chunk at a time whatever this is."""
    objects_dir: Path | str | None = None
    """Where the object stores keep their files (layout in ``objects.py``). None: ``objects``
    beside ``db_path``, or, for ":memory:", a temporary directory removed when the app closes."""
    max_json_depth: int = 64
    """Deepest nesting of arrays and objects accepted in a request body; deeper is answered 400."""
    request_log_limit: int = 10_000
    """How many request records the admin log keeps, the oldest dropped first (the counts are never
    trimmed)."""
    request_log_body_bytes: int = 16 * 1024 * 1024
    """How many bytes of request bodies the log keeps in all (16 MiB): older records lose their body
    first; a body over 64 KiB is logged as its size only."""
    run_imports: bool = True
    """Carry out asset-import and lineage-builder runs when they are submitted: read their files,
    load the catalog, end Failed if the import fails (imports/run.py). False: runs are only
    accepted, and end as ``failure_rate`` decides (the scale benchmarks)."""

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ConfigError("api_key must not be empty")
        for name in (
            "max_body_bytes",
            "max_object_bytes",
            "max_json_depth",
            "request_log_limit",
            "request_log_body_bytes",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.run_seconds < 0 or self.pending_seconds < 0:
            raise ConfigError("run_seconds and pending_seconds must not be negative")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ConfigError("failure_rate must be between 0 and 1")

    def objects_root(self) -> Path | None:
        if self.objects_dir is not None:
            return Path(self.objects_dir)
        if str(self.db_path) == ":memory:":
            return None
        return Path(self.db_path).parent / "objects"

    def __repr__(self) -> str:  # the key never appears in reprs or logs
        return f"EmulatorConfig(db_path={self.db_path!r}, role={self.role!r}, run_seconds={self.run_seconds})"

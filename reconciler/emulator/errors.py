"""Error answers, shaped the way pyatlan parses them (errorCode, errorMessage, errorCause, causes)."""

from __future__ import annotations

import json
from typing import Any

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiProblem(Exception):
    """Raised anywhere in the emulator to answer with an error status and an Atlan-style body."""

    def __init__(self, status: int, message: str, *, cause: str = "", extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.cause = cause or _REASONS.get(status, "Error")
        self.extra = extra or {}


def error_body(status: int, message: str, *, cause: str = "", extra: dict[str, Any] | None = None) -> bytes:
    """The JSON error body: pyatlan raises the exception class mapped to ``status`` with ``message``."""
    reason = cause or _REASONS.get(status, "Error")
    body: dict[str, Any] = {
        "errorCode": f"ATLAN-EMULATOR-{status}-000",
        "errorMessage": message,
        "errorCause": reason,
        "causes": [{"errorType": reason, "errorMessage": message, "location": "emulator"}],
        "status": status,
        "message": message,
    }
    if extra:
        body.update(extra)
    return json.dumps(body).encode()


def problem_body(problem: ApiProblem) -> bytes:
    return error_body(problem.status, problem.message, cause=problem.cause, extra=problem.extra)

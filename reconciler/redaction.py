"""The last line of defence for secrets: scrub known secret values from anything printed or logged.

Secrets are masked where they are produced (compiled payloads are redacted before rendering), so
this registry should never find anything. It exists because "never" must hold even for text we
did not foresee: an exception message quoting a request, a log line from a library. Every value
resolved from a secret field is registered, and the CLI's writers and log handler scrub with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

MASK = "***"


class SecretRegistry:
    """A set of secret strings to scrub from text; thread-safe, add-only."""

    def __init__(self) -> None:
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            self._secrets = self._secrets | {v for v in values if v}

    def scrub(self, text: str) -> str:
        # Longest first, so a secret containing another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def clear(self) -> None:
        with self._lock:
            self._secrets = frozenset()


SECRETS = SecretRegistry()


class ScrubbingFilter(logging.Filter):
    """A logging filter that scrubs registered secrets from each record's final message."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__()
        self.registry = registry

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.registry.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True

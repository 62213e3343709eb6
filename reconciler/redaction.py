"""The last line of defence for secrets: scrub known secret values from anything printed or logged.

Secrets are kept out of output structurally (compiled payloads are redacted, values from the
environment are shown as their ``${env:NAME}`` reference, plans never hold either), so this
registry should never find anything. It exists because "never" must hold even for text we did not
foresee: an exception message quoting a request, a log line from a library.

Each secret is looked for as written and as JSON and Python's ``repr`` escape it (a secret with a
quote, a backslash or a newline is written differently inside a JSON string or a traceback). Text
that is a JSON document is scrubbed token by token, inside strings and scalars only, so that the
output stays valid JSON whatever the secret is (one character, a quote, a brace).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable

MASK = "***"
# A JSON string literal, or a run of anything else between them (punctuation, numbers, literals).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_SCALAR = re.compile(r"[^\s{}\[\],:]+")
# What every JSON document is made of: a secret of these alone cannot be told from the structure.
_JSON_STRUCTURE = ' \t\r\n{}[],:"\\'


def escaped_forms(secret: str) -> frozenset[str]:
    """``secret`` as written, and as JSON (with and without ASCII escapes) and ``repr`` write it."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
    }
    return frozenset(form for form in forms if form)


class SecretRegistry:
    """A set of secret strings to scrub from text; thread-safe, add-only."""

    def __init__(self) -> None:
        self._forms: tuple[str, ...] = ()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        """Register secrets. A blank value cannot be a secret (the compiler refuses it where a
        manifest needs one), and scrubbing it would mask all text: it is ignored here."""
        with self._lock:
            self._secrets = self._secrets | {v for v in values if v and v.strip()}
            forms = {form for secret in self._secrets for form in escaped_forms(secret)}
            # Longest first, so a secret containing another is masked whole.
            self._forms = tuple(sorted(forms, key=len, reverse=True))

    def found_in(self, text: str) -> bool:
        return any(form in text for form in self._forms)

    def scrub(self, text: str) -> str:
        """``text`` without any registered secret; a JSON document stays a valid JSON document."""
        if not self._forms or not self.found_in(text):
            return text
        if text.lstrip()[:1] in ("{", "["):
            try:
                json.loads(text)
            except ValueError:
                pass
            else:
                scrubbed = self._scrub_json(text)
                if any(form in scrubbed for form in self._forms if form.strip(_JSON_STRUCTURE)):
                    # Only the document's own structure spells the secret now (a secret of braces
                    # and commas, or one spanning several values): nothing of it can be shown.
                    # The notice is scrubbed too: a one-letter secret may be in its words.
                    return (
                        json.dumps({"error": self._replace("output withheld: it contained a secret")}) + "\n"
                    )
                return scrubbed
        return self._replace(text)

    def _replace(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def _scrub_json(self, text: str) -> str:
        parts: list[str] = []
        position = 0
        for match in _JSON_STRING.finditer(text):
            parts.append(self._scrub_json_scalars(text[position : match.start()]))
            token = match.group()
            if self.found_in(token):
                value: str = json.loads(token)
                token = json.dumps(self._replace(value), ensure_ascii=False)
            parts.append(token)
            position = match.end()
        parts.append(self._scrub_json_scalars(text[position:]))
        return "".join(parts)

    def _scrub_json_scalars(self, text: str) -> str:
        # A number or literal holding a secret (a secret of digits) becomes the string "***";
        # punctuation and whitespace are the document's structure and stay.
        if not self.found_in(text):
            return text
        return _JSON_SCALAR.sub(lambda m: json.dumps(MASK) if self.found_in(m.group()) else m.group(), text)

    def clear(self) -> None:
        with self._lock:
            self._secrets = frozenset()
            self._forms = ()


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

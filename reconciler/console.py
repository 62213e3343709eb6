"""Where the CLI's words go: stdout for results, stderr for diagnostics, secrets scrubbed from both."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from reconciler.redaction import SECRETS
from reconciler.render.escape import terminal_text


def _write(stream: TextIO, text: str) -> None:
    stream.write(SECRETS.scrub(text))
    if not text.endswith("\n"):
        stream.write("\n")
    stream.flush()


def out(text: str) -> None:
    """Write a result (a plan, a rendering) to stdout."""
    _write(sys.stdout, text)


def err(text: str) -> None:
    """Write a diagnostic (an error, a progress note) to stderr.

    Diagnostics quote what others wrote (file names, workflow names from the tenant, a reviewed
    plan's differences) and are never coloured: every control character and bidi override in
    them is shown escaped, so no value can recolour, overwrite or reorder a line."""
    _write(sys.stderr, "\n".join(terminal_text(line) for line in text.split("\n")))


def color_enabled(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    stream = stream or sys.stdout
    return stream.isatty() and "NO_COLOR" not in os.environ

"""Opening the emulator's SQLite files one way: the state (store.py), the catalog (catalog.py) and
the object index (objects.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

MEMORY = ":memory:"


def connect(path: Path | str, schema: str, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection to ``path`` (``":memory:"`` for none) with ``schema`` applied: usable from any
    thread (callers hold their own lock), transactions explicit (``BEGIN``), and for a file, WAL so
    that several processes can share it, its directory made private (0700) if missing."""
    if str(path) != MEMORY:
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
    if str(path) != MEMORY:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.executescript(schema)
    return conn

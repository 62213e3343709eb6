"""Files the CLI writes (``plan --out``, ``export -o``, ``render --files``): whole or not at all,
and errors in words.

Each file is written to a temporary file beside its target, flushed to disk, and renamed over
the target, so an interrupted or failed write never leaves a half-written plan or manifest. A
failure removes the temporary files (and any directory this call created) and becomes one
``ReconcilerError`` naming the path and what is wrong.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from reconciler.errors import ReconcilerError

# Writes one file's bytes into the handle it is given (a temporary file beside the target).
Writer = Callable[[IO[bytes]], object]


def write_text_files(files: Sequence[tuple[Path, str]], *, make_parents: bool = False) -> None:
    """Write every ``(path, text)`` as UTF-8; all of them, or none (see ``write_files``)."""
    write_files([(path, _text(text)) for path, text in files], make_parents=make_parents)


def _text(text: str) -> Writer:
    return lambda handle: handle.write(text.encode("utf-8"))


def write_files(
    files: Sequence[tuple[Path, Writer]],
    *,
    make_parents: bool = False,
    ready: Callable[[], object] | None = None,
) -> None:
    """Write every ``(path, writer)``: each writer streams its file's bytes into the handle it is
    given. All of them are written, or none when something is in the way.

    Every temporary file is written before the first rename, so a full disk or a missing
    permission changes no target; ``ready`` is called then, a last check before any rename. An
    exception from a writer or from ``ready`` removes what this call wrote and propagates as
    raised. With ``make_parents`` the missing directories are created first (and removed again
    if the write fails); without, a missing directory is an error.
    """
    created: list[Path] = []
    temporaries: list[Path] = []
    target = files[0][0] if files else Path()
    try:
        if make_parents:
            for directory in dict.fromkeys(path.parent for path, _ in files):
                target = directory
                # Noted before mkdir, which may fail half-way down, so that none is left behind.
                created += reversed([p for p in (directory, *directory.parents) if not os.path.lexists(p)])
                if directory.exists() and not directory.is_dir():
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
                directory.mkdir(parents=True, exist_ok=True)
        for target, write in files:
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
            temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
            # 0o666 like open(): the umask decides, as for any file the user writes.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            temporaries.append(temporary)
            with open(descriptor, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
        if ready is not None:
            ready()
        for (target, _), temporary in zip(files, temporaries, strict=True):
            os.replace(temporary, target)
    except OSError as exc:
        _remove(temporaries, created)
        raise ReconcilerError(f"cannot write {target}: {reason(exc, target)}") from exc
    except BaseException:
        _remove(temporaries, created)
        raise


def _remove(temporaries: Sequence[Path], created: Sequence[Path]) -> None:
    for leftover in temporaries:
        with contextlib.suppress(OSError):
            leftover.unlink()
    for directory in reversed(created):
        with contextlib.suppress(OSError):
            directory.rmdir()


def reason(exc: OSError, target: Path) -> str:
    """What is wrong, in words, when ``exc`` was raised writing (or creating) ``target``."""
    if isinstance(exc, FileNotFoundError):
        return f"the directory {target.parent} does not exist (create it first)"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        # The target or one of its parents is a file: name the one in the way.
        blocking = next(
            (p for p in reversed((target, *target.parents)) if p.exists() and not p.is_dir()), target
        )
        return "it is not a directory" if blocking == target else f"{blocking} is not a directory"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()  # e.g. "no space left on device", "read-only file system"

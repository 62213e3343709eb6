"""What ``reconciler apply`` shows on stderr while it runs (``reconciler.apply.ApplyProgress``).

On a terminal: a live rich display (a spinner, a bar, the counts and the items in flight),
cleared when the apply ends, so only the results table stays. Anywhere else (CI logs, a pipe, a
file): a plain line at most every ``every`` seconds and one at the end, such as
``apply: 37/120 finished, 1 failed, 4 in progress``. ``progress_for`` picks one.

Both are driven from the event loop and must never stop an apply: a display that cannot be
written is dropped, not raised.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.errors import LiveError
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from reconciler.apply import ApplyProgress, ItemResult, Outcome
from reconciler.render.escape import terminal_text

logger = logging.getLogger(__name__)

Clock = Callable[[], float]

# Outcomes worth a count of their own in a progress line; the others are just "finished".
_NOTED: tuple[Outcome, ...] = ("failed", "skipped", "interrupted", "not started")
# An interrupted item and one never started did not finish: counted apart from the finished.
_CUT_SHORT: frozenset[Outcome] = frozenset({"interrupted", "not started"})


@dataclass
class Tally:
    """Where an apply stands: its size, the items in flight (in start order) and the outcomes."""

    total: int = 0
    in_flight: dict[str, None] = field(default_factory=dict)
    outcomes: Counter[Outcome] = field(default_factory=Counter)

    def started(self, address: str) -> None:
        self.in_flight[address] = None

    def finished(self, result: ItemResult) -> None:
        self.in_flight.pop(result.address, None)
        self.outcomes[result.outcome] += 1

    @property
    def reported(self) -> int:
        """Items with a result, whatever it is."""
        return sum(self.outcomes.values())

    def line(self) -> str:
        """``apply: 37/120 finished, 1 failed, 4 in progress``: only the counts that are not zero."""
        finished = sum(n for outcome, n in self.outcomes.items() if outcome not in _CUT_SHORT)
        parts = [f"{finished}/{self.total} finished"]
        parts += [f"{self.outcomes[o]} {o}" for o in _NOTED if self.outcomes[o]]
        if self.in_flight:
            parts.append(f"{len(self.in_flight)} in progress")
        return "apply: " + ", ".join(parts)


def in_flight_line(addresses: Iterable[str], *, shown: int) -> str:
    """The first ``shown`` items in flight, escaped, and how many more."""
    names = list(addresses)
    if not names:
        return ""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return "  in progress: " + ", ".join(terminal_text(name) for name in names[:shown]) + more


class _Tallied:
    """Keeps the tally of an apply; a subclass shows it (``_changed``) each time it changes."""

    def __init__(self) -> None:
        self._tally = Tally()

    def started(self, address: str) -> None:
        self._tally.started(address)
        self._changed()

    def finished(self, result: ItemResult) -> None:
        self._tally.finished(result)
        self._changed()

    def _changed(self) -> None:
        raise NotImplementedError


class LineProgress(_Tallied):
    """Plain lines for a log: at most one every ``every`` seconds of ``clock``, and one at the end.

    Lines are written when the apply reports something, never from a timer: a quiet stretch
    (one slow request) prints nothing until it ends.
    """

    def __init__(self, stream: TextIO, *, every: float = 10.0, clock: Clock = time.monotonic) -> None:
        super().__init__()
        self._stream = stream
        self._every = every
        self._clock = clock
        self._last = 0.0
        self._begun = False

    def begin(self, total: int) -> None:
        self._tally.total = total
        self._last = self._clock()
        self._begun = True

    def end(self) -> None:
        if self._begun:
            self._begun = False  # one closing line, even if end() is called again
            self._write()

    def _changed(self) -> None:
        now = self._clock()
        if self._begun and now - self._last >= self._every:
            self._last = now
            self._write()

    def _write(self) -> None:
        try:
            self._stream.write(self._tally.line() + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr: the apply goes on without it
            self._every = float("inf")


class _Display(Progress):
    """rich's progress bar, with one line under it naming the items in flight."""

    def __init__(self, *columns: str | ProgressColumn, **options: Any) -> None:
        self.in_flight = Text()  # before rich's __init__, which renders once
        super().__init__(*columns, **options)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield from super().get_renderables()
        if self.in_flight:
            yield self.in_flight


class TerminalProgress(_Tallied):
    """A live display on a terminal, redrawn by rich's own thread a few times a second and cleared
    at ``end()``. While it runs, what is written to stderr (log lines) scrolls above it.
    """

    def __init__(
        self, console: Console, *, clock: Clock = time.monotonic, auto_refresh: bool = True, shown: int = 3
    ) -> None:
        super().__init__()
        self._shown = shown
        self._display = _Display(
            SpinnerColumn(),
            BarColumn(),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,  # results belong on stdout, even when it is piped elsewhere
            auto_refresh=auto_refresh,
            refresh_per_second=4,
            get_time=clock,
        )
        self._task = self._display.add_task("", start=False, visible=False)
        self._live = False

    def begin(self, total: int) -> None:
        self._tally.total = total
        try:
            self._display.start()
        except (LiveError, OSError, ValueError) as exc:  # another live display, or no terminal left
            logger.debug("no progress display: %s", exc)
            return
        self._live = True
        self._display.start_task(self._task)
        self._changed()

    def end(self) -> None:
        if self._live:
            self._live = False
            try:
                self._display.stop()
            except (OSError, ValueError) as exc:  # the terminal went away: nothing left to clear
                logger.debug("progress display not cleared: %s", exc)

    def refresh(self) -> None:
        """Draw now (rich's thread otherwise does, a few times a second)."""
        if self._live:
            self._display.refresh()

    def _changed(self) -> None:
        if not self._live:
            return
        line = in_flight_line(self._tally.in_flight, shown=self._shown)
        self._display.in_flight = Text(line, no_wrap=True, overflow="ellipsis")
        self._display.update(
            self._task,
            description=self._tally.line(),
            total=self._tally.total,
            completed=self._tally.reported,
            visible=True,
        )


def _is_ci(environ: Mapping[str, str]) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def progress_for(
    stream: TextIO,
    *,
    is_terminal: bool,
    environ: Mapping[str, str] = os.environ,
    clock: Clock = time.monotonic,
    every: float = 10.0,
) -> ApplyProgress:
    """The live display when ``stream`` is a terminal (``is_terminal``: it is a TTY) that can draw
    one (TERM is not ``dumb``) and this is not a CI job (CI=true: its log is read later, where a
    redrawn display is noise); plain lines otherwise."""
    if is_terminal and environ.get("TERM", "").lower() != "dumb" and not _is_ci(environ):
        return TerminalProgress(Console(file=stream, force_terminal=True), clock=clock)
    return LineProgress(stream, every=every, clock=clock)

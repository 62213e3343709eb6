"""Issue 14: what `reconciler apply` shows on stderr while it runs (reconciler/commands/_progress.py).

Fake clocks and in-memory streams only: nothing waits, no thread draws (auto_refresh off).
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from reconciler.apply import ItemResult, Outcome
from reconciler.commands._progress import LineProgress, Tally, TerminalProgress, progress_for
from reconciler.plan.model import Action

CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def item(name: str, outcome: Outcome = "done") -> ItemResult:
    return ItemResult(f"AssetImport.{name}", f"wf-{name}", (Action.CREATE,), outcome)


# -- the counts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "running", "line"),
    [
        ([], 0, "apply: 0/120 finished"),
        (
            ["done"] * 30 + ["unchanged"] * 6 + ["failed"],
            4,
            "apply: 37/120 finished, 1 failed, 4 in progress",
        ),
        (["done", "skipped", "already running"], 0, "apply: 3/120 finished, 1 skipped"),
        (
            ["done"] * 3 + ["interrupted"] + ["not started"] * 116,
            0,
            "apply: 3/120 finished, 1 interrupted, 116 not started",
        ),
    ],
)
def test_the_progress_line_counts_what_matters(outcomes: list[Outcome], running: int, line: str) -> None:
    tally = Tally(total=120)
    for number in range(running):
        tally.started(f"AssetImport.r{number}")
    for number, outcome in enumerate(outcomes):
        tally.finished(item(f"i{number}", outcome))
    assert tally.line() == line


def test_an_item_leaves_the_flight_when_it_finishes() -> None:
    tally = Tally(total=2)
    tally.started("AssetImport.a")
    tally.started("AssetImport.b")
    tally.finished(item("a"))
    assert list(tally.in_flight) == ["AssetImport.b"]
    assert tally.reported == 1


# -- plain lines for CI logs --------------------------------------------------------------------


def test_plain_lines_at_most_every_ten_seconds_and_one_at_the_end() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = LineProgress(stream, clock=clock)
    progress.begin(5)
    progress.started("AssetImport.a")
    clock.now += 9.9
    progress.started("AssetImport.b")
    assert stream.getvalue() == ""  # not ten seconds yet

    clock.now += 0.1
    progress.finished(item("a"))
    clock.now += 5
    progress.finished(item("b", "failed"))
    progress.started("AssetImport.c")
    assert stream.getvalue() == "apply: 1/5 finished, 1 in progress\n"

    clock.now += 5
    progress.finished(item("c"))
    for name in ("d", "e"):
        progress.finished(item(name, "unchanged"))
    progress.end()
    assert stream.getvalue().splitlines() == [
        "apply: 1/5 finished, 1 in progress",
        "apply: 3/5 finished, 1 failed",
        "apply: 5/5 finished, 1 failed",
    ]


def test_the_interval_is_injectable() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = LineProgress(stream, clock=clock, every=1)
    progress.begin(3)
    for name in ("a", "b", "c"):
        clock.now += 1
        progress.finished(item(name))
    assert len(stream.getvalue().splitlines()) == 3


def test_a_stopped_apply_ends_with_what_it_cut_short() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream, clock=Clock())
    progress.begin(4)
    progress.started("AssetImport.a")
    progress.finished(item("a", "interrupted"))
    progress.finished(item("b"))
    progress.finished(item("c", "not started"))
    progress.finished(item("d", "not started"))
    progress.end()
    progress.end()
    assert stream.getvalue() == "apply: 1/4 finished, 1 interrupted, 2 not started\n"


def test_a_closed_stream_does_not_stop_the_apply() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = LineProgress(stream, clock=clock)
    progress.begin(2)
    stream.close()
    clock.now += 60
    progress.finished(item("a"))
    progress.end()  # nothing raised


# -- the live display on a terminal -------------------------------------------------------------


def terminal(width: int = 100) -> tuple[TerminalProgress, Console, Clock]:
    clock = Clock()
    console = Console(file=io.StringIO(), force_terminal=True, width=width, color_system=None)
    return TerminalProgress(console, clock=clock, auto_refresh=False), console, clock


def last_frame(console: Console) -> list[str]:
    """The lines of the last frame drawn (rich moves the cursor up and erases before each)."""
    assert isinstance(console.file, io.StringIO)
    written = console.file.getvalue()
    frame = re.split(r"\r?\x1b\[2K", written)[-1] if "\x1b[2K" in written else written
    return [line for line in CSI.sub("", frame.replace("\r", "")).splitlines() if line.strip()]


def test_the_display_shows_a_bar_the_counts_and_the_items_in_flight() -> None:
    progress, console, clock = terminal()
    progress.begin(10)
    for name in ("a", "b", "c", "d", "e"):
        progress.started(f"AssetImport.{name}")
    progress.finished(item("a"))
    progress.finished(item("b", "failed"))
    progress.finished(item("z", "unchanged"))
    clock.now += 65
    progress.refresh()

    lines = "\n".join(last_frame(console))
    assert "apply: 3/10 finished, 1 failed, 3 in progress" in lines
    assert "━" in lines  # the bar
    assert "0:01:05" in lines  # time elapsed, by the injected clock
    assert "in progress: AssetImport.c, AssetImport.d, AssetImport.e" in lines


def test_the_display_names_a_few_items_and_counts_the_rest() -> None:
    progress, console, _ = terminal()
    progress.begin(10)
    for name in "abcdef":
        progress.started(f"AssetImport.{name}")
    progress.refresh()
    assert "in progress: AssetImport.a, AssetImport.b, AssetImport.c and 3 more" in last_frame(console)[-1]


def test_a_hostile_address_in_flight_is_shown_inert() -> None:
    progress, console, _ = terminal(width=200)
    progress.begin(1)
    progress.started("AssetImport.\x1b[31mred\x1b[2J[bold]x[/bold]\u202eevil")
    progress.refresh()
    assert isinstance(console.file, io.StringIO)
    written = console.file.getvalue()
    for raw in ("\x1b[31m", "\x1b[2J", "\u202e"):
        assert raw not in written
    assert "AssetImport.\\x1b[31mred\\x1b[2J[bold]x[/bold]\\u202eevil" in last_frame(console)[-1]


def test_the_display_is_cleared_at_the_end() -> None:
    progress, console, _ = terminal()
    progress.begin(2)
    progress.started("AssetImport.a")
    progress.refresh()
    progress.end()
    assert isinstance(console.file, io.StringIO)
    written = console.file.getvalue()
    # Transient: the last thing written moves up over the display and erases its lines.
    assert written.endswith("\x1b[1A\x1b[2K")
    progress.finished(item("a"))  # after the end: nothing drawn, nothing raised
    progress.end()
    assert console.file.getvalue() == written


# -- which one -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_terminal", "environ", "kind"),
    [
        (True, {"TERM": "xterm-256color"}, TerminalProgress),
        (True, {}, TerminalProgress),
        (True, {"TERM": "xterm", "CI": "false"}, TerminalProgress),
        (False, {"TERM": "xterm-256color"}, LineProgress),
        (True, {"TERM": "dumb"}, LineProgress),
        (True, {"TERM": "xterm", "CI": "true"}, LineProgress),
        (True, {"TERM": "xterm", "CI": "1"}, LineProgress),
    ],
)
def test_a_live_display_only_on_a_terminal_that_can_draw_it_outside_ci(
    is_terminal: bool, environ: dict[str, str], kind: type[object]
) -> None:
    assert type(progress_for(io.StringIO(), is_terminal=is_terminal, environ=environ)) is kind


def test_the_factorys_clock_paces_the_plain_lines() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = progress_for(stream, is_terminal=False, environ={}, clock=clock, every=2)
    progress.begin(2)
    clock.now += 2
    progress.finished(item("a"))
    assert stream.getvalue() == "apply: 1/2 finished\n"

"""Problems found in one file, collected so that all of them are reported at once."""

from __future__ import annotations

from reconciler.errors import DataError, Problem

# A file with a systematic mistake has one problem per row: the first ones say enough.
MAX_PROBLEMS = 100


class Problems:
    """The problems of one file (its ``display`` name is how messages name it), up to a limit."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.found: list[Problem] = []
        self.omitted = 0

    def add(self, line: int, path: str, message: str, *, column: int = 0) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(Problem(self.display, line, column, path, message))
        else:
            self.omitted += 1

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_any(self, *others: Problems) -> None:
        """Raise one ``DataError`` with these problems (and ``others``'), in file and line order."""
        logs = (self, *others)
        found = [problem for log in logs for problem in log.found]
        if found:
            found.sort(key=lambda p: (p.file != self.display, p.file, p.line))
            raise DataError(found, omitted=sum(log.omitted for log in logs))

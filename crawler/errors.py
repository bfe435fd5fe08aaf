"""The one exception tree of lastseen.

Every error the tool raises on purpose derives from :class:`LastseenError`;
third-party exceptions are translated where they enter (``raise X from exc``).
An alert sink that fails is not an error: its failure is a result, recorded in
``run.alerts`` (see :mod:`crawler.alerts`).
The CLI turns any of them into a one-line ``Error: ...`` and an exit status::

    LastseenError                  exit 1 unless a subclass says otherwise
    ├── WatchlistError             exit 2: the watchlist is invalid (lists every problem)
    ├── UsageError                 exit 2: bad command-line arguments (e.g. --only matches nothing)
    │   └── EventIdError           exit 2: not an event id (<run id>:<target name>), or no such event
    ├── SigningError               exit 2: a signing key that cannot be made or used (docs/evidence.md)
    ├── LockedError                exit 3: another run holds the archive's lock
    ├── ArchiveError               exit 1: the archive (WARC files, SQLite index) cannot be written or read
    ├── FetchError                 exit 1: the fetcher itself failed (not a target: targets' errors are captures)
    ├── ExtractError               a body cannot be decoded (stored on the capture, never raised out of a run)
    ├── BrowserNotFoundError       exit 1: no Chromium to drive (says how to install one)
    └── RunInterrupted             exit 130 (SIGINT) / 143 (SIGTERM): a run stopped cleanly on a signal

Not an error: ``lastseen verify`` exits 4 when the archive does not hold against its custody log (it
prints each problem; :data:`crawler.cli_verify.EXIT_PROBLEMS`).
"""

from __future__ import annotations


class LastseenError(Exception):
    """Base class of every error lastseen raises on purpose."""

    exit_code = 1


class WatchlistError(LastseenError):
    """The watchlist file is invalid.

    ``problems`` lists every problem found, each a :class:`Problem`, so a user
    fixes them all in one go; ``str()`` renders them one per line.
    """

    exit_code = 2

    def __init__(self, path: str, problems: list["Problem"]):
        self.path = path
        self.problems = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s):"] if len(self.problems) > 1 else []
        for p in self.problems:
            lines.append(p.render(self.path))
        return "\n".join(lines)


class Problem:
    """One problem in a watchlist: where it is and how to fix it."""

    __slots__ = ("line", "target", "message")

    def __init__(self, line: int | None, target: str | None, message: str):
        self.line = line
        self.target = target
        self.message = message

    def render(self, path: str) -> str:
        where = f"{path}:{self.line}" if self.line else path
        who = f" target {self.target!r}:" if self.target else ""
        return f"{where}:{who} {self.message}"

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Problem(line={self.line!r}, target={self.target!r}, message={self.message!r})"


class UsageError(LastseenError):
    exit_code = 2


class EventIdError(UsageError):
    """An event id that is not ``<run id>:<target name>``, or names no event of the archive (exit 2)."""


class SigningError(LastseenError):
    """A signing key that cannot be written (it exists, or would be inside an archive) or read (exit 2)."""

    exit_code = 2


class LockedError(LastseenError):
    exit_code = 3


class ArchiveError(LastseenError):
    exit_code = 1


class FetchError(LastseenError):
    exit_code = 1


class ExtractError(LastseenError):
    exit_code = 1


class BrowserNotFoundError(LastseenError):
    exit_code = 1


class RunInterrupted(LastseenError):
    """A run stopped on SIGINT or SIGTERM after committing what it had fetched.

    The exit status is the shell's convention for death by that signal
    (128 + its number): 130 for SIGINT, 143 for SIGTERM.
    """

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum

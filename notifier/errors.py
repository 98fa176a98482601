"""The one exception tree of notifier.

Every error the package raises on purpose derives from :class:`NotifierError`.
Subclasses also derive from the builtin that fits, and say whether trying the
same thing again later can help (``retryable``)::

    NotifierError
    ├── ConfigError (ValueError)          the watch config or settings are wrong; fix and retry
    │   └── ConfigFileError (OSError)     the config file cannot be read at all
    ├── ConfigEditError                   the config file cannot be edited; ``reason`` says why
    ├── StateError (RuntimeError)         the state directory cannot be used
    │   └── StateLocked                   another notifier process holds the state folder
    ├── InvalidSearch (ValueError)        a history search with nothing to search for, or too long
    └── FeedError                         one feed could not be polled (others go on)
        ├── FetchError (OSError)          network or HTTP failure; ``kind`` says which
        └── FeedParseError (ValueError)   the body is not a usable feed
            └── NotAFeed                  an HTML page or other document that is no feed

Third-party failures are translated at the boundary with ``raise ... from e``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


class NotifierError(Exception):
    """Root of every error notifier raises on purpose."""

    retryable: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file, located as precisely as we can.

    ``line`` and ``column`` are 1-based; ``path`` is the dotted location inside
    the document (``feeds[1].url``), or a short tag such as ``yaml`` for a
    syntax error.
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


class ConfigError(NotifierError, ValueError):
    """The watch config is invalid. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigFileError(ConfigError, OSError):
    """The config file cannot be read (missing, unreadable, not UTF-8)."""


#: Why :class:`ConfigEditError` was raised.
EditReason = Literal["not_writable", "not_found", "exists", "invalid", "unreadable"]


class ConfigEditError(NotifierError):
    """The watch config file was not edited, and nothing was written; ``reason`` says why.

    ``not_writable``: the file or its folder cannot be written (the caller can
    show the text to add by hand instead); ``not_found``: no deadline of that
    name; ``exists``: a deadline of that name is there already; ``invalid``: the
    file or the new values cannot be edited safely (not a YAML mapping, a
    layout the edit cannot keep); ``unreadable``: the file cannot be read (missing,
    not UTF-8, over the size limit). The reasons differ too much for one builtin
    base: none is added.
    """

    def __init__(self, message: str, *, reason: EditReason) -> None:
        super().__init__(message)
        self.reason: EditReason = reason


class StateError(NotifierError, RuntimeError):
    """The state directory or store cannot be used."""

    retryable = True


class StateLocked(StateError):
    """Another notifier process holds the state folder's lock (``holder``: "PID purpose")."""

    retryable = False

    def __init__(self, path: object, holder: str) -> None:
        self.holder = holder
        pid, _, purpose = holder.partition(" ")
        who = f"PID {pid}" if pid.isdigit() else "another process"
        what = f"'notifier {purpose}'" if purpose else "notifier"
        super().__init__(
            f"the state folder is in use by {what} ({who}; lock {path}); "
            "stop it first, or use another --state-dir"
        )


class InvalidSearch(NotifierError, ValueError):
    """A history search that cannot be run as given: no letter or digit in it, or too
    long. The message says which; the same search will fail again."""


class FeedError(NotifierError):
    """One feed could not be polled. The message never contains secrets."""

    retryable = True


class FetchError(FeedError, OSError):
    """Fetching a feed failed.

    ``kind`` is one of ``timeout``, ``connection``, ``http_status``,
    ``too_large``, ``redirect_loop``, ``too_many_redirects``, ``bad_url``.
    ``retry_after`` is the server's requested wait in seconds (429/503), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after: float | None = None,
        retryable: bool = True,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.retryable = retryable


class FeedParseError(FeedError, ValueError):
    """The body could not be turned into entries (truncated, broken, too large)."""


class NotAFeed(FeedParseError):
    """The body is not an RSS/Atom feed at all (feedparser found no version)."""

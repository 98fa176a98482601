"""Escalation ladders, planned: pure (time is a parameter, no I/O).

An unacknowledged ack-eligible alert walks its ladder (``escalate:``): step ``i`` is
due at ``created + after_i``; the last step, with ``repeat``, again every ``repeat``
after that (occurrence ``n`` = 1, 2, …). The ladder stops when the alert is acked,
when ``until`` (a reminder's deadline) has passed, or when it ends.

Catch-up (after downtime) is like reminders: of the occurrences due and not done,
only the latest is sent, the others folded into it (its channels are the union of
the folded steps', so nobody on the ladder misses it); never N messages at once.

:func:`plan_escalation` says what is due now and when the next occurrence comes;
``done`` is the (step, n) already recorded (:class:`notifier.storage.EscalationStore`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.durations import format_duration
from notifier.model import EscalationStep


@dataclass(frozen=True, slots=True)
class DueStep:
    """One escalation to send now: ``step`` (0-based index), ``n`` (0: the step itself;
    1, 2…: its repeats), when it was planned, its channels, and how many missed
    occurrences it folds."""

    step: int
    n: int
    at: datetime
    to: tuple[str, ...]
    after: str
    folded: int = 0

    def key(self, alert_key: str) -> str:
        """The outbox key of this escalation: ``escalate:<alert key>:<step>[:<n>]``
        (steps counted from 1), so the outbox never queues it twice."""
        base = f"escalate:{alert_key}:{self.step + 1}"
        return f"{base}:{self.n}" if self.n else base


def _latest(
    created: datetime, ladder: Sequence[EscalationStep], now: datetime
) -> tuple[int, int] | None:
    """The latest occurrence (step, n) planned at or before ``now``."""
    reached = [i for i, s in enumerate(ladder) if created + s.after <= now]
    if not reached:
        return None
    i = reached[-1]
    step = ladder[i]
    n = 0
    if step.repeat is not None and i == len(ladder) - 1:
        n = int((now - created - step.after) / step.repeat)
    return i, n


def occurrence_at(
    created: datetime, ladder: Sequence[EscalationStep], step: int, n: int
) -> datetime:
    """When occurrence ``n`` of step ``step`` is planned."""
    s = ladder[step]
    return created + s.after + (s.repeat * n if s.repeat is not None else timedelta(0))


def plan_escalation(
    created: datetime,
    ladder: Sequence[EscalationStep],
    now: datetime,
    done: Collection[tuple[int, int]],
    *,
    acked: bool = False,
    until: datetime | None = None,
) -> tuple[DueStep | None, datetime | None]:
    """What of ``ladder`` is due at ``now`` for an alert first queued at ``created``
    (given the occurrences ``done``), and when the next occurrence comes (None: the
    ladder has ended, the alert is acked or ``until`` has passed)."""
    if acked or not ladder or (until is not None and now >= until):
        return None, None
    latest = _latest(created, ladder, now)
    due: DueStep | None = None
    if latest is not None and latest not in done:
        i, n = latest
        missed = [j for j in range(i) if (j, 0) not in done]
        earlier = [k for k in range(n) if (i, k) not in done]
        channels: dict[str, None] = {}
        for j in (*missed, i):
            channels.update(dict.fromkeys(ladder[j].to))
        at = occurrence_at(created, ladder, i, n)
        due = DueStep(
            i, n, at, tuple(channels), format_duration(at - created), len(missed) + len(earlier)
        )
    nxt = _next(created, ladder, latest)
    if nxt is not None and until is not None and nxt >= until:
        nxt = None
    return due, nxt


def _next(
    created: datetime, ladder: Sequence[EscalationStep], latest: tuple[int, int] | None
) -> datetime | None:
    if latest is None:
        return created + ladder[0].after
    i, n = latest
    if i + 1 < len(ladder):
        return created + ladder[i + 1].after
    if ladder[i].repeat is not None:
        return occurrence_at(created, ladder, i, n + 1)
    return None

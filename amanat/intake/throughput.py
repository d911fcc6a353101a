"""How fast the worker turns sealed submissions into records, measured from what it did, and how long the
queue will take at that rate. Reads routing metadata only (status, processed_at), never a value.

The rate is measured from the times the most recent submissions were processed: the gaps between one and the
next, leaving out idle gaps (the worker waiting for work), so a worker that ran in bursts is timed while it
worked. Too few processed submissions, and there is no measured rate: callers then say so plainly.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amanat.intake.models import Submission

SAMPLE = 5_000          # most recent processed submissions looked at
MIN_SAMPLE = 20         # fewer processed in the stretch than this: no measured rate
MIN_SPAN_SECONDS = 1.0  # a shorter stretch says nothing about a rate
IDLE_GAP_SECONDS = 5.0  # a longer gap is the worker waiting, not working


@dataclass(frozen=True)
class Backlog:
    waiting: int                 # sealed, not yet processed (all batches)
    rate: float | None           # submissions per second while working; None: not measured yet

    @property
    def seconds(self) -> float | None:
        return self.waiting / self.rate if self.rate else None


def measured_rate(db: Session) -> float | None:
    """Submissions per second the worker processed in its latest stretch of work, or None without enough
    to measure. A batch worker stamps a whole batch at once: counting what was processed after the stretch's
    first moment, over the time since, times every batch but the first."""
    times = db.scalars(select(Submission.processed_at).where(Submission.processed_at.is_not(None))
                       .order_by(Submission.processed_at.desc()).limit(SAMPLE)).all()
    if not times:
        return None
    oldest = times[0]
    for newer, older in pairwise(times):
        if (newer - older).total_seconds() > IDLE_GAP_SECONDS:
            break
        oldest = older
    span = (times[0] - oldest).total_seconds()
    after = sum(1 for t in times if t > oldest)
    if span < MIN_SPAN_SECONDS or after < MIN_SAMPLE:
        return None
    return after / span


def backlog(db: Session) -> Backlog:
    waiting = db.scalar(select(func.count()).select_from(Submission).where(Submission.status == "sealed")) or 0
    return Backlog(waiting=waiting, rate=measured_rate(db))


def duration_words(seconds: float) -> str:
    """About how long, in words a person reads at a glance: "40 s", "3 min", "2 h 10 min"."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


__all__ = ["Backlog", "backlog", "duration_words", "measured_rate"]

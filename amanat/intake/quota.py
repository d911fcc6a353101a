"""How much one client address (anonymous intake, OpenRosa) or one account (file imports) may send.

Two limits per key: posts in a sliding window (a burst) and bytes per UTC day (a slow flood). Both are kept
in memory, per server process: counting in the database would put a write on every refused request, which is
exactly the load this guards against. A refused request raises TooManyRequests with the seconds until it
would be admitted (the web edge answers 429 with Retry-After). The keys are addresses or account ids, never
anything a person typed; at most ``max_keys`` are remembered, the least recently seen forgotten first, so a
spray of addresses cannot grow the memory without bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from amanat.errors import TooManyRequests

DAY = 86_400.0


@dataclass
class _Usage:
    posts: deque[float] = field(default_factory=deque)
    day: int = 0
    bytes: int = 0


class Quota:
    """``admit(key, nbytes)`` counts one request of ``nbytes`` against ``key`` or raises TooManyRequests."""

    def __init__(self, *, posts: int, window_seconds: float, bytes_per_day: int, burst_message: str,
                 daily_message: str, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.posts = posts
        self.window = window_seconds
        self.bytes_per_day = bytes_per_day
        self.burst_message = burst_message
        self.daily_message = daily_message
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._usage: OrderedDict[str, _Usage] = OrderedDict()
        self.refused = 0

    def admit(self, key: str, nbytes: int) -> None:
        now = self._clock()
        today = int(now // DAY)
        with self._lock:
            usage = self._usage.get(key)
            if usage is None:
                usage = self._usage[key] = _Usage(day=today)
                while len(self._usage) > self.max_keys:
                    self._usage.popitem(last=False)
            else:
                self._usage.move_to_end(key)
            while usage.posts and usage.posts[0] <= now - self.window:
                usage.posts.popleft()
            if usage.day != today:
                usage.day, usage.bytes = today, 0
            if len(usage.posts) >= self.posts:
                self.refused += 1
                wait = usage.posts[0] + self.window - now
                raise TooManyRequests(self.burst_message, retry_after=max(1, math.ceil(wait)))
            if usage.bytes + nbytes > self.bytes_per_day:
                self.refused += 1
                raise TooManyRequests(self.daily_message, retry_after=max(1, math.ceil((today + 1) * DAY - now)))
            usage.posts.append(now)
            usage.bytes += nbytes




def N_(message: str) -> str:  # gettext's name: marks a message for extraction; the error page translates it
    return message


INTAKE_BURST = N_("Too many submissions from this address. Please wait a little and try again.")
INTAKE_DAILY = N_("This address has sent as much as one day allows. Please try again tomorrow.")
IMPORT_BURST = N_("You have imported as many files as allowed for now. Please wait and try again.")
IMPORT_DAILY = N_("You have imported as much as one day allows. Please try again tomorrow.")


def intake_quota(*, posts_per_minute: int, bytes_per_day: int) -> Quota:
    """Per client address: the public form and OpenRosa."""
    return Quota(posts=posts_per_minute, window_seconds=60, bytes_per_day=bytes_per_day,
                 burst_message=INTAKE_BURST, daily_message=INTAKE_DAILY)


def import_quota(*, imports_per_hour: int, bytes_per_day: int) -> Quota:
    """Per account: file imports (WhatsApp, tables, ODK zips)."""
    return Quota(posts=imports_per_hour, window_seconds=3600, bytes_per_day=bytes_per_day,
                 burst_message=IMPORT_BURST, daily_message=IMPORT_DAILY)


__all__ = ["IMPORT_BURST", "IMPORT_DAILY", "INTAKE_BURST", "INTAKE_DAILY", "Quota", "import_quota",
           "intake_quota"]

"""Login throttling that slows a guesser without locking the real user, or a whole office, out.

Three counters per window, each kept under a SHA-256 of its key (no username or address in clear):
- the pair (username, address): a few failures, then that pair waits out the window (429, Retry-After);
- the address: a limit high enough for an office behind one NAT, so only a spray from one address stops;
- the account: beyond a free allowance, each try must wait 2^n seconds after the last failure — unless it
  carries a correct authenticator code, so a stranger who knows a caseworker's username cannot keep the
  caseworker out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from amanat.accounts.models import LoginThrottle
from amanat.core.db import utcnow
from amanat.errors import TooManyRequests

MAX_DELAY_SECONDS = 900
MESSAGE = "Too many failed sign-in attempts. Try again later."


@dataclass(frozen=True)
class Policy:
    pair_failures: int = 5
    address_failures: int = 100
    account_free_failures: int = 10
    window: timedelta = timedelta(seconds=900)


@dataclass(frozen=True)
class Keys:
    pair: str
    address: str
    account: str

    @classmethod
    def of(cls, username: str, client: str) -> Keys:
        def digest(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()

        return cls(digest(f"pair:{username}|{client}"), digest(f"ip:{client}"), digest(f"user:{username}"))


def _live(row: LoginThrottle | None, now: datetime, window: timedelta) -> LoginThrottle | None:
    return row if row is not None and now - row.window_start < window else None


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds()) + 1)


def account_delay(failures: int, free: int) -> int:
    """Seconds a try must wait after the account's last failure: 0 within the allowance, then doubling."""
    if failures < free:
        return 0
    return int(min(MAX_DELAY_SECONDS, 2 ** min(failures - free, 20)))


def check(db: Session, policy: Policy, keys: Keys) -> bool:
    """Raise TooManyRequests when the pair or the address is over its limit. Returns whether the account is
    in its slow-down: the caller then lets the try through only with a correct authenticator code."""
    now = utcnow()
    for key, limit in ((keys.pair, policy.pair_failures), (keys.address, policy.address_failures)):
        row = _live(db.get(LoginThrottle, key), now, policy.window)
        if row is not None and row.failures >= limit:
            raise TooManyRequests(MESSAGE, retry_after=_seconds(row.window_start + policy.window - now))
    row = _live(db.get(LoginThrottle, keys.account), now, policy.window)
    if row is None:
        return False
    delay = account_delay(row.failures, policy.account_free_failures)
    return delay > 0 and now - (row.last_failure_at or row.window_start) < timedelta(seconds=delay)


def account_retry_after(db: Session, policy: Policy, keys: Keys) -> int:
    now = utcnow()
    row = _live(db.get(LoginThrottle, keys.account), now, policy.window)
    if row is None:
        return 1
    delay = timedelta(seconds=account_delay(row.failures, policy.account_free_failures))
    return _seconds((row.last_failure_at or row.window_start) + delay - now)


def record_failure(db: Session, policy: Policy, keys: Keys) -> None:
    now = utcnow()
    for key in (keys.pair, keys.address, keys.account):
        row = db.get(LoginThrottle, key)
        if row is None:
            db.add(LoginThrottle(key=key, failures=1, window_start=now, last_failure_at=now))
        elif now - row.window_start >= policy.window:
            row.failures, row.window_start, row.last_failure_at = 1, now, now
        else:
            row.failures += 1
            row.last_failure_at = now
    db.flush()


def record_success(db: Session, keys: Keys) -> None:
    """A success clears the pair and the account; the address keeps its count (others may share it)."""
    for key in (keys.pair, keys.account):
        row = db.get(LoginThrottle, key)
        if row is not None:
            db.delete(row)
    db.flush()

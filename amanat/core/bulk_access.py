"""Bulk-access alarms: one user opening many people's values in a short time is stopped and reported.

Every action that shows values (audit.BULK_ACTIONS: reveals, opened documents, exports) is counted per user
over the last hour from the audit log itself, so the count survives restarts and covers every process. Past
``bulk_access_per_hour`` the action is refused (audit.BulkAccessBlocked) and an ``access:alarm`` event names
the user, the action and the count; further ones stay refused until an admin clears the alarm with a reason
(``access:alarm_clear``). Open alarms are listed for admins (web/routes/alarms.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from amanat.core.audit import ALARM, ALARM_CLEAR, N_, Actor, AuditEvent, BulkAccessBlocked, alarm_open, record_event
from amanat.core.db import Database
from amanat.errors import Conflict, InvalidInput

ALARM_ACTOR = Actor("system:bulk-access")
# Why an admin clears an alarm: codes only (the audit log holds no free text), shown translated.
CLEAR_REASONS = ("legitimate_bulk_work", "investigated_no_misuse", "account_secured", "false_alarm")


def configure(engine: Engine, per_hour: int | None) -> None:
    """Turn the allowance on for every session of ``engine`` (None: off, as for the CLI and the worker)."""
    engine.dialect.amanat_bulk_access_per_hour = per_hour  # type: ignore[attr-defined]


def raise_alarm(db: Session, blocked: BulkAccessBlocked) -> bool:
    """Record the alarm for a refusal (in a transaction of its own: the refused one rolled back); False if
    one is already open for the user."""
    if alarm_open(db, blocked.user_id):
        return False
    record_event(db, ALARM_ACTOR, ALARM, "user", blocked.user_id, refused=blocked.action, count=blocked.count,
                 limit=blocked.limit, window_hours=1)
    return True


def record_alarm(database: Database, blocked: BulkAccessBlocked) -> None:
    """raise_alarm in a transaction of its own (the edge calls it once the refused request rolled back)."""
    with database.transaction() as db:
        raise_alarm(db, blocked)


@dataclass(frozen=True)
class OpenAlarm:
    user_id: str
    raised_at: datetime
    action: str
    count: int
    limit: int


def list_open_alarms(db: Session) -> list[OpenAlarm]:
    """Users whose newest alarm event is an alarm, newest first."""
    events = db.scalars(select(AuditEvent).where(AuditEvent.action.in_((ALARM, ALARM_CLEAR)))
                        .order_by(AuditEvent.seq)).all()
    latest: dict[str, AuditEvent] = {}
    for ev in events:
        if ev.subject_id:
            latest[ev.subject_id] = ev
    out = []
    for ev in sorted((e for e in latest.values() if e.action == ALARM), key=lambda e: e.seq, reverse=True):
        d = json.loads(ev.details or "{}")
        out.append(OpenAlarm(str(ev.subject_id), ev.at, str(d.get("refused", "")), int(d.get("count") or 0),
                             int(d.get("limit") or 0)))
    return out


def clear_alarm(db: Session, actor: Actor, user_id: str, reason: str) -> None:
    """An admin restores a user's access, with one of CLEAR_REASONS; audited as ``access:alarm_clear``."""
    if reason not in CLEAR_REASONS:
        raise InvalidInput(N_("Choose why the alarm is cleared."), field="reason")
    if not alarm_open(db, user_id):
        raise Conflict(N_("This user has no open alarm."), code="no_open_alarm")
    if actor.user_id == user_id:
        raise Conflict(N_("An alarm about your own account must be cleared by another admin."), code="own_alarm")
    record_event(db, actor, ALARM_CLEAR, "user", user_id, reason=reason)
    db.flush()


__all__ = ["ALARM_ACTOR", "CLEAR_REASONS", "OpenAlarm", "clear_alarm", "configure", "list_open_alarms", "raise_alarm",
           "record_alarm"]

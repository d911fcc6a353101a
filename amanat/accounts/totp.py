"""Authenticator codes (TOTP, RFC 6238): enrolment with a QR code, single-use codes, recovery codes.

A code is accepted once: the time-step it belongs to is remembered per user and a code of that step or an
earlier one is refused, so a code read over a shoulder or from a proxy log cannot be replayed. Recovery
codes stand in for the phone once each; only their SHA-256 is kept (they are random, so that is enough).
"""

from __future__ import annotations

import re
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from amanat.accounts.models import RecoveryCode, User
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import constant_time_equal, token_digest
from amanat.core.db import utcnow
from amanat.errors import Conflict, InvalidInput, NotFound

ISSUER = "Amanat"
STEP_SECONDS = 30
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_CODE = re.compile(r"^\d{6}$")


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time-step (the current one, or one either side for clock drift) whose code ``code`` is."""
    code = code.strip().replace(" ", "")
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if constant_time_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def use_code(db: Session, user_id: str, secret: str, code: str, now: float | None = None) -> bool:
    """Accept ``code`` once: the step is stored with a conditional UPDATE, so two requests racing with the
    same code cannot both win."""
    step = matching_step(secret, code, now)
    if step is None:
        return False
    result = db.execute(update(User).where(User.id == user_id,
                                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                        .values(totp_last_step=step))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _normal_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code.strip().lower())


def looks_like_recovery_code(code: str) -> bool:
    return len(_normal_recovery(code)) == 12


def new_recovery_codes(db: Session, user_id: str) -> list[str]:
    """Ten fresh codes (any earlier ones stop working), shown once."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
        db.add(RecoveryCode(user_id=user_id, code_digest=token_digest(raw)))
    db.flush()
    return codes


def use_recovery_code(db: Session, user_id: str, code: str) -> bool:
    digest = token_digest(_normal_recovery(code))
    result = db.execute(update(RecoveryCode).where(RecoveryCode.user_id == user_id,
                                                   RecoveryCode.code_digest == digest,
                                                   RecoveryCode.used_at.is_(None)).values(used_at=utcnow()))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def recovery_codes_left(db: Session, user_id: str) -> int:
    return len(db.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user_id,
                                                        RecoveryCode.used_at.is_(None))).all())


def qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG QR code, drawn here: the secret never goes to a third party."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff"))


def begin_enrolment(db: Session, user_id: str) -> tuple[str, str]:
    """A new secret kept as pending until a code from it is confirmed; returns (otpauth URI, secret)."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.totp_secret:  # replacing it would let a borrowed session take the second factor over
        raise Conflict("Two-factor sign-in is already on. An administrator can reset it after a lost phone.")
    secret = pyotp.random_base32()
    user.totp_pending = secret
    db.flush()
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER), secret


def pending_uri(db: Session, user_id: str) -> tuple[str, str] | None:
    user = db.get(User, user_id)
    if user is None or not user.totp_pending:
        return None
    secret = user.totp_pending
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER), secret


def confirm_enrolment(db: Session, actor: Actor, user_id: str, code: str) -> list[str]:
    """Turn the pending secret on once a code from it is right; returns the new recovery codes."""
    user = db.get(User, user_id)
    if user is None or not user.totp_pending:
        raise InvalidInput("Start the set-up again: there is no authenticator waiting to be confirmed.",
                           field="code")
    step = matching_step(user.totp_pending, code)
    if step is None:
        raise InvalidInput("code: that code is not right. Check the phone's clock and enter the current code.",
                           field="code")
    user.totp_secret, user.totp_pending, user.totp_last_step = user.totp_pending, None, step
    codes = new_recovery_codes(db, user.id)
    record_event(db, actor, "user:totp_enable", "user", user.id, recovery_codes=len(codes))
    return codes


def remove_totp(db: Session, actor: Actor, user_id: str) -> None:
    """Turn the authenticator off (an admin's reset after a lost phone); the user enrols again."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    user.totp_secret = user.totp_pending = None
    user.totp_last_step = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    record_event(db, actor, "user:totp_remove", "user", user_id)
    db.flush()


def enabled(db: Session, user_id: str) -> bool:
    return db.scalar(select(User.totp_secret.is_not(None)).where(User.id == user_id)) is True


def regenerate_recovery_codes(db: Session, actor: Actor, user_id: str, code: str) -> list[str]:
    """New recovery codes, only with a current authenticator code (a screen left open is not enough)."""
    user = db.get(User, user_id)
    if user is None or not user.totp_secret or not use_code(db, user_id, user.totp_secret, code):
        raise InvalidInput("code: that code is not right.", field="code")
    codes = new_recovery_codes(db, user_id)
    record_event(db, actor, "user:recovery_codes_new", "user", user_id, count=len(codes))
    return codes

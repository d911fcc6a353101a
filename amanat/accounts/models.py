"""Staff accounts, their web sessions and login throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow
from amanat.core.types import EncryptedString


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString("users.totp_secret"), nullable=True)
    # The last TOTP time-step accepted: a code is good once, so a code seen over a shoulder cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A secret shown as a QR code and not yet confirmed with a code; it becomes totp_secret when confirmed.
    totp_pending: Mapped[str | None] = mapped_column(EncryptedString("users.totp_pending"), nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)  # the absolute lifetime
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # for the idle timeout
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LoginThrottle(Base):
    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the throttled key (see service)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator once (a lost phone). Only its digest is kept: the
    codes are random and long, so a plain SHA-256 is enough and checking one costs nothing."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AccessRequest(Base):
    """A change that would let one admin read applicants' identities alone (granting a role that reads them,
    or resetting the password of an account that has one) waits here for a second admin."""

    __tablename__ = "access_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # "role" or "reset"
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(36))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)  # approved / refused / cancelled


class DeviceCredential(Base):
    """An ODK Collect / KoboCollect login for a referrer. Digest authentication needs HA1 =
    MD5(username:realm:password) on the server, so it is kept encrypted, never as a bare hash."""

    __tablename__ = "device_credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    ha1: Mapped[str] = mapped_column(EncryptedString("device_credentials.ha1"))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, for Basic over https on sealed-only nodes
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Team(Base):
    """A group of staff who share cases. With the organisation's ``case_scope = team`` a caseworker sees the
    cases assigned to members of their teams, and unassigned cases in their teams' provinces (an intake team:
    every unassigned case); the rule lives in amanat/cases/scope.py."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    provinces: Mapped[str] = mapped_column(String(400), default="", server_default="")  # P-codes, space-separated
    intake: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

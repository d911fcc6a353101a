"""Anchors of the audit chain: its head, signed, kept outside the database.

The hash chain shows an edit in the middle, but not a cut tail (delete the newest events and the shorter
chain still verifies) nor a chain rebuilt from scratch with fresh hashes. An anchor is one line naming the
head event's number and hash at a moment, with an HMAC under a key derived from the server's secret key.
The server appends one to ``AMANAT_AUDIT_ANCHOR_PATH`` at every checkpoint (every ``audit_anchor_seconds``
while the head moves, and when it stops); an auditor copies that file elsewhere (or the path is a mount
the database host cannot rewrite). ``verify_anchors`` then needs every anchored event to be present with
the anchored hash: a cut tail leaves an anchored number missing, a rebuilt chain changes its hash.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.core.audit import GENESIS, AuditEvent
from amanat.core.crypto import constant_time_equal, hmac_sign
from amanat.core.db import utcnow
from amanat.errors import InvalidInput

log = logging.getLogger("amanat.audit.anchor")
_VERSION = 1


@dataclass(frozen=True)
class Anchor:
    seq: int          # the head event's number (0: an empty log)
    head: str         # its hash
    at: str           # when the anchor was made (UTC, ISO)
    mac: str

    def line(self) -> str:
        return json.dumps({"v": _VERSION, "seq": self.seq, "head": self.head, "at": self.at, "mac": self.mac},
                          separators=(",", ":")) + "\n"


def _mac(secret: str, seq: int, head: str, at: str) -> str:
    return hmac_sign(secret, f"amanat-audit-anchor/{_VERSION}\n{seq}\n{head}\n{at}")


def chain_head(db: Session) -> tuple[int, str]:
    last = db.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS)


def make_anchor(db: Session, secret: str) -> Anchor:
    seq, head = chain_head(db)
    at = utcnow().isoformat(timespec="seconds")
    return Anchor(seq, head, at, _mac(secret, seq, head, at))


def append_anchor(path: Path, anchor: Anchor) -> None:
    """Append one line and fsync it; the file is created 0600 (it names no person, but it is the auditor's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, anchor.line().encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchors(path: Path) -> list[Anchor]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path.name}: the anchor file cannot be read", code="anchor_unreadable") from exc
    anchors: list[Anchor] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            anchors.append(Anchor(int(d["seq"]), str(d["head"]), str(d["at"]), str(d["mac"])))
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(f"{path.name}, line {number}: not an audit anchor", code="anchor_invalid") from None
    if not anchors:
        raise InvalidInput(f"{path.name}: the file holds no audit anchor", code="anchor_invalid")
    return anchors


@dataclass(frozen=True)
class AnchorVerdict:
    ok: bool
    checked: int
    reason: str = ""


def verify_anchors(db: Session, anchors: list[Anchor], secret: str) -> AnchorVerdict:
    """Every anchor must be signed with this server's key, and its event present with the anchored hash."""
    last_seq, _ = chain_head(db)
    for number, anchor in enumerate(anchors, start=1):
        if not constant_time_equal(anchor.mac, _mac(secret, anchor.seq, anchor.head, anchor.at)):
            return AnchorVerdict(False, number - 1, f"anchor {number} is not signed with this server's key "
                                                    "(forged, or the secret key changed)")
        if anchor.seq == 0:
            continue
        stored = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == anchor.seq))
        if stored is None:
            return AnchorVerdict(False, number - 1,
                                 f"TRUNCATED: event {anchor.seq}, anchored at {anchor.at}, is missing "
                                 f"(the log now ends at event {last_seq})")
        if stored != anchor.head:
            return AnchorVerdict(False, number - 1,
                                 f"REBUILT: event {anchor.seq} is not the event anchored at {anchor.at} "
                                 "(the chain was rewritten)")
    return AnchorVerdict(True, len(anchors))


class AnchorWriter:
    """The server's checkpoint: every ``interval`` seconds, if the chain's head moved, append an anchor;
    once more when stopped. Failures are logged (codes only) and tried again at the next checkpoint."""

    def __init__(self, reading: Callable[[], AbstractContextManager[Session]], path: Path, secret: str,
                 interval: float) -> None:
        self._reading = reading
        self.path = path
        self._secret = secret
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple[int, str] | None = None
        self.written = 0

    def checkpoint(self) -> bool:
        """Append an anchor if the head moved since the last one; True if one was written."""
        with self._reading() as db:
            anchor = make_anchor(db, self._secret)
        if self._last == (anchor.seq, anchor.head):
            return False
        append_anchor(self.path, anchor)
        self._last = (anchor.seq, anchor.head)
        self.written += 1
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._safe_checkpoint()

    def _safe_checkpoint(self) -> None:
        try:
            self.checkpoint()
        except Exception as exc:  # a full disk or a lost mount must not stop the server; logged, retried
            log.error("audit anchor not written: %s", type(exc).__name__)

    def start(self) -> None:
        self._safe_checkpoint()
        self._thread = threading.Thread(target=self._run, name="amanat-audit-anchor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self._safe_checkpoint()


__all__ = ["Anchor", "AnchorVerdict", "AnchorWriter", "append_anchor", "chain_head", "make_anchor",
           "read_anchors", "verify_anchors"]

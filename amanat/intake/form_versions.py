"""Uploaded XLSForm versions. The newest active upload is the current form (the shipped one until then):
the web form, the XForm served to ODK Collect and every new submission's recorded version come from it.

A version row holds the workbook only (no personal data). It lives in intake because the form a
submission was made with is intake's business; forms/ stays a pure library that knows no database.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.core.audit import Actor, record_event
from amanat.errors import Conflict, NotFound
from amanat.forms.spec import FormError, FormSpec, load_form
from amanat.forms.xform import to_xform
from amanat.intake.models import FormVersion

# Form ids and versions travel in audit events, URLs and submission rows: keep them to identifier text.
FORM_TOKEN = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
MAX_XLSX_BYTES = 5 * 1024 * 1024

_cache_lock = threading.Lock()
_specs: OrderedDict[str, FormSpec] = OrderedDict()  # md5 of the workbook → parsed spec (parsing takes ~1 s)
_generation = [0]  # bumped when an upload or retire in this process commits; see CurrentFormCache


@dataclass(frozen=True)
class FormVersionInfo:
    id: int | None  # None: the shipped form
    form_id: str
    version: str
    md5: str
    created_at: datetime | None
    created_by: str | None  # username
    active: bool
    current: bool


def _spec_of(db: Session, version_id: int, md5: str) -> FormSpec:
    with _cache_lock:
        spec = _specs.get(md5)
        if spec is not None:
            _specs.move_to_end(md5)
            return spec
    data = db.scalar(select(FormVersion.xlsx).where(FormVersion.id == version_id))
    if data is None:
        raise NotFound("No such form version.")
    spec = load_form(bytes(data))
    with _cache_lock:
        _specs[md5] = spec
        while len(_specs) > 8:
            _specs.popitem(last=False)
    return spec


def _newest(db: Session, form_id: str | None = None) -> tuple[int, str] | None:
    q = select(FormVersion.id, FormVersion.md5).where(FormVersion.active.is_(True))
    if form_id is not None:
        q = q.where(FormVersion.form_id == form_id)
    row = db.execute(q.order_by(FormVersion.created_at.desc(), FormVersion.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def current_form(db: Session) -> FormSpec:
    """The newest active uploaded version, else the shipped form."""
    newest = _newest(db)
    return _spec_of(db, *newest) if newest else load_form()


class CurrentFormCache:
    """The current form for the web intake path, which would otherwise ask the database on every post.

    An upload or retire made in this process clears it the moment its transaction commits. One made by
    another process (the CLI, another `serve --workers` process) is seen within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._entry: tuple[float, int, FormSpec] | None = None  # (monotonic time read, generation, spec)

    def fresh(self) -> FormSpec | None:
        """The cached form if still valid; None means call ``load``."""
        entry = self._entry
        if entry is None or entry[1] != _generation[0] or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[2]

    def load(self, reading: Callable[[], AbstractContextManager[Session]]) -> FormSpec:
        """Read the current form in a read transaction of its own (``reading``) and keep it."""
        generation, now = _generation[0], time.monotonic()  # before the read: a commit during it is noticed
        with reading() as db:
            spec = current_form(db)
        self._entry = (now, generation, spec)
        return spec


def _changed_on_commit(db: Session) -> None:
    def bump(_session: Session) -> None:
        _generation[0] += 1

    event.listen(db, "after_commit", bump, once=True)


def form_by_id(db: Session, form_id: str) -> FormSpec | None:
    """The newest active version of one form id (the shipped form counts as a version); None if unknown."""
    newest = _newest(db, form_id)
    if newest:
        return _spec_of(db, *newest)
    shipped = load_form()
    return shipped if shipped.form_id == form_id else None


def form_version_spec(db: Session, form_id: str, version: str) -> FormSpec | None:
    """One exact version of a form (active or not, or the shipped form); None if this server never had it."""
    row = db.execute(select(FormVersion.id, FormVersion.md5)
                     .where(FormVersion.form_id == form_id, FormVersion.version == version)).first()
    if row:
        return _spec_of(db, row[0], row[1])
    shipped = load_form()
    return shipped if (shipped.form_id, shipped.version) == (form_id, version) else None


def known_form_ids(db: Session) -> set[str]:
    """Every form id this server has served: the shipped one and every upload, active or not."""
    return {load_form().form_id, *db.scalars(select(FormVersion.form_id).distinct()).all()}


def list_form_versions(db: Session) -> list[FormVersionInfo]:
    """Uploaded versions newest first, then the shipped form; ``current`` marks the one in use."""
    rows = db.execute(select(FormVersion.id, FormVersion.form_id, FormVersion.version, FormVersion.md5,
                             FormVersion.created_at, User.username, FormVersion.active)
                      .outerjoin(User, User.id == FormVersion.created_by)
                      .order_by(FormVersion.created_at.desc(), FormVersion.id.desc())).all()
    newest = _newest(db)
    out = [FormVersionInfo(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), newest is not None and r[0] == newest[0])
           for r in rows]
    shipped = load_form()
    out.append(FormVersionInfo(None, shipped.form_id, shipped.version,
                               hashlib.md5(shipped.xlsx, usedforsecurity=False).hexdigest(), None, None, True,
                               newest is None))
    return out


def upload_form(db: Session, actor: Actor, xlsx_bytes: bytes, *, public_key_b64: str | None = None) -> FormSpec:
    """Validate and store a new version, audited as ``form:upload``; it becomes the current form.

    Raises FormError (with sheet and row where pyxform names them) for a workbook ODK would refuse, and
    Conflict for a version that already exists. With ``public_key_b64`` the encrypted XForm is built once
    too, so a form that cannot be served encrypted (omit_instanceID) is refused now, not on a phone.
    """
    if len(xlsx_bytes) > MAX_XLSX_BYTES:
        raise FormError(f"Invalid XLSForm: the workbook is larger than {MAX_XLSX_BYTES // (1024 * 1024)} MiB.")
    spec = load_form(xlsx_bytes)
    if not spec.version:
        raise FormError("Invalid XLSForm (sheet 'settings'): the form needs a version, so devices can tell the "
                        "new form from the old.", sheet="settings")
    for what, value in (("form_id", spec.form_id), ("version", spec.version)):
        if not FORM_TOKEN.match(value):
            raise FormError(f"Invalid XLSForm (sheet 'settings'): {what} must be 1–40 letters, digits, '.', '_' "
                            "or '-'.", sheet="settings")
    shipped = load_form()
    exists = db.scalar(select(FormVersion.id).where(FormVersion.form_id == spec.form_id,
                                                    FormVersion.version == spec.version))
    if exists or (shipped.form_id == spec.form_id and shipped.version == spec.version):
        raise Conflict("version: this form already has that version; raise the version in the settings sheet.",
                       code="form_version_exists", field="version")
    if public_key_b64:
        to_xform(spec, public_key_b64=public_key_b64)
    md5 = hashlib.md5(xlsx_bytes, usedforsecurity=False).hexdigest()
    row = FormVersion(form_id=spec.form_id, version=spec.version, xlsx=xlsx_bytes, md5=md5,
                      created_by=actor.user_id, active=True)
    db.add(row)
    db.flush()
    record_event(db, actor, "form:upload", "form_version", str(row.id), form=spec.form_id, version=spec.version)
    _changed_on_commit(db)
    return spec


def set_form_active(db: Session, actor: Actor, version_id: int, active: bool) -> None:
    """Retire a version (the previous one becomes current again) or bring it back; audited."""
    row = db.get(FormVersion, version_id)
    if row is None:
        raise NotFound("No such form version.")
    if row.active != active:
        row.active = active
        db.flush()
        record_event(db, actor, "form:activate" if active else "form:retire", "form_version", str(row.id),
                     form=row.form_id, version=row.version)
        _changed_on_commit(db)

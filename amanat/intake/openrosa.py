"""The OpenRosa server's logic for ODK Collect and KoboCollect: form list, form download, submissions.

The web edge (web/routes/openrosa.py) only speaks HTTP; what it serves and stores is decided here.
- Forms are served ENCRYPTED to the organisation's ODK public key, so a finished form is encrypted on the
  phone and even the intake node only ever holds ciphertext of it.
- A submission is sealed as it came (see openrosa_payload.py) with only its routing metadata read: form id,
  version and instanceID. The worker decrypts and parses it.
- Several POSTs for one instanceID (``*isIncomplete*``) collect into one submission, kept from the worker
  (status ``receiving``) until the last one. The same instanceID again with the same XML adds parts; with
  other XML it is a conflict (409): an edit must come with a new instanceID and a deprecatedID.
- A submission whose last part has not come after ``RECEIVING_HOURS`` is released to the worker as it is
  (``release_stale``): its form data came with the first part, and an applicant's answers must not wait
  forever on a photo. What never arrived is listed on the record, as ODK Central does.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET  # only to build XML; parsing goes through defusedxml  # nosec B405
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import utcnow
from amanat.errors import Conflict, NotFound, PayloadTooLarge
from amanat.forms.spec import FormSpec
from amanat.forms.xform import to_xform, xform_md5
from amanat.intake.errors import IntakeError
from amanat.intake.form_versions import FORM_TOKEN, current_form, form_by_id, known_form_ids
from amanat.intake.models import Submission
from amanat.intake.odk_crypto import parse_manifest
from amanat.intake.openrosa_payload import media_part, pack_openrosa
from amanat.intake.service import add_parts, seal_submission

XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
XML_PART = "xml_submission_file"
INCOMPLETE_PART = "*isIncomplete*"
MAX_PARTS = 100  # media parts of one submission, over all its POSTs
UNKNOWN_LANGUAGE = "und"  # Collect does not say which language the form was filled in
_INSTANCE_ID = re.compile(r"^[A-Za-z0-9:._\-]{1,100}$")
_SOURCE = "xml_submission_file"
# Collect retries unsent parts whenever it next has a connection; three days covers a phone that went
# out of coverage for a weekend without holding the applicant's answers back for long.
RECEIVING_HOURS = 72


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def openrosa_response(message: str, *, nature: str = "submit_success") -> bytes:
    """``<OpenRosaResponse>``: the body of every answer to a submission, success or not."""
    root = ET.Element("OpenRosaResponse", {"xmlns": RESPONSE_NS})
    ET.SubElement(root, "message", {"nature": nature}).text = message
    return _xml(root)


# --- forms ---

@dataclass(frozen=True)
class ServedForm:
    spec: FormSpec
    xml: bytes

    @property
    def name(self) -> str:
        title = self.spec.title
        return title.get(self.spec.default_language) or next(iter(title.values()), "") or self.spec.form_id


def serve_form(spec: FormSpec, keys: KeyHolder, base_url: str) -> ServedForm:
    """The XForm encrypted to the organisation's ODK key, posting to this server's /submission."""
    return ServedForm(spec, to_xform(spec, public_key_b64=keys.odk_public_key_b64(),
                                     submission_url=f"{base_url}/submission"))


def find_form(db: Session, keys: KeyHolder, base_url: str, form_id: str) -> ServedForm:
    spec = form_by_id(db, form_id)
    if spec is None:
        raise NotFound("This form is not known to this server.", code="form_unknown")
    return serve_form(spec, keys, base_url)


def form_list(db: Session, keys: KeyHolder, base_url: str, form_id: str | None = None) -> bytes:
    """The OpenRosa xformsList: the current form, or the one ``formID`` asks for (none if unknown)."""
    if form_id:
        spec = form_by_id(db, form_id)
        specs = [spec] if spec is not None else []
    else:
        specs = [current_form(db)]
    root = ET.Element("xforms", {"xmlns": XFORMS_LIST_NS})
    for spec in specs:
        served = serve_form(spec, keys, base_url)
        entry = ET.SubElement(root, "xform")
        for tag, value in (("formID", spec.form_id), ("name", served.name), ("version", spec.version),
                           ("hash", xform_md5(served.xml)),
                           ("downloadUrl", f"{base_url}/forms/{spec.form_id}/form.xml"),
                           ("manifestUrl", f"{base_url}/forms/{spec.form_id}/manifest")):
            ET.SubElement(entry, tag).text = value
    return _xml(root)


def form_manifest() -> bytes:
    """The media manifest: the service-record form has no media files."""
    return _xml(ET.Element("manifest", {"xmlns": MANIFEST_NS}))


# --- submissions ---

@dataclass(frozen=True)
class SubmissionMeta:
    form_id: str
    version: str
    instance_id: str
    encrypted: bool


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_submission_meta(xml: bytes) -> SubmissionMeta:
    """Only what routing needs (form id, version, instanceID, encrypted or not); no answer is read."""
    try:
        root = SafeET.fromstring(xml)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise IntakeError("not well-formed XML (or uses entities, which are refused)", source=_SOURCE) from exc
    if root.get("encrypted", "").lower() in {"yes", "true"}:
        manifest = parse_manifest(xml)
        form_id, version, instance_id = manifest.form_id, manifest.version or "", manifest.instance_id
        encrypted = True
    else:
        form_id, version, encrypted = root.get("id") or "", root.get("version") or "", False
        instance_id = ""
        for child in root:
            if _local(child.tag) == "meta":
                instance_id = next(((el.text or "").strip() for el in child if _local(el.tag) == "instanceID"), "")
        if not form_id:
            raise IntakeError("the form id attribute is missing", source=_SOURCE)
        if not instance_id:
            raise IntakeError("element is missing or empty", source=_SOURCE, field="instanceID")
    if not FORM_TOKEN.match(form_id) or (version and not FORM_TOKEN.match(version)):
        raise IntakeError("the form id or version has characters this server does not accept", source=_SOURCE)
    if not _INSTANCE_ID.match(instance_id):
        raise IntakeError("has characters or a length this server does not accept", source=_SOURCE,
                          field="instanceID")
    return SubmissionMeta(form_id, version, instance_id, encrypted)


@dataclass(frozen=True)
class Received:
    status: int  # 201: a new submission; 202: parts added to (or repeated for) one already received
    submission_id: str
    receipt: str
    complete: bool  # all parts are in: the worker may take it
    added: int = 0  # parts added to a submission received before

    @property
    def message(self) -> str:
        if not self.complete:
            return f"Part received; waiting for the rest. Receipt {self.receipt}."
        if self.status == 201:
            return f"Received. Receipt {self.receipt}."
        if self.added:
            return f"Attachments added. Receipt {self.receipt}."
        return f"Already received. Receipt {self.receipt}."


def _lock_instance(db: Session, instance_id: str) -> None:
    # On PostgreSQL two POSTs for one instanceID must not both find nothing and both insert. (SQLite write
    # transactions already run one at a time.)
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(7263002, hashtext(:instance))"), {"instance": instance_id})


def receive_submission(db: Session, keys: KeyHolder, actor: Actor, *, submitted_by: str, device: str,
                       xml: bytes, media: Sequence[tuple[str, bytes]], incomplete: bool) -> Received:
    """Seal one OpenRosa POST in the caller's transaction (audited); see the module docstring for the rules."""
    meta = read_submission_meta(xml)
    release_stale(db)
    if meta.form_id not in known_form_ids(db):
        raise NotFound("This form is not known to this server.", code="form_unknown")
    if len(media) > MAX_PARTS:
        raise PayloadTooLarge(f"A submission may carry at most {MAX_PARTS} attachments.")
    digest = hashlib.sha256(xml).hexdigest()
    _lock_instance(db, meta.instance_id)
    existing = db.execute(select(Submission.id, Submission.receipt, Submission.status, Submission.channel,
                                 Submission.content_sha256, Submission.submitted_by, Submission.part_count)
                          .where(Submission.instance_id == meta.instance_id)).first()
    if existing is None:
        receipt = seal_submission(db, keys, pack_openrosa(xml, media, encrypted=meta.encrypted, device=device),
                                  actor=actor, form_id=meta.form_id, form_version=meta.version,
                                  language=UNKNOWN_LANGUAGE, submitted_by=submitted_by,
                                  instance_id=meta.instance_id, status="receiving" if incomplete else "sealed",
                                  content_sha256=digest)
        return Received(201, receipt.submission_id, receipt.receipt, not incomplete)
    sub_id, receipt_code, status, channel, known_digest, owner, part_count = existing
    if channel != "openrosa" or known_digest != digest or owner != submitted_by:
        raise Conflict("A different submission with this instanceID was already received. An edited form must "
                       "carry a new instanceID.", code="instance_conflict")
    if status not in ("receiving", "sealed"):
        # Already opened by the worker: this is a retry of parts it has (Collect repeats a POST whose answer
        # it did not get). Nothing to add.
        return Received(202, sub_id, receipt_code, True)
    if part_count + len(media) > MAX_PARTS:
        raise PayloadTooLarge(f"A submission may carry at most {MAX_PARTS} attachments.")
    added = add_parts(db, keys, sub_id, [media_part(name, data) for name, data in media]) if media else 0
    complete = status == "sealed" or not incomplete
    if status == "receiving" and complete:
        row = db.get(Submission, sub_id)
        assert row is not None
        row.status = "sealed"
        db.flush()
    record_event(db, actor, "submission:add_parts", "submission", sub_id, parts=added, complete=complete)
    return Received(202, sub_id, receipt_code, complete, added)


RELEASER = Actor("system:openrosa")


def release_stale(db: Session, actor: Actor = RELEASER, *, now: datetime | None = None,
                  hours: float = RECEIVING_HOURS) -> int:
    """Release submissions still ``receiving`` after ``hours`` to the worker (audited, one event each).

    Called on every OpenRosa POST and by the worker's loop, so it costs one indexed query when there are none.
    """
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    stale = db.execute(select(Submission.id, Submission.part_count)
                       .where(Submission.status == "receiving", Submission.received_at < cutoff)).all()
    if not stale:
        return 0
    ids = [sub_id for sub_id, _ in stale]
    db.execute(update(Submission).where(Submission.id.in_(ids), Submission.status == "receiving")
               .values(status="sealed"), execution_options={"synchronize_session": False})
    for sub_id, parts in stale:
        record_event(db, actor, "submission:release_incomplete", "submission", sub_id, parts=parts,
                     hours=int(hours))
    db.flush()
    return len(ids)

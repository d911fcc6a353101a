"""An OpenRosa submission as intake seals it, and as the worker opens it.

The intake node seals what the device sent, as it came: the submission XML (from an encrypted form, the
manifest) as the first part, then every media part under its file name. It reads nothing but the
metadata it needs for routing (form id, version, instanceID), so the answers are never interpreted on the
node that faces the internet, and a plain and an encrypted submission take the same path. The worker, which
holds the private keys, decrypts an ODK-encrypted payload and parses the XForm instance into fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.forms.validate import validate_submission
from amanat.intake.errors import IntakeError
from amanat.intake.form_versions import form_by_id, form_version_spec
from amanat.intake.models import Submission
from amanat.intake.odk_crypto import decrypt_submission, parse_manifest
from amanat.intake.parsed import Attachment, ParsedSubmission, make_attachment, safe_file_name
from amanat.intake.xform_submission import instance_answers, parse_xform_submission

PAYLOAD = "openrosa_payload"  # provenance key: "xform" (plain) or "odk_encrypted"
XML_PART = "submission.xml"
MANIFEST_PART = "manifest.xml"
WORKER = Actor("system:worker")


def pack_openrosa(xml: bytes, media: Sequence[tuple[str, bytes]], *, encrypted: bool,
                  device: str) -> ParsedSubmission:
    """What intake seals: no fields, the XML first, then the media parts as they came."""
    first = Attachment(MANIFEST_PART if encrypted else XML_PART, "text/xml", xml)
    return ParsedSubmission(channel="openrosa", fields={},
                            attachments=[first, *(media_part(name, data) for name, data in media)],
                            provenance={PAYLOAD: "odk_encrypted" if encrypted else "xform",
                                        "openrosa": {"device": device}})


def media_part(name: str, data: bytes) -> Attachment:
    return make_attachment(safe_file_name(name), data)


def is_openrosa_payload(parsed: ParsedSubmission) -> bool:
    return parsed.channel == "openrosa" and parsed.provenance.get(PAYLOAD) in ("xform", "odk_encrypted")


def _coded(exc: IntakeError, code: str) -> IntakeError:
    if exc.code == IntakeError.code:  # keep a more specific code (odk_wrong_key) where there is one
        exc.code = code
    return exc


def check_against_form(db: Session, xml: bytes, media: Mapping[str, bytes], provenance: Mapping[str, object]) -> None:
    """The answers checked as the web form checks them, against the form version the device filled in
    (required fields, choices, the form's constraints, consent): an instance that fails, an empty one
    included, raises IntakeError ``form_invalid`` naming the fields and what is wrong (never a value). The
    worker then keeps it sealed and marked failed with that code, for staff to look at: never a case."""
    form_id, version = provenance.get("form_id"), provenance.get("version")
    spec = None
    if isinstance(form_id, str):
        spec = (form_version_spec(db, form_id, version) if isinstance(version, str) else None) \
            or form_by_id(db, form_id)
    if spec is None:
        raise _coded(IntakeError("the form of this submission is not known to this server"), "form_invalid")
    try:
        values, files = instance_answers(xml, [r.name for r in spec.repeats()], spec.attachment_fields, media)
    except IntakeError as exc:
        raise _coded(exc, "xform_invalid") from None
    errors = validate_submission(spec, values, files).errors
    if errors:
        listed = ", ".join(f"{name} ({key})" for name, key in sorted(errors.items())[:12])
        more = f" and {len(errors) - 12} more" if len(errors) > 12 else ""
        raise _coded(IntakeError(f"the answers do not satisfy form {spec.form_id} version {spec.version}: "
                                 f"{listed}{more}"), "form_invalid")


def open_openrosa_payload(db: Session, submission_id: str, sealed: ParsedSubmission,
                          unwrap: Callable[[bytes], bytes]) -> ParsedSubmission:
    """Decrypt (where encrypted) and parse a sealed OpenRosa payload into a ParsedSubmission (worker side).

    Raises IntakeError with code ``odk_decrypt_failed``, ``odk_wrong_key``, ``xform_invalid`` or
    ``form_invalid`` (the answers fail the form version's checks, see check_against_form); the worker
    then marks the submission failed and stores nothing of it. A signature that does not match is not an
    error: the record is kept and flagged, and ``submission:signature_mismatch`` is audited.
    """
    kind = sealed.provenance[PAYLOAD]
    xml = sealed.attachments[0].data
    media: dict[str, bytes] = {}
    repeated = 0
    for att in sealed.attachments[1:]:
        # A retried POST may repeat a part (the intake node cannot see names to skip it): the last one wins.
        repeated += att.name in media
        media[att.name] = att.data
    openrosa: dict[str, object] = dict(sealed.provenance.get("openrosa") or {})
    openrosa["payload"] = kind
    if repeated:
        openrosa["repeated_parts"] = repeated
    flags: dict[str, object] = {}
    if kind == "odk_encrypted":
        try:
            manifest = parse_manifest(xml)
            files = {name: media[safe_file_name(name)] for name in [*manifest.media, manifest.encrypted_xml_file]
                     if safe_file_name(name) in media}
            # A submission released with parts missing (see openrosa.release_stale) still opens; what
            # never arrived is listed and the record flagged, so nothing the applicant sent is lost.
            decrypted = decrypt_submission(manifest, files, unwrap, allow_missing_media=True)
        except IntakeError as exc:
            raise _coded(exc, "odk_decrypt_failed") from None
        xml, media = decrypted.xml, decrypted.media
        signature = {None: "absent", True: "valid", False: "mismatch"}[decrypted.signature_valid]
        if decrypted.missing_media:
            signature = "unverifiable"
            flags["missing_media"] = len(decrypted.missing_media)
        openrosa["signature"] = signature
        if signature == "mismatch":
            flags["signature_mismatch"] = True
            record_event(db, WORKER, "submission:signature_mismatch", "submission", submission_id)
    try:
        parsed = parse_xform_submission(xml, media=media, channel="openrosa")
    except IntakeError as exc:
        raise _coded(exc, "xform_invalid") from None
    check_against_form(db, xml, media, parsed.provenance)
    provenance = dict(parsed.provenance)
    if kind == "odk_encrypted" and provenance.get("instanceID") != manifest.instance_id:
        flags["instance_mismatch"] = True  # the encrypted XML names another instance than its manifest

    # Documents in the order parse_xform_submission attached them, each with the field that named it;
    # media the XML does not name are kept too (nothing a device sent is dropped), without a field.
    media_fields = provenance.get("media_fields")
    by_file: dict[str, str] = {}
    for field_name, file_name in (media_fields.items() if isinstance(media_fields, dict) else ()):
        by_file.setdefault(str(file_name), str(field_name))
    attachments = list(parsed.attachments)
    attachment_fields = [by_file[f] for f in by_file if f in media]
    for name, data in media.items():
        if name not in by_file:
            attachments.append(make_attachment(name, data))
            attachment_fields.append("attachment")
    provenance["attachment_fields"] = attachment_fields
    provenance["openrosa"] = openrosa
    if flags:
        provenance["flags"] = flags

    deprecated = provenance.get("deprecatedID")
    if isinstance(deprecated, str) and deprecated:
        # An edit made on the device: link it to the submission (and record) it replaces.
        original = db.execute(select(Submission.id, Submission.record_id)
                              .where(Submission.instance_id == deprecated[:100])).first()
        provenance["deprecates"] = {"instance_id": deprecated,
                                    "submission_id": original[0] if original else None,
                                    "record_id": original[1] if original else None}
        record_event(db, WORKER, "submission:edit", "submission", submission_id,
                     original=original[0] if original else None, found=original is not None)
    return ParsedSubmission(channel="openrosa", fields=parsed.fields, attachments=attachments,
                            provenance=provenance, field_sources=parsed.field_sources, context=parsed.context)

"""An ODK/XForm submission instance (decrypted where it was encrypted) → ParsedSubmission.

Groups are flattened (`/data/personal/full_name` → full_name); the repeat group `family` becomes a list
of member dicts; meta/instanceID, deprecatedID, the form id and version go to provenance. Element
names that are not canonical are matched like labels ("name" → full_name); the form's own extra
fields (consent, references, …) keep their names rather than being dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # types and ParseError only; parsing goes through defusedxml  # nosec B405
from collections.abc import Iterable, Mapping

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from amanat.intake.errors import IntakeError
from amanat.intake.labels import CANONICAL_FIELDS, FAMILY_MEMBER_FIELDS, LabelMatcher
from amanat.intake.parsed import Attachment, ParsedSubmission, make_attachment, safe_file_name

_KNOWN = frozenset((*CANONICAL_FIELDS, *FAMILY_MEMBER_FIELDS))
# XLSForm metadata types: kept as provenance (times) or left out (device and account identifiers).
_META_TIMES = frozenset({"start", "end", "today", "timeStart", "timeEnd"})
_META_DROPPED = frozenset({"deviceid", "username", "phonenumber", "simserial", "subscriberid", "email",
                           "audit", "instanceName"})
_MAX_DEPTH = 32
# What Collect stores in a binary field: the bare file name of the attachment.
_FILE_VALUE = re.compile(r"^[^\s/\\]{1,200}\.(?:jpe?g|png|heic|heif|webp|gif|pdf|mp4|3gpp?|m4a|amr|ogg|opus|"
                         r"mp3|wav|aac|csv|txt|docx?|xlsx?)$", re.IGNORECASE)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_xform_submission(xml_bytes: bytes, *, media: Mapping[str, bytes] | None = None,
                           extra_labels: Mapping[str, Iterable[str]] | None = None,
                           source: str = "submission.xml", channel: str = "openrosa") -> ParsedSubmission:
    """Parse one submission instance; `media` maps attachment file names to their bytes."""
    try:
        root = SafeET.fromstring(xml_bytes)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise IntakeError("not well-formed XML (or uses entities, which are refused)", source=source) from exc
    matcher = LabelMatcher(extra_labels)
    fields: dict[str, object] = {}
    field_sources: dict[str, str] = {}
    provenance: dict[str, object] = {"source": source, "form_id": root.get("id"),
                                     "version": root.get("version"), "root": _local(root.tag)}
    media_fields: dict[str, str] = {}
    unnamed: list[str] = []

    def name_of(local: str) -> str:
        if local in _KNOWN:
            return local
        return matcher.match(local.replace("_", " ")) or local

    def leaf_value(el: ET.Element) -> str | None:
        text = (el.text or "").strip()
        return text or None

    def flatten(el: ET.Element, path: str, depth: int) -> dict[str, str]:
        """A repeat entry: its leaves (nested groups flattened) by canonical name."""
        if depth > _MAX_DEPTH:
            raise IntakeError("elements are nested too deeply", source=source, field=path)
        out: dict[str, str] = {}
        for child in el:
            local = _local(child.tag)
            if len(child):
                out.update(flatten(child, f"{path}/{local}", depth + 1))
            elif (value := leaf_value(child)) is not None:
                out.setdefault(name_of(local), value)
        return out

    def walk(el: ET.Element, path: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise IntakeError("elements are nested too deeply", source=source, field=path)
        counts: dict[str, int] = {}
        for child in el:
            counts[_local(child.tag)] = counts.get(_local(child.tag), 0) + 1
        for child in el:
            local = _local(child.tag)
            child_path = f"{path}/{local}"
            if local == "meta" and depth == 1:
                _meta(child, provenance)
                continue
            if len(child):
                name = name_of(local)
                if name == "family" or counts[local] > 1:
                    entries = fields.setdefault(name, [])
                    if isinstance(entries, list):
                        entries.append(flatten(child, child_path, depth + 1))
                        field_sources.setdefault(name, f"element {child_path}")
                    continue
                walk(child, child_path, depth + 1)
                continue
            value = leaf_value(child)
            if value is None:
                continue
            if local in _META_TIMES:
                provenance[local] = value
                continue
            if local in _META_DROPPED:
                continue
            name = name_of(local)
            if name in fields:
                # Same leaf name in two groups: keep the second under its path rather than lose it.
                unnamed.append(child_path)
                name = child_path.lstrip("/")
            fields[name] = value
            field_sources[name] = f"element {child_path}"
            if _FILE_VALUE.match(value):
                media_fields[name] = value

    walk(root, f"/{_local(root.tag)}", 1)
    attachments: list[Attachment] = []
    missing: list[str] = []
    available = media or {}
    for file_name in dict.fromkeys(media_fields.values()):
        if file_name in available:
            attachments.append(make_attachment(file_name, available[file_name]))
        else:
            missing.append(safe_file_name(file_name))
    if media_fields:
        provenance["media_fields"] = media_fields
    if missing:
        provenance["missing_media"] = missing
    if unnamed:
        provenance["duplicate_elements"] = unnamed
    return ParsedSubmission(channel=channel, fields=fields, attachments=attachments, provenance=provenance,
                            field_sources=field_sources, context=[])


def _meta(meta: ET.Element, provenance: dict[str, object]) -> None:
    for child in meta:
        local = _local(child.tag)
        text = (child.text or "").strip()
        if text and (local in {"instanceID", "deprecatedID"} or local in _META_TIMES):
            provenance[local] = text


def instance_answers(xml_bytes: bytes, repeats: Iterable[str], attachment_fields: Iterable[str],
                     media: Mapping[str, bytes]) -> tuple[dict[str, str], dict[str, tuple[str, str, int]]]:
    """An instance's answers keyed as the web form posts them, for forms.validate: a leaf by its element name
    (groups flattened), a repeat's leaves as ``<repeat>-<n>-<name>``; attachment fields as (file name, content
    type, size) of the media part they name, where it arrived. Element names are the form's own (not matched
    like labels), so the form's required fields and constraints apply to exactly what the device sent."""
    try:
        root = SafeET.fromstring(xml_bytes)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise IntakeError("not well-formed XML (or uses entities, which are refused)") from exc
    repeat_names = set(repeats)
    binary = set(attachment_fields)
    values: dict[str, str] = {}
    files: dict[str, tuple[str, str, int]] = {}
    rows: dict[str, int] = {}

    def walk(el: ET.Element, row: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise IntakeError("elements are nested too deeply")
        for child in el:
            local = _local(child.tag)
            if local == "meta" and depth == 1:
                continue
            if local in repeat_names:
                number = rows.get(local, 0)
                rows[local] = number + 1
                walk(child, f"{local}-{number}-", depth + 1)
                continue
            if len(child):
                walk(child, row, depth + 1)
                continue
            text = (child.text or "").strip()
            if not text:
                continue
            key = row + local
            values.setdefault(key, text)
            if local in binary and text in media:
                att = make_attachment(text, media[text])
                files[key] = (att.name, att.content_type, len(att.data))

    walk(root, "", 1)
    return values, files

"""The XForm that ODK Collect / KoboCollect download, converted by pyxform from the same XLSForm.

An encrypted variant carries the organisation's RSA public key (settings ``public_key``): Collect then
encrypts each finished submission on the phone, and the submission element names where to post it.
This module only copies the key text into the form; keys themselves are handled in core.crypto.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import lru_cache
from urllib.parse import urlsplit

from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError

from amanat.errors import InvalidInput
from amanat.forms.spec import FormError, FormSpec, convert_definition, read_workbook


def to_xform(
    source: FormSpec | bytes,
    *,
    public_key_b64: str | None = None,
    submission_url: str | None = None,
) -> bytes:
    """The XForm (UTF-8 XML) for a form spec or raw xlsx bytes, optionally encrypted to a public key.

    ``public_key_b64`` is the base64 of the DER SubjectPublicKeyInfo (PEM armour is stripped);
    ``submission_url`` is where Collect posts submissions (required by some clients with encryption).
    """
    data = source.xlsx if isinstance(source, FormSpec) else bytes(source)
    key = _clean_key(public_key_b64) if public_key_b64 else None
    url = _clean_url(submission_url) if submission_url else None
    return _convert(data, key, url)


def xform_md5(xml: bytes) -> str:
    """The hash an OpenRosa form list announces: ``md5:`` + MD5 hex of the form file's bytes."""
    return "md5:" + hashlib.md5(xml, usedforsecurity=False).hexdigest()


@lru_cache(maxsize=16)
def _convert(data: bytes, key: str | None, url: str | None) -> bytes:
    definition = read_workbook(data)
    extra = {k: v for k, v in (("public_key", key), ("submission_url", url)) if v}
    if extra:
        settings = dict((definition.settings or [{}])[0])
        header = dict((definition.settings_header or [{}])[0])
        settings.update(extra)
        header.update(dict.fromkeys(extra))
        definition.settings = [settings]
        definition.settings_header = [header]
    form_json = convert_definition(definition, to_xml=False)
    try:
        # Compact, not pretty-printed: the form is downloaded over slow, expensive connections.
        xml = create_survey_element_from_dict(form_json).to_xml(validate=False, pretty_print=False, warnings=[])
    except PyXFormError as err:  # e.g. omit_instanceID together with public_key
        raise FormError(f"Invalid XLSForm: {err}") from err
    return xml.encode("utf-8")


def _clean_key(value: str) -> str:
    lines = [ln.strip() for ln in value.strip().splitlines() if ln.strip() and not ln.startswith("-----")]
    key = "".join(lines)
    try:
        der = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidInput("The form's public key is not valid base64.", field="public_key") from err
    if len(der) < 64:  # far shorter than any RSA SubjectPublicKeyInfo
        raise InvalidInput("The form's public key is too short to be an RSA public key.", field="public_key")
    return key


def _clean_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidInput("The submission URL must be an absolute http(s) URL.", field="submission_url")
    return value.strip()

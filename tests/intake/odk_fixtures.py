"""Briefcase's encrypted-form fixtures, loaded under the names Collect gives the files."""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from amanat.intake.odk_crypto import Manifest, parse_manifest

from .shared_data import SHARED_DATA

ODK = SHARED_DATA / "odk"
FORMS = ("encrypted-form", "encrypted-form-media")


def load(form: str) -> tuple[Manifest, dict[str, bytes], bytes]:
    manifest = parse_manifest((ODK / f"{form}-submission.xml").read_bytes())
    files = {n: (ODK / f"{form}-{n}").read_bytes() for n in [*manifest.media, manifest.encrypted_xml_file]}
    return manifest, files, (ODK / f"{form}-key.pem").read_bytes()


@cache
def fresh_key() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a fresh 2048-bit key, made once per test run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public

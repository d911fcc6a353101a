"""ODK encrypted submissions, exactly as ODK Collect writes them (xforms-spec, "Encrypted forms").

Per submission a random AES-256 key is wrapped with RSA-OAEP (SHA-256 digest and MGF1-SHA-256); every
file is AES-256-CFB128 with PKCS#7 padding under an IV derived from MD5(instanceID ‖ key), bumped
one byte per file. The optional element signature proves the files arrived whole; it does not prove
who sent them, so a mismatch is reported as a flag for a person to look at, not dropped silently.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import xml.etree.ElementTree as ET  # only to build XML; parsing goes through defusedxml  # nosec B405
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from amanat.errors import CryptoError
from amanat.intake.errors import IntakeError

COLLECT_NAMESPACE = "http://www.opendatakit.org/xforms/encrypted"
OPENROSA_NAMESPACE = "http://openrosa.org/xforms"
SUBMISSION_XML = "submission.xml"
_MANIFEST = "submission manifest"


def _oaep() -> OAEP:
    # Collect's RSA/NONE/OAEPWithSHA256AndMGF1Padding: SHA-256 for the digest and for MGF1 alike.
    return OAEP(mgf=MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@dataclass(frozen=True)
class Manifest:
    form_id: str
    version: str | None
    base64_encrypted_key: str
    encrypted_xml_file: str
    media: list[str]
    instance_id: str
    signature: str | None


@dataclass
class DecryptedSubmission:
    xml: bytes = field(repr=False)
    media: dict[str, bytes] = field(repr=False)   # decrypted name (".enc" removed) -> plaintext
    signature_valid: bool | None                  # None: no signature, or media missing so none can be checked
    instance_id: str
    form_id: str
    version: str | None
    missing_media: tuple[str, ...] = ()           # manifest media not received (allow_missing_media only)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_manifest(xml_bytes: bytes) -> Manifest:
    """The manifest posted as xml_submission_file, read by local names (producers differ in namespace)."""
    try:
        root = SafeET.fromstring(xml_bytes)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise IntakeError("not well-formed XML (or uses entities, which are refused)", source=_MANIFEST) from exc
    if root.get("encrypted", "").lower() not in {"yes", "true"}:
        raise IntakeError("not an encrypted submission (encrypted=\"yes\" missing)", source=_MANIFEST)
    form_id = root.get("id")
    if not form_id:
        raise IntakeError("the form id attribute is missing", source=_MANIFEST)
    texts: dict[str, str] = {}
    media: list[str] = []
    instance_id = None
    for el in root.iter():
        name = _local(el.tag)
        text = (el.text or "").strip()
        if name == "file" and text:
            media.append(text)
        elif name == "instanceID" and text:
            instance_id = text
        elif name in {"base64EncryptedKey", "encryptedXmlFile", "base64EncryptedElementSignature"} and text:
            texts[name] = text
    instance_id = instance_id or root.get("instanceID")
    for required in ("base64EncryptedKey", "encryptedXmlFile"):
        if required not in texts:
            raise IntakeError("element is missing or empty", source=_MANIFEST, field=required)
    if not instance_id:
        raise IntakeError("element is missing or empty", source=_MANIFEST, field="instanceID")
    return Manifest(form_id=form_id, version=root.get("version") or None,
                    base64_encrypted_key=texts["base64EncryptedKey"],
                    encrypted_xml_file=texts["encryptedXmlFile"], media=media, instance_id=instance_id,
                    signature=texts.get("base64EncryptedElementSignature"))


def iv_sequence(instance_id: str, key: bytes, n: int) -> list[bytes]:
    """The IVs of the first n files: seed = MD5(instanceID ‖ key); before file i, seed[i % 16] += 1."""
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + key).digest())  # noqa: S324 (protocol)  # nosec B324
    ivs = []
    for i in range(n):
        seed[i % 16] = (seed[i % 16] + 1) % 256
        ivs.append(bytes(seed))
    return ivs


def _cfb(key: bytes, iv: bytes) -> Cipher[CFB]:
    return Cipher(algorithms.AES(key), CFB(iv))


def _decrypt_file(key: bytes, iv: bytes, data: bytes, name: str) -> bytes:
    if not data or len(data) % 16:
        # Padding makes every file a whole number of blocks; anything else was cut short.
        raise IntakeError("encrypted file is truncated (not whole AES blocks)", source=name)
    dec = _cfb(key, iv).decryptor()
    padded = dec.update(data) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise IntakeError("decryption failed: bad padding (wrong key, or the file was altered)",
                          source=name) from None


def _encrypt_file(key: bytes, iv: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    enc = _cfb(key, iv).encryptor()
    return enc.update(padded) + enc.finalize()


def _load_private_key(pem: bytes, password: bytes | None) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError:
        raise IntakeError("the private key is password-protected and no password was given (or the "
                          "reverse)", source="private key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise IntakeError("the private key cannot be read (not PEM, or the password is wrong)",
                          source="private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise IntakeError("the private key is not an RSA key", source="private key")
    return key


Unwrap = Callable[[bytes], bytes]  # RSA-OAEP (SHA-256, MGF1-SHA-256) decryption with the form's private key


def _pem_unwrap(key: rsa.RSAPrivateKey) -> Unwrap:
    return lambda data: key.decrypt(data, _oaep())


def _unwrap(unwrap: Unwrap, b64: str, what: str) -> bytes:
    try:
        wrapped = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise IntakeError("not valid base64", source=_MANIFEST, field=what) from None
    try:
        return unwrap(wrapped)
    except (ValueError, CryptoError):
        err = IntakeError("cannot be unwrapped with this private key (wrong key, or the manifest was "
                          "altered)", source=_MANIFEST, field=what)
        err.code = "odk_wrong_key"
        raise err from None


def _signature_source(form_id: str, version: str | None, b64_key: str, instance_id: str,
                      plaintexts: Sequence[tuple[str, bytes]]) -> bytes:
    lines = [form_id, *([version] if version else []), b64_key, instance_id]
    lines += [f"{name}::{hashlib.md5(data).hexdigest()}" for name, data in plaintexts]  # noqa: S324 - ODK's format  # nosec B324
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _plain_name(enc_name: str) -> str:
    return enc_name[: -len(".enc")] if enc_name.endswith(".enc") else enc_name


def decrypt_submission(manifest: Manifest, files: Mapping[str, bytes], private_key: bytes | Unwrap, *,
                       password: bytes | None = None, strict: bool = False,
                       allow_missing_media: bool = False) -> DecryptedSubmission:
    """Open an encrypted submission: `files` maps the manifest's .enc names to their bytes.

    `private_key` is a PEM private key, or a callable that unwraps with a key held elsewhere (the worker
    passes ``KeyHolder.odk_unwrap``, so the organisation's key never leaves core.crypto).
    With strict=True a signature that does not match raises instead of returning signature_valid=False.
    With allow_missing_media=True, media files that never arrived are skipped and listed (each file's IV
    depends only on its position, so the others still open); the signature covers every file, so it
    cannot be checked and signature_valid is None. The encrypted XML itself is always required.
    """
    unwrap = private_key if callable(private_key) else _pem_unwrap(_load_private_key(private_key, password))
    key = _unwrap(unwrap, manifest.base64_encrypted_key, "base64EncryptedKey")
    if len(key) != 32:
        raise IntakeError("the unwrapped key is not an AES-256 key", source=_MANIFEST,
                          field="base64EncryptedKey")
    order = [*manifest.media, manifest.encrypted_xml_file]
    missing = tuple(name for name in order if name not in files)
    if missing and (not allow_missing_media or manifest.encrypted_xml_file in missing):
        raise IntakeError("file named in the manifest is missing", source=missing[0])
    ivs = iv_sequence(manifest.instance_id, key, len(order))
    plain: list[tuple[str, bytes]] = [
        (_plain_name(name), _decrypt_file(key, iv, files[name], name))
        for name, iv in zip(order, ivs, strict=True) if name in files
    ]
    signature_valid: bool | None = None
    if manifest.signature is not None and not missing:
        expected = hashlib.md5(_signature_source(  # noqa: S324 (the protocol's choice)  # nosec B324
            manifest.form_id, manifest.version, manifest.base64_encrypted_key, manifest.instance_id,
            plain)).digest()
        try:
            signature_valid = _unwrap(unwrap, manifest.signature, "base64EncryptedElementSignature") == expected
        except IntakeError:
            signature_valid = False
        if strict and not signature_valid:
            raise IntakeError("the files do not match the manifest's signature (one is missing, altered or "
                              "replaced)", source=_MANIFEST, field="base64EncryptedElementSignature")
    xml = plain[-1][1]
    return DecryptedSubmission(xml=xml, media=dict(plain[:-1]), signature_valid=signature_valid,
                               instance_id=manifest.instance_id, form_id=manifest.form_id,
                               version=manifest.version, missing_media=tuple(_plain_name(n) for n in missing))


def encrypt_submission(xml: bytes, media: Mapping[str, bytes], public_key: bytes | rsa.RSAPublicKey, *,
                       form_id: str, instance_id: str, version: str | None = None, sign: bool = True,
                       key: bytes | None = None) -> tuple[bytes, dict[str, bytes]]:
    """Encrypt a submission the way Collect does, for tests and demos: (manifest XML, {name.enc: bytes}).

    `public_key` is a PEM/DER public key or the base64 DER that an XLSForm's settings carry.
    """
    pub = _load_public_key(public_key)
    key = key if key is not None else os.urandom(32)
    names = list(media)
    ivs = iv_sequence(instance_id, key, len(names) + 1)
    files = {f"{name}.enc": _encrypt_file(key, iv, media[name]) for name, iv in zip(names, ivs, strict=False)}
    files[f"{SUBMISSION_XML}.enc"] = _encrypt_file(key, ivs[-1], xml)
    b64_key = base64.b64encode(pub.encrypt(key, _oaep())).decode("ascii")

    ns = COLLECT_NAMESPACE
    root = ET.Element(f"{{{ns}}}data", {"id": form_id, "encrypted": "yes"})
    if version:
        root.set("version", version)
    ET.SubElement(root, f"{{{ns}}}base64EncryptedKey").text = b64_key
    meta = ET.SubElement(root, f"{{{OPENROSA_NAMESPACE}}}meta")
    ET.SubElement(meta, f"{{{OPENROSA_NAMESPACE}}}instanceID").text = instance_id
    for name in names:
        ET.SubElement(ET.SubElement(root, f"{{{ns}}}media"), f"{{{ns}}}file").text = f"{name}.enc"
    ET.SubElement(root, f"{{{ns}}}encryptedXmlFile").text = f"{SUBMISSION_XML}.enc"
    if sign:
        plain = [*((n, media[n]) for n in names), (SUBMISSION_XML, xml)]
        digest = hashlib.md5(_signature_source(form_id, version, b64_key, instance_id, plain)).digest()  # noqa: S324 - ODK  # nosec B324
        ET.SubElement(root, f"{{{ns}}}base64EncryptedElementSignature").text = base64.b64encode(
            pub.encrypt(digest, _oaep())).decode("ascii")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), files


def _load_public_key(public_key: bytes | rsa.RSAPublicKey) -> rsa.RSAPublicKey:
    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key
    raw = public_key.strip()
    try:
        if raw.startswith(b"-----BEGIN"):
            loaded = serialization.load_pem_public_key(raw)
        else:
            der = raw if raw[:1] == b"\x30" else base64.b64decode(raw, validate=True)
            loaded = serialization.load_der_public_key(der)
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        raise IntakeError("the public key cannot be read", source="public key") from None
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise IntakeError("the public key is not an RSA key", source="public key")
    return loaded

import base64
import csv
import io

import pytest
from cryptography.hazmat.primitives import serialization

from amanat.intake.errors import IntakeError
from amanat.intake.odk_crypto import (
    decrypt_submission,
    encrypt_submission,
    iv_sequence,
    parse_manifest,
)
from amanat.intake.xform_submission import parse_xform_submission

from .odk_fixtures import FORMS, ODK, fresh_key, load


def test_iv_vector_from_the_spec() -> None:
    key = base64.b64decode("3TJoHf74zHbDwG3Ta+bcvfUr50C6yF/astfu+CdSnQU=")
    ivs = iv_sequence("uuid:22525f8e-4f2d-41ed-94da-4c46a2478448", key, 18)
    assert ivs[0].hex() == "39bbb0890f3222269da68b172146477a"
    assert ivs[1].hex() == "39bcb0890f3222269da68b172146477a"
    # Changes accumulate and wrap around the 16 bytes: file 16 bumps byte 0 a second time.
    assert ivs[16][0] == (ivs[0][0] + 1) % 256 and ivs[16][1:] == ivs[15][1:]


def test_manifest_is_read_by_local_names() -> None:
    m = parse_manifest((ODK / "encrypted-form-media-submission.xml").read_bytes())
    assert m.form_id == "encrypted-form-media" and m.version is None
    assert m.media == ["1538040007350.jpg.enc", "1538040019351.jpg.enc"]
    assert m.encrypted_xml_file == "submission.xml.enc"
    assert m.instance_id == "uuid:482e83f3-fae6-43ba-a6e9-e438ffe348e3"
    assert m.signature is not None


@pytest.mark.parametrize("form", FORMS)
def test_briefcase_fixtures_decrypt_as_the_csv_exports_say(form: str) -> None:
    manifest, files, pem = load(form)
    result = decrypt_submission(manifest, files, pem)
    assert result.signature_valid is True
    for name, data in result.media.items():
        assert data == (ODK / f"{form}-media__{name}").read_bytes()
    (expected,) = csv.DictReader(io.StringIO((ODK / f"{form}.csv.expected").read_text()))
    parsed = parse_xform_submission(result.xml, media=result.media)
    assert parsed.fields["full_name"] == expected["name"]   # the form's <name> is our full_name
    assert parsed.provenance["instanceID"] == expected["meta-instanceID"] == expected["KEY"]
    assert parsed.provenance["form_id"] == form
    assert expected["isValidated"] == "true"
    for column in ("image1", "image2"):
        if column in expected:
            assert f"media/{parsed.fields[column]}" == expected[column]
    assert sorted(a.name for a in parsed.attachments) == sorted(result.media)


def test_wrong_key() -> None:
    manifest, files, _ = load("encrypted-form")
    other, _ = fresh_key()
    with pytest.raises(IntakeError) as info:
        decrypt_submission(manifest, files, other)
    assert "base64EncryptedKey" in str(info.value)


def test_tampered_last_block_fails_padding_and_names_the_file() -> None:
    manifest, files, pem = load("encrypted-form-media")
    data = bytearray(files["1538040019351.jpg.enc"])
    data[-1] ^= 0x55
    files["1538040019351.jpg.enc"] = bytes(data)
    with pytest.raises(IntakeError) as info:
        decrypt_submission(manifest, files, pem)
    assert str(info.value).startswith("1538040019351.jpg.enc: decryption failed")


def test_tampered_middle_is_flagged_by_the_signature() -> None:
    manifest, files, pem = load("encrypted-form-media")
    data = bytearray(files["1538040007350.jpg.enc"])
    data[5000] ^= 0x01
    files["1538040007350.jpg.enc"] = bytes(data)
    result = decrypt_submission(manifest, files, pem)
    assert result.signature_valid is False
    with pytest.raises(IntakeError, match="signature"):
        decrypt_submission(manifest, files, pem, strict=True)


def test_truncated_and_missing_files() -> None:
    manifest, files, pem = load("encrypted-form-media")
    short = dict(files, **{"submission.xml.enc": files["submission.xml.enc"][:-7]})
    with pytest.raises(IntakeError, match=r"submission\.xml\.enc: encrypted file is truncated"):
        decrypt_submission(manifest, short, pem)
    missing = {k: v for k, v in files.items() if k != "1538040007350.jpg.enc"}
    with pytest.raises(IntakeError, match=r"1538040007350\.jpg\.enc: file named in the manifest is missing"):
        decrypt_submission(manifest, missing, pem)
    # Released with a part missing: the rest opens (IVs go by position), the signature cannot be checked.
    opened = decrypt_submission(manifest, missing, pem, allow_missing_media=True)
    full = decrypt_submission(manifest, files, pem)
    assert opened.missing_media == ("1538040007350.jpg",) and opened.signature_valid is None
    assert opened.xml == full.xml and opened.media == {k: v for k, v in full.media.items() if k != "1538040007350.jpg"}
    no_xml = {k: v for k, v in files.items() if k != "submission.xml.enc"}
    with pytest.raises(IntakeError, match=r"submission\.xml\.enc: file named in the manifest is missing"):
        decrypt_submission(manifest, no_xml, pem, allow_missing_media=True)


def test_bad_manifests() -> None:
    with pytest.raises(IntakeError, match="not well-formed"):
        parse_manifest(b"<data")
    with pytest.raises(IntakeError, match="not an encrypted submission"):
        parse_manifest(b'<data id="x"><name>Ali</name></data>')
    with pytest.raises(IntakeError, match="base64EncryptedKey"):
        parse_manifest(b'<data id="x" encrypted="yes"><encryptedXmlFile>s.enc</encryptedXmlFile></data>')
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>'
            b'<data id="x" encrypted="yes">&a;</data>')
    with pytest.raises(IntakeError):
        parse_manifest(bomb)


def test_round_trip_like_collect_with_media_and_version() -> None:
    private, public = fresh_key()
    xml = '<data id="service_record" version="7"><full_name>نجیب‌الله</full_name></data>'.encode()
    media = {"tazkira.jpg": b"\xff\xd8\xff" + bytes(range(256)) * 3, "passport.pdf": b"%PDF-1.4 x"}
    manifest_xml, files = encrypt_submission(xml, media, public, form_id="service_record", version="7",
                                             instance_id="uuid:1234")
    assert set(files) == {"tazkira.jpg.enc", "passport.pdf.enc", "submission.xml.enc"}
    manifest = parse_manifest(manifest_xml)
    assert manifest.media == ["tazkira.jpg.enc", "passport.pdf.enc"] and manifest.version == "7"
    result = decrypt_submission(manifest, files, private)
    assert (result.xml, result.media, result.signature_valid) == (xml, media, True)
    # The public key as an XLSForm carries it (base64 DER) works too; unsigned gives None.
    der = serialization.load_pem_public_key(public).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    manifest_xml, files = encrypt_submission(xml, {}, base64.b64encode(der), form_id="f",
                                             instance_id="uuid:9", sign=False)
    assert decrypt_submission(parse_manifest(manifest_xml), files, private).signature_valid is None


def test_password_protected_key() -> None:
    private, public = fresh_key()
    key = serialization.load_pem_private_key(private, None)
    locked = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.BestAvailableEncryption(b"s3cret"))
    manifest_xml, files = encrypt_submission(b"<data/>", {}, public, form_id="f", instance_id="uuid:1")
    manifest = parse_manifest(manifest_xml)
    assert decrypt_submission(manifest, files, locked, password=b"s3cret").xml == b"<data/>"
    with pytest.raises(IntakeError, match="private key"):
        decrypt_submission(manifest, files, locked)
    with pytest.raises(IntakeError, match="private key"):
        decrypt_submission(manifest, files, locked, password=b"wrong")

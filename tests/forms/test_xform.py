"""The XForm served to ODK Collect, plain and encrypted."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from amanat.errors import InvalidInput
from amanat.forms.spec import FormError, load_form
from amanat.forms.xform import to_xform, xform_md5
from tests.forms.workbooks import xlsx

NS = {"h": "http://www.w3.org/1999/xhtml", "xf": "http://www.w3.org/2002/xforms",
      "jr": "http://openrosa.org/javarosa"}
SUBMISSION_URL = "https://amanat.example.org/submission"


@pytest.fixture(scope="module")
def public_key_b64() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def plain() -> ET.Element:
    return ET.fromstring(to_xform(load_form()))


def model(root: ET.Element) -> ET.Element:
    found = root.find("h:head/xf:model", NS)
    assert found is not None
    return found


def test_plain_xform_is_valid_xml_with_three_languages(plain):
    assert plain.find("h:head/h:title", NS).text == "Service record"
    langs = [t.get("lang") for t in model(plain).findall("xf:itext/xf:translation", NS)]
    assert langs == ["English (en)", "Dari (prs)", "Pashto (ps)"]
    assert model(plain).find("xf:itext/xf:translation[@default='true()']", NS).get("lang") == "English (en)"


def test_instance_carries_form_id_version_and_every_field(plain):
    spec = load_form()
    data = model(plain).find("xf:instance/xf:data", NS)
    assert data.get("id") == spec.form_id and data.get("version") == spec.version
    names = {el.tag.split("}")[-1] for el in data.iter()}
    assert {f.name for f in spec.fields()} <= names
    assert "instanceID" in names


def test_translations_reach_the_xform(plain):
    texts = {v.text for v in model(plain).iter("{http://www.w3.org/2002/xforms}value")}
    assert "د پلار نوم" in texts and "نام پدر (ولد)" in texts and "ننګرهار" in texts


def test_district_filter_and_constraints_survive(plain):
    itemsets = [i.get("nodeset") for i in plain.iter("{http://www.w3.org/2002/xforms}itemset")]
    assert any("instance('district')" in s and "province" in s for s in itemsets)
    binds = {b.get("nodeset").rsplit("/", 1)[-1]: b for b in model(plain).findall("xf:bind", NS)}
    assert "regex" in binds["tazkira_number"].get("constraint")
    assert binds["consent"].get("required") == "true()"


def test_plain_form_has_no_submission_element(plain):
    assert model(plain).find("xf:submission", NS) is None


def test_encrypted_xform(public_key_b64):
    xml = to_xform(load_form(), public_key_b64=public_key_b64, submission_url=SUBMISSION_URL)
    root = ET.fromstring(xml)
    submission = model(root).find("xf:submission", NS)
    assert submission is not None
    assert submission.get("method") == "post"
    assert submission.get("base64RsaPublicKey") == public_key_b64
    assert submission.get("action") == SUBMISSION_URL
    meta = model(root).find("xf:instance/xf:data/xf:meta/xf:instanceID", NS)
    assert meta is not None
    assert b'<submission action="' in xml and b'base64RsaPublicKey="' in xml


def test_pem_armour_is_stripped(public_key_b64):
    pem = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(
        public_key_b64[i:i + 64] for i in range(0, len(public_key_b64), 64)) + "\n-----END PUBLIC KEY-----\n"
    root = ET.fromstring(to_xform(load_form(), public_key_b64=pem))
    assert model(root).find("xf:submission", NS).get("base64RsaPublicKey") == public_key_b64


def test_bytes_and_spec_give_the_same_xform():
    spec = load_form()
    assert to_xform(spec.xlsx) == to_xform(spec)


def test_xform_md5():
    xml = to_xform(load_form())
    assert xform_md5(xml) == "md5:" + hashlib.md5(xml).hexdigest()
    assert len(xform_md5(b"")) == 4 + 32


@pytest.mark.parametrize("key", ["not base64!!", "QUJD"])
def test_bad_public_key(key):
    with pytest.raises(InvalidInput):
        to_xform(load_form(), public_key_b64=key)


@pytest.mark.parametrize("url", ["ftp://x/submission", "/submission", "javascript:alert(1)"])
def test_bad_submission_url(url):
    with pytest.raises(InvalidInput):
        to_xform(load_form(), submission_url=url)


def test_omit_instance_id_with_public_key_is_refused(public_key_b64):
    data = xlsx([["type", "name", "label"], ["text", "a", "A"]],
                settings=[["form_id", "omit_instanceID"], ["t", "yes"]])
    to_xform(data)  # fine without encryption
    with pytest.raises(FormError):
        to_xform(data, public_key_b64=public_key_b64)

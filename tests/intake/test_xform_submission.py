import pytest

from amanat.intake.errors import IntakeError
from amanat.intake.xform_submission import parse_xform_submission

XML = """<?xml version='1.0'?>
<service_record xmlns:orx="http://openrosa.org/xforms" id="service_record" version="2024061201">
  <start>2024-06-12T10:00:00.000+04:30</start>
  <deviceid>collect:abc</deviceid>
  <personal><full_name>نجیب‌الله</full_name><father_name>Gul</father_name><name_latin/></personal>
  <service><rank>دگروال</rank><unit>215</unit><reference_name>Smith</reference_name></service>
  <family><member_name>Zahra</member_name><member_relationship>wife</member_relationship></family>
  <family><member_name>Omid</member_name><details><member_date_of_birth>1399</member_date_of_birth></details></family>
  <documents><tazkira_photo>1718000000000.jpg</tazkira_photo><passport_photo>1718000000001.jpg</passport_photo></documents>
  <orx:meta><orx:instanceID>uuid:2</orx:instanceID><orx:deprecatedID>uuid:1</orx:deprecatedID>
    <orx:instanceName>Najibullah</orx:instanceName></orx:meta>
</service_record>""".encode()


def test_fields_groups_repeats_meta_and_media() -> None:
    p = parse_xform_submission(XML, media={"1718000000000.jpg": b"\xff\xd8\xff\xe0"})
    assert p.channel == "openrosa"
    assert p.fields["full_name"] == "نجیب‌الله"
    assert p.fields["rank"] == "دگروال" and p.fields["reference_name"] == "Smith"
    assert p.fields["family"] == [
        {"member_name": "Zahra", "member_relationship": "wife"},
        {"member_name": "Omid", "member_date_of_birth": "1399"},
    ]
    assert "name_latin" not in p.fields and "deviceid" not in p.fields
    assert p.field_sources["full_name"] == "element /service_record/personal/full_name"
    prov = p.provenance
    assert (prov["form_id"], prov["version"]) == ("service_record", "2024061201")
    assert (prov["instanceID"], prov["deprecatedID"]) == ("uuid:2", "uuid:1")
    assert prov["start"] == "2024-06-12T10:00:00.000+04:30"
    assert "Najibullah" not in str(prov)     # instanceName is built from values
    assert [a.name for a in p.attachments] == ["1718000000000.jpg"]
    assert p.attachments[0].content_type == "image/jpeg"
    assert prov["missing_media"] == ["1718000000001.jpg"]


def test_extra_labels_map_foreign_element_names() -> None:
    p = parse_xform_submission(b"<data id='x'><nom>A</nom></data>", extra_labels={"full_name": ["nom"]})
    assert p.fields == {"full_name": "A"}


@pytest.mark.parametrize("data", [b"", b"<a>", b"\xff\xfe", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'])
def test_malformed_xml(data: bytes) -> None:
    with pytest.raises(IntakeError):
        parse_xform_submission(data)


def test_depth_limit() -> None:
    deep = b"<a>" * 100 + b"x" + b"</a>" * 100
    with pytest.raises(IntakeError, match="nested too deeply"):
        parse_xform_submission(deep)

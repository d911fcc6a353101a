import json

from amanat.intake.whatsapp import extract_submissions, parse_chat_text, preview_json

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20

CHAT = """۲۰۲۱/۵/۳۰، ۱۸:۳۰ - فرمانده: سلام، فورم یک نفر دیگر
۲۰۲۱/۵/۳۰، ۱۸:۴۰ - فرمانده: IMG-20210530-WA0001.jpg (file attached)
تذکره اش
۲۰۲۱/۵/۳۰، ۱۸:۴۴ - فرمانده: ۱- نام: احمد
۲- نام پدر: محمود
۳- تذکره: ۱۴۰۰-۰۱۰۱-۱۲۳۴۵
۴- رتبه: دگروال
۲۰۲۱/۵/۳۰، ۱۸:۴۵ - دفتر: تشکر
۲۰۲۱/۵/۳۰، ۱۸:۴۶ - فرمانده: قطعه: کندک ۵
او تا ۱۳۹۹ در هلمند بود
۲۰۲۱/۵/۳۰، ۱۸:۴۸ - فرمانده: IMG-20210530-WA0002.jpg (file attached)
۲۰۲۱/۵/۳۰، ۱۹:۳۰ - فرمانده: Name: Ali Khan
Father's name: Hassan
Rank: Sergeant
Unit: 215 Corps
۲۰۲۱/۵/۳۰، ۱۹:۳۱ - فرمانده: IMG-20210530-WA0003.jpg (file attached)
۲۰۲۱/۵/۳۰، ۱۹:۵۰ - فرمانده: Phone: 0799123456
۲۰۲۱/۵/۳۰، ۲۰:۰۰ - دفتر: Rank: ?
"""
MEDIA = {"IMG-20210530-WA0001.jpg": JPEG, "IMG-20210530-WA0003.jpg": PNG}


def _result():
    export = parse_chat_text(CHAT, file_name="WhatsApp Chat.txt", media=dict(MEDIA))
    return extract_submissions(export, intermediary="user-7")


def test_forms_are_found_merged_and_sourced() -> None:
    result = _result()
    first, second = result.submissions
    assert first.channel == "whatsapp"
    assert first.fields == {
        "full_name": "احمد", "father_name": "محمود", "tazkira_number": "۱۴۰۰-۰۱۰۱-۱۲۳۴۵", "rank": "دگروال",
        "unit": "کندک ۵", "notes": "او تا ۱۳۹۹ در هلمند بود",
    }
    assert first.field_sources["full_name"] == "message 2, line 1 (2021-05-30T18:44, sender 1)"
    assert first.field_sources["unit"] == "message 4, line 1 (2021-05-30T18:46, sender 1)"
    assert first.provenance["messages"] == [2, 4]
    assert first.provenance["intermediary"] == "user-7"
    assert first.provenance["source"] == "WhatsApp Chat.txt"
    # The Phone message came 20 minutes later: too late to continue the second form.
    assert second.fields == {"full_name": "Ali Khan", "father_name": "Hassan", "rank": "Sergeant",
                             "unit": "215 Corps"}


def test_photos_before_and_after_go_to_the_nearest_form_of_that_sender() -> None:
    first, second = _result().submissions
    assert [(a.name, a.content_type) for a in first.attachments] == [("IMG-20210530-WA0001.jpg", "image/jpeg")]
    # WA0002 was referenced but is not in the export: reported, not a crash.
    assert first.provenance["missing_attachments"] == ["IMG-20210530-WA0002.jpg"]
    assert [(a.name, a.content_type) for a in second.attachments] == [("IMG-20210530-WA0003.jpg", "image/png")]


def test_context_keeps_the_senders_other_messages() -> None:
    first, second = _result().submissions
    indexes = [c["index"] for c in first.context]
    assert 0 in indexes            # the greeting before the form
    assert 3 not in indexes        # another sender's message
    assert 7 not in indexes        # the second form's photo
    assert 8 in [c["index"] for c in second.context]  # the late Phone message that did not merge
    assert {"index", "timestamp", "sender", "text"} <= set(first.context[0])


def test_skipped_reports_half_forms_and_missing_media() -> None:
    skipped = _result().skipped
    reasons = {(s["message"], s["reason"]) for s in skipped}
    assert (5, "attachment not in the export") in reasons
    assert (8, "no name field") in reasons        # the lone Phone message
    assert (9, "no name field") in reasons        # the office's "Rank: ?"
    assert all(set(s) >= {"message", "timestamp", "reason"} for s in skipped)


def test_prose_is_not_a_form() -> None:
    chat = ("28/04/2021, 10:00 - Ali: name is on the tazkira, rank unknown\n"
            "28/04/2021, 10:01 - Ali: I will send the unit later")
    result = extract_submissions(parse_chat_text(chat, file_name="c.txt"), intermediary="u")
    assert result.submissions == [] and result.skipped == []


def test_a_second_name_starts_a_new_form_even_within_the_window() -> None:
    chat = ("28/04/2021, 10:00 - Ali: Name: A\nFather: B\nRank: C\n"
            "28/04/2021, 10:01 - Ali: Name: D\nFather: E\nRank: F\n")
    result = extract_submissions(parse_chat_text(chat, file_name="c.txt"), intermediary="u")
    assert [s.fields["full_name"] for s in result.submissions] == ["A", "D"]


def test_label_on_its_own_line_and_family_members() -> None:
    chat = ("28/04/2021, 10:00 - Ali: نام:\nاحمد\nولد: محمود\nRank: C\n"
            "Member name: Zahra\nRelationship: wife\nMember name: Omid\nRelationship: son\n")
    (sub,) = extract_submissions(parse_chat_text(chat, file_name="c.txt"), intermediary="u").submissions
    assert sub.fields["full_name"] == "احمد"
    assert sub.fields["family"] == [{"member_name": "Zahra", "member_relationship": "wife"},
                                    {"member_name": "Omid", "member_relationship": "son"}]


def test_enumerated_lines_without_separator() -> None:
    chat = "28/04/2021, 10:00 - Ali: ۱- نام احمد\n۲- نامپدر محمود\n۳- رتبه دگروال\n"
    (sub,) = extract_submissions(parse_chat_text(chat, file_name="c.txt"), intermediary="u").submissions
    assert sub.fields == {"full_name": "احمد", "father_name": "محمود", "rank": "دگروال"}


def test_preview_json_shape() -> None:
    preview = preview_json(_result())
    assert set(preview) == {"messages", "submissions", "skipped"}
    assert preview["messages"][1] == {"timestamp": "2021-05-30T18:40:00", "sender": "فرمانده",
                                      "text": "تذکره اش", "attachments": ["IMG-20210530-WA0001.jpg"]}
    json.dumps(preview)  # serialisable as it is
    assert "data" not in json.dumps(preview["submissions"][0]["attachments"])

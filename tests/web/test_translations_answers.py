"""Answers shown as their labels, numbers isolated in right-to-left text, the compare chart's labels and the
normalisation notes in the reader's language; dates that cannot be true flagged on a stored record."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from amanat.jobs.pipeline import drain
from amanat.linkage.models import MatchPair
from amanat.normalize.record import normalize_record
from amanat.web.i18n import COMPARISON_NAMES, answer_text, issue_text, translations
from tests.conftest import csrf, login
from tests.web.test_intake_flow import form, submit
from tests.web.test_review import PROBABLE

ARABIC = re.compile(r"[\u0600-\u06FF]")


def test_review_page_in_dari_labels_answers_isolates_phones_and_translates_the_chart(client, database) -> None:
    assert submit(client, form(phone="+92 301 5550123")).status_code == 201
    assert submit(client, form(**PROBABLE), lang="en").status_code == 201
    drain(database)
    with database.reading() as db:
        pair = db.scalars(select(MatchPair)).one()
    login(client, "caseworker")
    client.cookies.set("amanat_lang", "fa_AF")
    page = client.post(f"/review/{pair.id}/open", data={"csrf_token": csrf(client)}).text
    assert '<bdi dir="ltr">+92 301 5550123</bdi>' in page
    # answers by their Dari labels, never their codes
    cells = re.findall(r"<td><bdi[^>]*>([^<]*)</bdi></td>", page)
    assert not {"male", "ana", "AF01"} & set(cells)
    assert "اردوی ملی" in page or any("اردو" in c for c in cells)
    # the chart's labels are Dari words, not `prior`, `full_name`, `dob`
    labels = re.findall(r'<text x="\d+" y="\d+" direction="rtl" text-anchor="start"[^>]*>([^<]*)</text>', page)
    assert labels and all(ARABIC.search(label) for label in labels), labels
    assert not {"prior", "full_name", "dob", "tazkira", "phones"} & set(labels)


def test_every_comparison_has_a_name_in_dari_and_pashto() -> None:
    from amanat.linkage.comparisons import amanat_comparisons

    names = {"prior", *(spec.name for spec in amanat_comparisons())}
    assert names <= COMPARISON_NAMES.keys(), names - COMPARISON_NAMES.keys()
    for code in ("fa_AF", "ps_AF"):
        gettext = translations(code).gettext
        assert all(ARABIC.search(gettext(COMPARISON_NAMES[n])) for n in names)


def test_answer_text_gives_labels() -> None:
    choices = {"gender": {"male": "نارینه"}, "province": {"AF03": "پروان"}, "langs": {"ps": "پښتو", "prs": "دری"}}
    assert answer_text(choices, "gender", "male") == "نارینه"
    assert answer_text(choices, "province", "AF03") == "پروان"
    assert answer_text(choices, "langs", ["ps", "prs"]) == "پښتو، دری"
    assert answer_text(choices, "full_name", "احمد") == "احمد"


def test_impossible_dates_of_an_import_are_flagged_and_read_in_the_readers_language() -> None:
    record = normalize_record({"full_name": "احمد", "date_of_birth": "2035", "service_start": "1395",
                               "service_end": "1390"})
    issues = dict(record.issues)
    assert set(issues) == {"date_of_birth", "service_end"}
    for code, expected in (("ps_AF", "دا نېټه په راتلونکي کې ده."), ("fa_AF", "این تاریخ در آینده است.")):
        assert issue_text(issues["date_of_birth"], translations(code).gettext) == expected
    unreadable = dict(normalize_record({"date_of_birth": "1365/13/40"}).issues)["date_of_birth"]
    assert ARABIC.search(issue_text(unreadable, translations("ps_AF").gettext) or "")
    assert dt.date.today().year < 2035  # the flag above is about the future


def test_every_normalisation_reason_has_words_in_dari_and_pashto() -> None:
    reasons = [
        "date: month 13 does not exist", "gender: not recognised", "province: not found in the gazetteer",
        "father_name: differs from the father's name written in the full name",
        "passport: the number differs from the one in the MRZ", "passport: contains no digits",
        "mrz: the date of birth check digit is wrong", "mrz: the name field is malformed",
        "tazkira: read as paper tazkira volume/page/record", "tazkira: no digits",
        "phone: also a valid number in PK; read as AF", "phone: dropped a 0 written after the country code",
        "phone: no digits", "rank: expected text", "record: normalisation failed unexpectedly",
    ]
    for code in ("fa_AF", "ps_AF"):
        gettext = translations(code).gettext
        for reason in reasons:
            text = issue_text(reason, gettext)
            assert text and ARABIC.search(text) and not re.search(r"[a-z]{3,}", text), (code, reason, text)


def test_every_import_problem_has_words_in_dari_and_pashto() -> None:
    from amanat.web.i18n import INTAKE_PROBLEMS, intake_problem_text

    dynamic = ["date or time does not exist in the file's day/month order", "an instance may carry at most 20 "
               "attachments", "the cell is longer than 5000 characters", "the archive cannot be read (damaged or "
               "encrypted)"]
    for code in ("fa_AF", "ps_AF"):
        gettext = translations(code).gettext
        for problem in (*INTAKE_PROBLEMS, *dynamic):
            text = intake_problem_text(problem, gettext)
            assert ARABIC.search(text) and text != problem, (code, problem)


def test_an_imported_birth_date_in_the_future_is_flagged_on_the_case_page_in_pashto(client, database) -> None:
    import io

    from amanat.cases.models import Case

    login(client, "caseworker")
    table = "full_name,father_name,date_of_birth,service_start,service_end\nنور احمد,ولی احمد,2035,1395,1390\n"
    r = client.post("/imports/table", data={"csrf_token": csrf(client), "consent_basis": "paper_intermediary"},
                    files={"table": ("people.csv", io.BytesIO(table.encode()), "text/csv")})
    assert r.status_code == 200, r.text[-400:]
    batch = re.search(r"/imports/([0-9a-f-]{32,36})/confirm", r.text)
    assert batch
    assert client.post(f"/imports/{batch.group(1)}/confirm", data={"csrf_token": csrf(client)}).status_code < 400
    drain(database)
    with database.reading() as db:
        case_id = db.scalars(select(Case.id)).one()
    client.cookies.set("amanat_lang", "ps_AF")
    page = client.get(f"/cases/{case_id}").text
    assert "دا نېټه په راتلونکي کې ده." in page and "د خدمت پای له پیل څخه مخکې دی." in page
    assert "in the future" not in page and "date:" not in page


def test_actors_are_named_in_the_readers_language() -> None:
    from amanat.web.i18n import ACTOR_NAMES, actor_text

    gettext = translations("ps_AF").gettext
    assert actor_text("user:nazir", gettext) == ("nazir", False)
    assert actor_text("system:worker", gettext)[1] and ARABIC.search(actor_text("system:worker", gettext)[0])
    assert all(ARABIC.search(translations(code).gettext(words)) for code in ("fa_AF", "ps_AF")
               for words in ACTOR_NAMES.values())


def test_switching_language_keeps_the_page_and_its_filters_and_never_answers_405(client, database) -> None:
    assert submit(client, form()).status_code == 201
    assert submit(client, form(**PROBABLE), lang="en").status_code == 201
    drain(database)
    login(client, "caseworker")
    page = client.get("/cases?status=new&page=1").text
    assert 'href="/cases?status=new&amp;page=1&amp;lang=ps_AF"' in page
    with database.reading() as db:
        pair = db.scalars(select(MatchPair)).one()
    # the compared pair answers a POST: its switcher posts again, to the same pair, in the other language
    opened = client.post(f"/review/{pair.id}/open", data={"csrf_token": csrf(client)}).text
    assert f'formaction="/review/{pair.id}/open?lang=ps_AF"' in opened
    again = client.post(f"/review/{pair.id}/open?lang=ps_AF", data={"csrf_token": csrf(client)})
    assert again.status_code == 200 and 'lang="ps-AF"' in again.text

"""A canary through a real server: its name and tazkira number must appear nowhere outside the ciphertext.

It is also searched for (by a Latin spelling, and by tazkira), so no search term may be left behind either.

One form carries a unique name in Latin and Dari script and a unique tazkira number, with a photo whose
file name is the name too. It goes through a real `amanat serve` (its stdout and stderr captured to a
file, its TMPDIR pointed at a fresh folder), the worker opens and stores it, and a caseworker lists it
(display names are shown to caseworkers, audited as a list view), searches for it and reveals the name
through the web UI. Then every byte the server could have left behind is searched: the
database and its -wal and -shm files (while the server runs and after it stops), everything else in the
data dir, the temporary folder, and the log. The name may appear in the reveal response and nowhere
else; the audit log records the reveal without the value.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from amanat.normalize.record import normalize_record
from tests.functional import server as srv

PERSIAN_LETTERS = "بپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
LATIN_CONSONANTS = "bcdfghjklmnprstvwxz"
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
TO_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PASSWORD = "caseworker-canary-pass"  # a test account in a throwaway data dir


def make_canary() -> dict[str, str]:
    """Random enough that any match is the canary, not a coincidence."""
    latin = " ".join("".join(secrets.choice(LATIN_CONSONANTS) + secrets.choice("aeiou") for _ in range(4)).title()
                     for _ in range(2))
    dari = " ".join("".join(secrets.choice(PERSIAN_LETTERS) for _ in range(6)) for _ in range(2))
    digits = "".join(secrets.choice("0123456789") for _ in range(13))
    return {"latin": latin, "dari": dari, "tazkira": f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"}


def needles(canary: dict[str, str]) -> dict[str, bytes]:
    """Every spelling of the canary we search for, as bytes, named for the failure message."""
    texts: dict[str, str] = {"latin": canary["latin"], "latin lower": canary["latin"].lower(),
                             "latin upper": canary["latin"].upper(), "dari": canary["dari"]}
    for word in canary["latin"].split() + canary["latin"].lower().split() + canary["dari"].split():
        texts[f"word {word}"] = word
    # What the normaliser derives from the name (folded script, romanisation) is the name too.
    norm = normalize_record({"full_name": canary["dari"], "full_name_latin": canary["latin"]}).to_dict()
    for key, value in norm.get("names", {}).get("full_name", {}).items():
        if key in ("folded", "latin", "display") and isinstance(value, str) and len(value) >= 6:
            texts[f"normalised {key}"] = value
    tazkira = canary["tazkira"]
    bare = tazkira.replace("-", "")
    for name, value in (("tazkira", tazkira), ("tazkira digits", bare)):
        texts[name] = value
        texts[f"{name} persian"] = value.translate(TO_PERSIAN)
        texts[f"{name} arabic-indic"] = value.translate(TO_ARABIC_INDIC)
    out: dict[str, bytes] = {}
    for name, text in texts.items():
        out[f"{name} utf-8"] = text.encode("utf-8")
        out[f"{name} utf-16-le"] = text.encode("utf-16-le")
        out[f"{name} utf-16-be"] = text.encode("utf-16-be")
        if not text.isascii():
            # As JSON with ensure_ascii, and as a URL would carry it.
            escaped = json.dumps(text)[1:-1]
            out[f"{name} json-escaped"] = escaped.encode()
            out[f"{name} json-escaped upper"] = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m[1].upper(),
                                                       escaped).encode()
            out[f"{name} url-encoded"] = quote(text).encode()
            out[f"{name} url-encoded lower"] = quote(text).lower().encode()
    return out


def find(data: bytes, wanted: dict[str, bytes]) -> list[str]:
    return [name for name, needle in wanted.items() if needle in data]


def scan_files(paths: Iterable[Path], wanted: dict[str, bytes]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for path in paths:
        if path.is_file():
            found = find(path.read_bytes(), wanted)
            if found:
                hits[str(path)] = found
    return hits


def tree(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def login(client: httpx.Client, username: str, password: str) -> None:
    client.get("/login").raise_for_status()
    r = client.post("/login", data={"username": username, "password": password, "next": "/cases",
                                    "csrf_token": client.cookies["amanat_csrf"]})
    assert r.status_code == 303, r.text
    client.get("/cases").raise_for_status()  # a fresh CSRF cookie for the signed-in session


@pytest.mark.slow
def test_canary_is_nowhere_but_in_the_reveal(tmp_path: Path) -> None:
    canary = make_canary()
    wanted = needles(canary)
    srv.init(tmp_path)
    added = srv.cli(tmp_path, "users", "add", "canary-cw", "--role", "caseworker",
                    extra_env={"AMANAT_NEW_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    photo = srv.synthetic_jpeg(11, 40_000)
    responses: dict[str, httpx.Response] = {}

    server = srv.start(tmp_path)
    try:
        with srv.browser(server) as applicant:
            r = srv.submit(applicant, {
                "full_name": canary["dari"], "full_name_latin": canary["latin"], "father_name": "عبدالرحمن",
                "service_branch": "ana_soc", "consent": "yes", "gender": "male", "province": "AF01",
                "tazkira_number": canary["tazkira"].translate(TO_PERSIAN),
            }, {"doc_tazkira": (f"{canary['latin']}.jpg", photo, "image/jpeg")})
            assert r.status_code == 201, r.text
            responses["intake"] = r
        srv.wait_until(lambda: server.counts().get("stored", 0) == 1, 30,
                       f"the worker did not store the canary:\n{server.tail()}")
        responses["healthz"] = httpx.get(f"{server.url}/healthz")

        with httpx.Client(base_url=server.url, timeout=30.0) as staff:
            login(staff, "canary-cw", PASSWORD)
            responses["queue"] = queue = staff.get("/cases")
            case_id = re.search(r'href="/cases/([0-9a-f-]{36})"', queue.text)
            assert case_id, queue.text
            responses["case"] = case = staff.get(f"/cases/{case_id[1]}")
            record_id = re.search(r'name="record_id" value="([0-9a-f-]{36})"', case.text)
            assert record_id, case.text
            # Searching for the canary by its Latin spelling finds the Dari record: through blind indexes,
            # the term in a POST body only (never a URL, so never an access log line).
            found = staff.post("/cases/search", data={"q": canary["latin"], "kind": "name",
                                                      "csrf_token": staff.cookies["amanat_csrf"]})
            assert found.status_code == 303 and found.headers["location"] == f"/cases/{case_id[1]}", found.text
            responses["search"] = found
            responses["search by tazkira"] = staff.post("/cases/search", data={
                "q": canary["tazkira"], "csrf_token": staff.cookies["amanat_csrf"]})
            assert responses["search by tazkira"].headers["location"] == f"/cases/{case_id[1]}"
            # A reveal is a POST answered by a redirect; the page it leads to shows the value.
            posted = staff.post(f"/cases/{case_id[1]}/reveal", data={
                "record_id": record_id[1], "field": "full_name", "csrf_token": staff.cookies["amanat_csrf"]})
            assert posted.status_code == 303, posted.text
            responses["reveal redirect"] = posted
            reveal = staff.get(f"/cases/{case_id[1]}")
            assert reveal.status_code == 200, reveal.text
            ended = staff.post(f"/cases/{case_id[1]}/work/end", data={"csrf_token": staff.cookies["amanat_csrf"]})
            assert ended.status_code == 303
            responses["case again"] = staff.get(f"/cases/{case_id[1]}")

        # The value is in the reveal response and, as the display name a caseworker may list (case:list_names,
        # audited), in the queue's body; nowhere else, never in a header, never cached.
        assert canary["dari"] in reveal.text
        assert reveal.headers["cache-control"] == "no-store"
        queue_page = responses.pop("queue")
        assert canary["dari"] in queue_page.text and queue_page.headers["cache-control"] == "no-store"
        assert not find(str(queue_page.headers).encode(), wanted)
        for name, response in responses.items():
            seen = find(response.content + str(response.headers).encode(), wanted)
            assert not seen, f"the canary shows in the {name} response: {seen}"
        assert not find(str(reveal.headers).encode() + str(reveal.url).encode(), wanted)

        # The database and its WAL and shared-memory files while the server still has them open.
        data_dir = tmp_path / "data"
        live = {p.name for p in tree(data_dir)}
        assert {"amanat.db", "amanat.db-wal", "amanat.db-shm"} <= live, live
        assert scan_files(tree(data_dir), wanted) == {}, "the canary is in the live data dir"
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.tail()

    # After the stop: every file in the data dir (the WAL is checkpointed into the database by now), the
    # server's TMPDIR, and the captured stdout and stderr.
    assert scan_files(tree(tmp_path / "data"), wanted) == {}, "the canary is in the data dir"
    assert scan_files(tree(tmp_path / "tmp"), wanted) == {}, "the canary is in the server's TMPDIR"
    log = server.log.read_bytes()
    assert b"Amanat listening" in log  # the log file really is the server's output
    assert find(log, wanted) == [], "the canary is in the server's log output"

    with closing(sqlite3.connect(f"file:{server.database}?mode=ro", uri=True)) as con:
        reveals = con.execute("""SELECT e.actor, e.subject_id, e.details FROM audit_events e
                                 JOIN users u ON u.id = e.actor_id
                                 WHERE e.action = 'record:reveal' AND u.username = 'canary-cw'""").fetchall()
        assert [(subject, json.loads(details)) for _actor, subject, details in reveals] == [
            (record_id[1], {"field": "full_name"})]
        listed = con.execute("SELECT details FROM audit_events WHERE action = 'case:list_names'").fetchall()
        assert listed and all(json.loads(d) == {"view": "all", "shown": 1} for (d,) in listed)  # one per queue view
        searches = con.execute("SELECT details FROM audit_events WHERE action = 'case:search'").fetchall()
        assert [json.loads(d)["kind"] for (d,) in searches] == ["name", "tazkira"]
        events = con.execute("SELECT actor, action, subject_type, subject_id, details FROM audit_events").fetchall()
    assert not find(repr(events).encode("utf-8"), wanted), "the canary is in the audit log"
    verify = srv.cli(tmp_path, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

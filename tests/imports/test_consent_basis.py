"""The consent basis an importer states for a table or chat import: required (a file without one is refused with a
clear message and nothing is stored, on the web, the command line and in the service), kept sealed in each
record's provenance and in the import's audit event, shown on the protection page, and checked by referrals."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from amanat.cases import partner_referrals as refs
from amanat.cases import pathways as pw
from amanat.cases.models import Case
from amanat.cases.protection_models import Consent
from amanat.cli.main import app as cli_app
from amanat.core import crypto
from amanat.core.audit import Actor, AuditEvent
from amanat.errors import InvalidInput, PermissionDenied
from amanat.export.packet import send_referral
from amanat.intake import consent as ic
from amanat.intake.errors import IntakeError
from amanat.intake.imports import import_table, import_whatsapp
from amanat.intake.models import Submission
from amanat.jobs.pipeline import drain
from amanat.records.models import Record
from amanat.web.i18n import INTAKE_PROBLEMS, translations
from tests.conftest import csrf, login
from tests.imports.data import CHAT_NAME, chat_zip, table_csv
from tests.protection.factories import make_case

ACTOR = Actor("test:import")
KINDS = tuple(pw.load_catalog().partner_kinds)
STATED = ic.ImportConsent("messenger_conversation", "2024-1", "ps_AF")


def _count(database) -> int:  # type: ignore[no-untyped-def]
    with database.reading() as db:
        return int(db.scalar(select(func.count()).select_from(Submission)) or 0)


def test_the_basis_is_checked_with_a_clear_message():
    assert ic.import_consent("paper_intermediary") == ic.ImportConsent("paper_intermediary")
    assert ic.import_consent(" phone_verbal ", "2024-1", "fa_AF").to_dict() == {
        "basis": "phone_verbal", "form_version": "2024-1", "language": "fa_AF"}
    cases = ((("",), ic.MISSING), ((None,), ic.MISSING), (("signed_form",), ic.UNKNOWN),
             (("phone_verbal", "2024 1"), ic.BAD_VERSION), (("phone_verbal", None, "de"), ic.BAD_LANGUAGE))
    for args, problem in cases:
        with pytest.raises(IntakeError) as caught:
            ic.import_consent(*args, source="list.csv")
        assert caught.value.problem == problem and str(caught.value).startswith("list.csv: ")
    for problem in (ic.MISSING, ic.UNKNOWN, ic.BAD_VERSION, ic.BAD_LANGUAGE):  # said in Dari and Pashto
        assert problem in INTAKE_PROBLEMS
        for lang in ("fa_AF", "ps_AF"):
            assert translations(lang).gettext(problem) != problem


def test_an_import_without_a_basis_stores_nothing(database):
    with database.transaction() as db:
        with pytest.raises(IntakeError, match="consent basis"):
            import_table(db, database.keys, io.BytesIO(table_csv()), file_name="list.csv", mapping=None, actor=ACTOR,
                         consent=None)
        with pytest.raises(IntakeError, match="consent basis"):
            import_whatsapp(db, database.keys, chat_zip(), file_name="chat.zip", intermediary="T", actor=ACTOR,
                            consent=None)
    assert _count(database) == 0


def test_the_basis_travels_with_each_record_and_the_import_event(database):
    with database.transaction() as db:
        result = import_table(db, database.keys, io.BytesIO(table_csv()), file_name="list.csv", mapping=None,
                              actor=ACTOR, consent=STATED)
    assert result.submissions == 2
    drain(database)
    with database.reading() as db:
        records = db.scalars(select(Record)).all()
        assert len(records) == 2
        for rec in records:
            assert rec.provenance["provenance"]["import"]["consent"] == STATED.to_dict()
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import:store")).one()
        assert json.loads(event.details)["consent_basis"] == "messenger_conversation"
        case_ids = list(db.scalars(select(Case.id)))
        stated = refs.intake_consents(db, case_ids[0])
        assert [(s.basis, s.form_version, s.language) for s in stated] == [("messenger_conversation", "2024-1",
                                                                             "ps_AF")]


def test_referrals_check_a_consent_stated_at_import(database, users):
    cw, admin = users["caseworker"], users["admin"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        import_table(db, database.keys, io.BytesIO(table_csv()), file_name="list.csv", mapping=None, actor=ACTOR,
                     consent=STATED)
    drain(database)
    public, _ = crypto.generate_recipient_keypair()
    with database.transaction() as db:
        partner = refs.register_partner(db, admin.actor, name="Safe Passage", kind="resettlement_agency",
                                        public_key=public, kinds=KINDS)
        imported = db.scalars(select(Case.id)).first()
        assert imported is not None
        refs.record_consent(db, cw.actor, imported, partner_kind="resettlement_agency", form_version="2024-1",
                            language="ps_AF", basis="import_stated", kinds=KINDS)
        ref = send_referral(db, cw.actor, cat, imported, partner.id, pathway=None, override_reason=None,
                            can_override=False)
        assert ref.consent_id is not None
        # a web-form case: "stated by the importer" cannot be recorded, and one slipped in is not honoured
        web = make_case(db)
        with pytest.raises(InvalidInput, match="import that stated a consent basis"):
            refs.record_consent(db, cw.actor, web.id, partner_kind="resettlement_agency", form_version="2024-1",
                                language="fa_AF", basis="import_stated", kinds=KINDS)
        db.add(Consent(case_id=web.id, partner_kind="resettlement_agency", form_version="2024-1", language="fa_AF",
                       basis="import_stated", recorded_by=cw.id))
        db.flush()
        with pytest.raises(PermissionDenied) as caught:
            send_referral(db, cw.actor, cat, web.id, partner.id, pathway=None, override_reason=None,
                          can_override=False)
        assert caught.value.code == "consent_basis_missing"


def test_the_web_upload_asks_for_the_basis(client, database):
    login(client, "caseworker")
    page = client.get("/imports?lang=ps_AF")
    assert page.text.count('name="consent_basis"') == 2 * len(ic.IMPORT_BASES)  # the chat and the table forms
    files = {"table": ("list.csv", table_csv(), "text/csv")}
    refused = client.post("/imports/table?lang=ps_AF", data={"csrf_token": csrf(client)}, files=files)
    assert refused.status_code == 422
    assert translations("ps_AF").gettext(ic.MISSING) in refused.text
    files = {"export": (f"{CHAT_NAME}.zip", chat_zip(), "application/zip")}
    refused = client.post("/imports/whatsapp", data={"csrf_token": csrf(client), "intermediary": "T",
                                                     "consent_basis": "signed_form"}, files=files)
    assert refused.status_code == 422 and translations("ps_AF").gettext(ic.UNKNOWN) in refused.text  # language kept
    assert _count(database) == 0
    files = {"table": ("list.csv", table_csv(), "text/csv")}
    held = client.post("/imports/table", data={"csrf_token": csrf(client), "consent_basis": "paper_intermediary",
                                               "consent_language": "fa_AF"}, files=files)
    assert held.status_code == 200 and _count(database) == 2
    with database.reading() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import:preview")).one()
        assert json.loads(event.details)["consent_basis"] == "paper_intermediary"


def test_the_command_line_asks_for_the_basis(tmp_path, monkeypatch):
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMANAT_PASSPHRASE", "a long enough passphrase")
    for name, value in (("KDF_MEMORY_KIB", "64"), ("KDF_TIME_COST", "1"), ("ARGON2_MEMORY_KIB", "64"),
                        ("ARGON2_TIME_COST", "1")):
        monkeypatch.setenv(f"AMANAT_{name}", value)
    runner = CliRunner()
    assert runner.invoke(cli_app, ["init"]).exit_code == 0
    table = tmp_path / "list.csv"
    table.write_bytes(table_csv())
    refused = runner.invoke(cli_app, ["intake", "table", str(table)])
    assert refused.exit_code == 1 and "consent basis" in refused.output and "Traceback" not in refused.output
    chat = tmp_path / "chat.zip"
    chat.write_bytes(chat_zip())
    refused = runner.invoke(cli_app, ["intake", "whatsapp", str(chat), "--intermediary", "T", "--consent-basis",
                                      "by_pigeon"])
    assert refused.exit_code == 1 and "not one of the listed choices" in refused.output
    done = runner.invoke(cli_app, ["intake", "table", str(table), "--consent-basis", "phone_verbal",
                                   "--consent-language", "ps_AF"])
    assert done.exit_code == 0, done.output
    assert "--consent-basis" in runner.invoke(cli_app, ["intake", "table", "--help"]).output

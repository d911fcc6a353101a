"""Exports: chosen fields of chosen cases, masked by default, formula-safe, sealed, audited, limited."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from amanat.cases.protection_models import Partner
from amanat.core import crypto
from amanat.core.audit import AuditEvent
from amanat.errors import Conflict, CryptoError, InvalidInput, PermissionDenied
from amanat.export import service as ex
from amanat.export.tabular import safe_cell, write_xlsx
from tests.protection.factories import DARI_NAME, make_case

CHEAP = (1, 64)  # the passphrase KDF's cost in tests


def partner(db, public: bytes, kind: str = "resettlement_agency") -> Partner:
    p = Partner(name=f"Partner {kind}", kind=kind, public_key=public, fingerprint=crypto.key_fingerprint(public))
    db.add(p)
    db.flush()
    return p


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tx", "'=1"])
def test_formulas_are_defused(value):
    assert safe_cell(value).startswith("'")
    assert safe_cell("+93 70 123 4567") == "'+93 70 123 4567"
    assert safe_cell("محمد") == "محمد"


def test_xlsx_opens_in_openpyxl_with_text_and_numbers():
    blob = write_xlsx(["a", "b"], [["=cmd|' /C calc'!A0", 3], [DARI_NAME, "x<y&z"]], rtl=True)
    ws = openpyxl.load_workbook(io.BytesIO(blob)).active
    assert [c.value for c in ws[1]] == ["a", "b"]
    assert ws["A2"].value == "'=cmd|' /C calc'!A0" and ws["B2"].value == 3
    assert ws["A3"].value == DARI_NAME and ws["B3"].value == "x<y&z"
    assert ws.sheet_view.rightToLeft


def test_masked_by_default_revealed_on_request_sealed_to_a_partner(database, users):
    cw = users["caseworker"]
    public, secret = crypto.generate_recipient_keypair()
    with database.transaction() as db:
        case = make_case(db)
        p = partner(db, crypto.parse_public_key(public))
        fields = ("case_number", "full_name", "phone", "gender", "province_name")
        sel = ex.check_selection([case.id], fields, "csv", reveal=False, can_reveal=True, can_special=False)
        out = ex.create_export(db, cw.actor, sel, ex.Recipient(partner_id=p.id), role="caseworker", limits={})
        assert out.built is not None and out.request is None
        assert DARI_NAME.encode() not in out.built.blob
        opened = crypto.open_envelope(out.built.blob, secret_key=secret)
        rows = list(csv.reader(io.StringIO(opened.plaintext.decode("utf-8-sig"))))
        assert rows[0] == list(fields)
        assert rows[1][1] == "••••••" and rows[1][2] == "••••••" and rows[1][4] == "Kabul"
        sel = ex.check_selection([case.id], fields, "xlsx", reveal=True, can_reveal=True, can_special=False)
        out = ex.create_export(db, cw.actor, sel, ex.Recipient(passphrase="a long export passphrase"),
                               role="caseworker", limits={}, kdf=CHEAP)
        with pytest.raises(CryptoError):
            crypto.open_envelope(out.built.blob, passphrase="the wrong passphrase!")
        opened = crypto.open_envelope(out.built.blob, passphrase="a long export passphrase")
        ws = openpyxl.load_workbook(io.BytesIO(opened.plaintext)).active
        assert ws["B2"].value == DARI_NAME and ws["C2"].value == "'+93 70 123 4567"
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "export:create")).all()
        assert len(events) == 2
        details = json.loads(events[0].details)
        assert details["people"] == 1 and details["fields"] == list(fields) and details["cases"] == [case.id]
        assert details["recipient"] == "partner" and details["key"] == p.fingerprint
        assert all(DARI_NAME not in e.details for e in events)


def test_rules_of_the_selection():
    with pytest.raises(InvalidInput, match="rank"):
        ex.check_selection(["x"], ["rank"], "csv", reveal=False, can_reveal=True, can_special=True)
    with pytest.raises(PermissionDenied):
        ex.check_selection(["x"], ["full_name"], "csv", reveal=True, can_reveal=False, can_special=False)
    with pytest.raises(PermissionDenied):
        ex.check_selection(["x"], ["religion"], "csv", reveal=False, can_reveal=True, can_special=False)
    with pytest.raises(InvalidInput, match="format"):
        ex.check_selection(["x"], ["full_name"], "pdf", reveal=False, can_reveal=True, can_special=False)
    assert ex.parse_case_numbers("C-000042, 7 c-12") == [42, 7, 12]
    with pytest.raises(InvalidInput):
        ex.parse_case_numbers("42; DROP TABLE")


def test_over_the_limit_waits_for_a_second_person(database, users, accounts):
    cw = users["caseworker"]
    with database.transaction() as db:
        cases = [make_case(db) for _ in range(3)]
        sel = ex.check_selection([c.id for c in cases], ["case_number"], "csv", reveal=False, can_reveal=True,
                                 can_special=False)
        recipient = ex.Recipient(passphrase="a long export passphrase")
        out = ex.create_export(db, cw.actor, sel, recipient, role="caseworker", limits={"caseworker": 2}, kdf=CHEAP)
        assert out.built is None and out.request is not None and out.request.status == "pending"
        with pytest.raises(Conflict):  # not approved: refused
            ex.download_approved(db, cw.actor, out.request.id, recipient, kdf=CHEAP)
        with pytest.raises(PermissionDenied, match="second person"):
            ex.decide_request(db, cw.actor, out.request.id, approve=True)
        second, _ = accounts.create_user(db, cw.actor, username="second-cw", password="second-password-123",
                                         role="caseworker")
        ex.decide_request(db, second.actor, out.request.id, approve=True)
        with pytest.raises(PermissionDenied):  # only the requester takes it
            ex.download_approved(db, second.actor, out.request.id, recipient, kdf=CHEAP)
        built = ex.download_approved(db, cw.actor, out.request.id, recipient, kdf=CHEAP)
        assert built.people == 3
        with pytest.raises(Conflict):  # once
            ex.download_approved(db, cw.actor, out.request.id, recipient, kdf=CHEAP)
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))
                   if e.action.startswith("export:")]
        assert actions == ["export:request", "export:approve", "export:create"]


def test_envelope_errors_are_clear():
    public, secret = crypto.generate_recipient_keypair()
    _other_public, other_secret = crypto.generate_recipient_keypair()
    blob = crypto.seal_to_recipient(crypto.parse_public_key(public), b"hello", content="x.csv")
    assert crypto.open_envelope(blob, secret_key=secret).plaintext == b"hello"
    with pytest.raises(CryptoError, match="another recipient"):
        crypto.open_envelope(blob, secret_key=other_secret)
    with pytest.raises(CryptoError, match="private key"):
        crypto.open_envelope(blob, passphrase="whatever")
    with pytest.raises(CryptoError, match="not an Amanat envelope"):
        crypto.open_envelope(b"PK\x03\x04", secret_key=secret)
    with pytest.raises(CryptoError, match="amanat-pk1"):
        crypto.parse_public_key("ssh-ed25519 AAAA")
    with pytest.raises(CryptoError, match="at least"):
        crypto.seal_with_passphrase("short", b"x", content="x")


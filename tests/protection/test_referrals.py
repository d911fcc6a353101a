"""Referrals: consent checked, override needs a permission and a reason, packet sealed to the partner."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from amanat.cases import partner_referrals as refs
from amanat.cases import pathways as pw
from amanat.core import crypto
from amanat.core.audit import AuditEvent
from amanat.errors import Conflict, InvalidInput, PermissionDenied
from amanat.export.packet import send_referral
from tests.protection.factories import DARI_NAME, make_case

KINDS = tuple(pw.load_catalog().partner_kinds)


def setup(db, actor, kind="resettlement_agency"):
    public, secret = crypto.generate_recipient_keypair()
    partner = refs.register_partner(db, actor, name="Safe Passage", kind=kind, public_key=public, kinds=KINDS)
    return partner, secret


def test_referral_without_consent_is_refused_without_an_override(database, users):
    cw, admin = users["caseworker"], users["admin"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        case = make_case(db)
        partner, _ = setup(db, admin.actor)
        with pytest.raises(PermissionDenied, match="No consent"):
            send_referral(db, cw.actor, cat, case.id, partner.id, pathway=None, override_reason=None,
                          can_override=True)
        with pytest.raises(PermissionDenied, match="consent:override"):
            send_referral(db, cw.actor, cat, case.id, partner.id, pathway=None,
                          override_reason="Imminent deportation, cannot reach him", can_override=False)
        # Consent to another kind of organisation does not count.
        refs.record_consent(db, cw.actor, case.id, partner_kind="medical", form_version="2024-1", language="fa_AF",
                            basis="signed_form", kinds=KINDS)
        with pytest.raises(PermissionDenied):
            send_referral(db, cw.actor, cat, case.id, partner.id, pathway=None, override_reason=None,
                          can_override=True)
        with pytest.raises(InvalidInput, match="reason"):
            send_referral(db, cw.actor, cat, case.id, partner.id, pathway=None, override_reason="short",
                          can_override=True)
        ref = send_referral(db, cw.actor, cat, case.id, partner.id, pathway=None,
                            override_reason="Imminent deportation, cannot reach him", can_override=True)
        assert ref.override_by == cw.id and ref.consent_id is None
        ev = db.scalars(select(AuditEvent).where(AuditEvent.action == "referral:send")).one()
        assert json.loads(ev.details)["override"] is True and "deportation" not in ev.details


def test_referral_with_consent_travels_sealed_and_moves_through_its_states(database, users):
    cw, admin = users["caseworker"], users["admin"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        case = make_case(db, documents=("doc_tazkira",))
        partner, secret = setup(db, admin.actor)
        pw.add_pathway(db, cw.actor, cat, case.id, "us_siv_com")
        consent = refs.record_consent(db, cw.actor, case.id, partner_kind="resettlement_agency",
                                      form_version="2024-1", language="fa_AF", basis="signed_form", kinds=KINDS)
        with pytest.raises(InvalidInput, match="pathway"):  # UK ARAP does not take resettlement agencies
            send_referral(db, cw.actor, cat, case.id, partner.id, pathway="uk_arap", override_reason=None,
                          can_override=False)
        ref = send_referral(db, cw.actor, cat, case.id, partner.id, pathway="us_siv_com", override_reason=None,
                            can_override=False)
        assert ref.consent_id == consent.id and ref.status == "sent"
        assert DARI_NAME.encode() not in ref.packet
        _name, blob = refs.read_packet(db, cw.actor, ref.id)
        packet = json.loads(crypto.open_envelope(blob, secret_key=secret).plaintext)
        assert packet["record"]["full_name"] == DARI_NAME and packet["case"]["number"].startswith("C-")
        assert packet["pathways"][0]["code"] == "us_siv_com" and "ds157" in packet["pathways"][0]["missing"]
        assert packet["documents"][0]["field"] == "doc_tazkira"
        refs.set_referral_status(db, cw.actor, ref.id, "accepted")
        with pytest.raises(InvalidInput):
            refs.set_referral_status(db, cw.actor, ref.id, "rejected")
        refs.set_referral_status(db, cw.actor, ref.id, "revoked")
        with pytest.raises(Conflict):
            refs.read_packet(db, cw.actor, ref.id)
        refs.withdraw_consent(db, cw.actor, case.id, consent.id)
        with pytest.raises(PermissionDenied):
            send_referral(db, cw.actor, cat, case.id, partner.id, pathway=None, override_reason=None,
                          can_override=False)
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        for a in ("partner:register", "consent:record", "referral:send", "referral:packet", "referral:status",
                  "consent:withdraw"):
            assert a in actions


def test_partner_keys_are_checked(database, users):
    admin = users["admin"]
    with database.transaction() as db:
        with pytest.raises(crypto.CryptoError):
            refs.register_partner(db, admin.actor, name="Bad key", kind="legal_aid", public_key="not a key",
                                  kinds=KINDS)
        with pytest.raises(InvalidInput, match="kind"):
            refs.register_partner(db, admin.actor, name="Bad kind", kind="bank",
                                  public_key=crypto.generate_recipient_keypair()[0], kinds=KINDS)

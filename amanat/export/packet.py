"""A case packet: what a partner or a pathway needs about one person, assembled from the case.

The same content feeds the referral packet (JSON sealed to the partner's key) and the case packet PDF:
the record's fields (each field's latest value), family members, the documents held (names and types),
attestations (method, outcome, date, the attester's role — not their reasons), the risk level and each
pathway's checklist with what is missing and when it is due. Special-category fields (religion, ethnicity)
are left out unless the caller may reveal them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.cases import partner_referrals as refs
from amanat.cases import pathways as pw
from amanat.cases.evidence import case_evidence
from amanat.cases.models import Case
from amanat.cases.service import case_label, case_records, get_case
from amanat.cases.verification_models import Attestation
from amanat.core.audit import Actor
from amanat.core.crypto import seal_to_recipient
from amanat.core.db import utcnow
from amanat.errors import InvalidInput
from amanat.records.models import Document
from amanat.records.service import SPECIAL_FIELDS

PACKET_FORMAT = "amanat-case-packet/1"
FAMILY_FIELDS = ("member_name", "member_relationship", "member_date_of_birth", "member_tazkira")


@dataclass(frozen=True)
class Packet:
    content: dict[str, Any]
    fields: list[str]  # record field names it holds (for the audit)

    def to_json(self) -> bytes:
        return json.dumps(self.content, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def case_packet(db: Session, case: Case, catalog: pw.Catalog, *, lang: str = "en", can_special: bool = False,
                pathway_codes: Sequence[str] | None = None) -> Packet:
    records = case_records(db, case)
    values: dict[str, Any] = {}
    family: list[dict[str, str]] = []
    for rec in sorted(records, key=lambda r: r.created_at):
        for key, value in (rec.data or {}).items():
            if key == "family" and isinstance(value, list):
                family = [{k: str(m.get(k, "")) for k in FAMILY_FIELDS if m.get(k)} for m in value
                          if isinstance(m, dict)]
            elif value not in (None, "", []) and not isinstance(value, list | dict):
                if key in SPECIAL_FIELDS and not can_special:
                    continue
                values[key] = str(value)
    ids = [r.id for r in records]
    docs = db.execute(select(Document.field, Document.content_type, Document.size, Document.filename)
                      .where(Document.record_id.in_(ids))).all() if ids else []
    atts = db.execute(select(Attestation.method, Attestation.outcome, Attestation.attester_role,
                             Attestation.created_at).where(Attestation.case_id == case.id)
                      .order_by(Attestation.created_at)).all()
    lists = pw.checklists(db, catalog, case, case_evidence(db, case))
    if pathway_codes is not None:
        lists = [c for c in lists if c.pathway.code in pathway_codes]
    content: dict[str, Any] = {
        "format": PACKET_FORMAT,
        "made_at": utcnow().isoformat(timespec="seconds") + "Z",
        "case": {"number": case_label(case.number), "status": case.status, "risk_level": case.risk_level,
                 "opened_on": case.opened_at.date().isoformat()},
        "record": values,
        "family": family,
        "documents": [{"field": f, "content_type": ct, "size": size, "filename": name} for f, ct, size, name in docs],
        "attestations": [{"method": m, "outcome": o, "by_role": role, "on": at.date().isoformat()}
                         for m, o, role, at in atts],
        "pathways": [{
            "code": c.pathway.code, "name": pw.text_in(c.pathway.name, lang), "status": c.status,
            "items": [{"code": s.item.code, "label": pw.text_in(s.item.label, lang), "kind": s.item.kind,
                       "met": s.met, "source": s.source} for s in c.items],
            "missing": [i.code for i in c.missing],
            "deadlines": [{"code": d.deadline.code, "label": pw.text_in(d.deadline.label, lang),
                           "due": d.due.isoformat(), "days_left": d.days_left} for d in c.deadlines],
        } for c in lists],
    }
    return Packet(content, sorted(values) + (["family"] if family else []))


def send_referral(db: Session, actor: Actor, catalog: pw.Catalog, case_id: str, partner_id: str, *,
                  pathway: str | None, override_reason: str | None, can_override: bool,
                  can_special: bool = False) -> refs.Referral:
    """Check consent, build the packet, seal it to the partner's key and record the referral."""
    case = get_case(db, case_id)
    partner = refs.get_partner(db, partner_id)
    if pathway:
        p = catalog.get(pathway)
        if partner.kind not in p.referral_partner_kinds:
            raise InvalidInput("partner: this kind of organisation does not take referrals for that pathway.",
                               field="partner")
    permit = refs.check_consent(db, case.id, partner, override_reason=override_reason, can_override=can_override)
    packet = case_packet(db, case, catalog, can_special=can_special,
                         pathway_codes=[pathway] if pathway else None)
    packet.content["referral"] = {"partner": partner.name, "partner_kind": partner.kind, "pathway": pathway,
                                  "consent": permit.consent_id is not None}
    sealed = seal_to_recipient(partner.public_key, packet.to_json(), content="referral.json")
    return refs.create_referral(db, actor, case.id, partner, permit, pathway=pathway, packet=sealed,
                                fields=packet.fields)

"""Pathways as data: each pathway is a checklist read from a file an admin can replace.

The file (``pathways.json`` beside this module, or the one ``AMANAT_PATHWAYS_FILE`` names, JSON or YAML)
lists for each pathway its eligibility evidence, required documents, deadlines and which kinds of partner
organisation may receive a referral for it. A case's checklist is never stored: it is worked out each time
from the case's documents, attestations, record fields and triage level, plus the items a caseworker
confirmed by hand (kept with who and when).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.protection_models import CasePathway
from amanat.cases.service import get_case
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import InvalidInput, NotFound

DEFAULT_FILE = Path(__file__).resolve().parent / "pathways.json"
LANGS = ("en", "fa_AF", "ps_AF")
ITEM_KINDS = ("document", "eligibility")
PATHWAY_STATUSES = ("open", "submitted", "withdrawn")


@dataclass(frozen=True)
class Item:
    code: str
    kind: str
    label: Mapping[str, str]
    documents: tuple[str, ...] = ()
    attestations: tuple[tuple[str, str], ...] = ()
    fields: tuple[str, ...] = ()
    triage: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    code: str
    label: Mapping[str, str]
    on: date | None = None
    days_after_added: int | None = None


@dataclass(frozen=True)
class Pathway:
    code: str
    name: Mapping[str, str]
    items: tuple[Item, ...]
    deadlines: tuple[Deadline, ...]
    referral_partner_kinds: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    pathways: Mapping[str, Pathway]
    partner_kinds: Mapping[str, Mapping[str, str]]

    def get(self, code: str) -> Pathway:
        try:
            return self.pathways[code]
        except KeyError:
            raise InvalidInput("pathway: no such pathway.", field="pathway") from None


def text_in(labels: Mapping[str, str], lang: str) -> str:
    return labels.get(lang) or labels.get("en") or next(iter(labels.values()), "")


def _labels(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not isinstance(value.get("en"), str):
        raise InvalidInput(f"pathways file: {where} needs a label with at least 'en'.", field="pathways")
    return {k: str(v) for k, v in value.items() if k in LANGS}


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"pathways file: {where} must be a list of names.", field="pathways")
    return tuple(value)


def parse_catalog(data: Any) -> Catalog:
    """Check a pathways document and build the catalog; every problem names where it is."""
    if not isinstance(data, dict) or not isinstance(data.get("pathways"), list):
        raise InvalidInput("pathways file: needs a top-level 'pathways' list.", field="pathways")
    kinds = {str(k): _labels(f"partner kind {k}", v) for k, v in (data.get("partner_kinds") or {}).items()}
    out: dict[str, Pathway] = {}
    for i, raw in enumerate(data["pathways"]):
        code = raw.get("code") if isinstance(raw, dict) else None
        if not isinstance(code, str) or not code.replace("_", "").isalnum() or len(code) > 40:
            raise InvalidInput(f"pathways file: pathway {i + 1} needs a code of letters, digits and '_'.",
                               field="pathways")
        if code in out:
            raise InvalidInput(f"pathways file: pathway {code} is listed twice.", field="pathways")
        items = []
        for j, it in enumerate(raw.get("items") or []):
            where = f"pathway {code} item {j + 1}"
            if not isinstance(it, dict) or not isinstance(it.get("code"), str):
                raise InvalidInput(f"pathways file: {where} needs a code.", field="pathways")
            if it.get("kind") not in ITEM_KINDS:
                raise InvalidInput(f"pathways file: {where} kind must be one of {', '.join(ITEM_KINDS)}.",
                                   field="pathways")
            pairs = it.get("attestations") or []
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise InvalidInput(f"pathways file: {where} attestations are [method, outcome] pairs.",
                                   field="pathways")
            item = Item(it["code"], it["kind"], _labels(where, it.get("label")),
                        _strings(f"{where} documents", it.get("documents")),
                        tuple((str(m), str(o)) for m, o in pairs), _strings(f"{where} fields", it.get("fields")),
                        _strings(f"{where} triage", it.get("triage")))
            items.append(item)
        deadlines = []
        for j, d in enumerate(raw.get("deadlines") or []):
            where = f"pathway {code} deadline {j + 1}"
            on = d.get("date")
            try:
                on_date = date.fromisoformat(on) if on else None
            except (TypeError, ValueError):
                raise InvalidInput(f"pathways file: {where} date must be YYYY-MM-DD.", field="pathways") from None
            days = d.get("days_after_added")
            if (on_date is None) == (days is None) or (days is not None and not isinstance(days, int)):
                raise InvalidInput(f"pathways file: {where} needs either a date or days_after_added.",
                                   field="pathways")
            deadlines.append(Deadline(str(d.get("code")), _labels(where, d.get("label")), on_date, days))
        partner_kinds = _strings(f"pathway {code} referral_partner_kinds", raw.get("referral_partner_kinds"))
        unknown = [k for k in partner_kinds if k not in kinds]
        if unknown:
            raise InvalidInput(f"pathways file: pathway {code} names unknown partner kinds: {', '.join(unknown)}.",
                               field="pathways")
        out[code] = Pathway(code, _labels(f"pathway {code}", raw.get("name")), tuple(items), tuple(deadlines),
                            partner_kinds)
    return Catalog(out, kinds)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Catalog:
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if path.endswith((".yaml", ".yml")) else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(f"pathways file: not valid {'YAML' if path.endswith(('.yaml', '.yml')) else 'JSON'}.",
                           field="pathways") from exc
    return parse_catalog(data)


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog from ``path`` (the admin's file) or the one shipped; re-read when the file changes."""
    p = path or DEFAULT_FILE
    if not p.is_file():
        raise InvalidInput(f"pathways file: {p.name} does not exist.", field="pathways")
    return _load(str(p), p.stat().st_mtime)


# --- a case's checklist -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """What the case gives to fill checklists: document fields present, attestations, record fields present."""

    documents: frozenset[str] = frozenset()
    attestations: frozenset[tuple[str, str]] = frozenset()  # (method, outcome)
    fields: frozenset[str] = frozenset()
    risk_level: str | None = None


@dataclass(frozen=True)
class ItemState:
    item: Item
    met: bool
    source: str | None  # document | attestation | field | triage | manual


@dataclass(frozen=True)
class DeadlineState:
    deadline: Deadline
    due: date
    days_left: int


@dataclass
class Checklist:
    case_pathway_id: str
    pathway: Pathway
    status: str
    items: list[ItemState] = field(default_factory=list)
    deadlines: list[DeadlineState] = field(default_factory=list)

    @property
    def missing(self) -> list[Item]:
        return [s.item for s in self.items if not s.met]

    @property
    def done(self) -> int:
        return sum(1 for s in self.items if s.met)


def item_state(item: Item, evidence: Evidence, manual: Mapping[str, Any]) -> ItemState:
    if evidence.documents & set(item.documents):
        return ItemState(item, True, "document")
    if evidence.attestations & set(item.attestations):
        return ItemState(item, True, "attestation")
    if evidence.fields & set(item.fields):
        return ItemState(item, True, "field")
    if evidence.risk_level and evidence.risk_level in item.triage:
        return ItemState(item, True, "triage")
    if item.code in manual:
        return ItemState(item, True, "manual")
    return ItemState(item, False, None)


def build_checklist(row: CasePathway, pathway: Pathway, evidence: Evidence, *, today: date) -> Checklist:
    out = Checklist(row.id, pathway, row.status)
    out.items = [item_state(it, evidence, row.manual or {}) for it in pathway.items]
    for d in pathway.deadlines:
        due = d.on if d.on else row.added_at.date() + timedelta(days=d.days_after_added or 0)
        out.deadlines.append(DeadlineState(d, due, (due - today).days))
    return out


def case_pathways(db: Session, case_id: str) -> list[CasePathway]:
    return list(db.scalars(select(CasePathway).where(CasePathway.case_id == case_id)
                           .order_by(CasePathway.added_at)))


def checklists(db: Session, catalog: Catalog, case: Case, evidence: Evidence) -> list[Checklist]:
    today = utcnow().date()
    return [build_checklist(row, catalog.pathways[row.code], evidence, today=today)
            for row in case_pathways(db, case.id) if row.code in catalog.pathways]


def add_pathway(db: Session, actor: Actor, catalog: Catalog, case_id: str, code: str) -> CasePathway:
    case = get_case(db, case_id)
    catalog.get(code)
    if any(r.code == code for r in case_pathways(db, case.id)):
        raise InvalidInput("pathway: this case already has that pathway.", field="pathway")
    row = CasePathway(case_id=case.id, code=code, added_by=actor.user_id, manual={})
    db.add(row)
    if case.pathway is None:
        case.pathway = code  # the case's main pathway, shown in the queue and counted on the dashboard
    case.updated_at = utcnow()
    db.flush()
    record_event(db, actor, "case:pathway_add", "case", case.id, pathway=code, case_pathway=row.id)
    return row


def _row(db: Session, case_id: str, case_pathway_id: str) -> CasePathway:
    row = db.get(CasePathway, case_pathway_id)
    if row is None or row.case_id != case_id:
        raise NotFound("No such pathway on this case.")
    return row


def confirm_item(db: Session, actor: Actor, catalog: Catalog, case_id: str, case_pathway_id: str,
                 item_code: str, *, confirmed: bool) -> CasePathway:
    """A caseworker confirms (or withdraws the confirmation of) an item seen outside the system."""
    row = _row(db, case_id, case_pathway_id)
    if item_code not in {i.code for i in catalog.get(row.code).items}:
        raise InvalidInput("item: not on this pathway's checklist.", field="item")
    manual = dict(row.manual or {})
    if confirmed:
        manual[item_code] = {"by": actor.user_id, "at": utcnow().isoformat(timespec="seconds")}
    else:
        manual.pop(item_code, None)
    row.manual = manual
    db.flush()
    record_event(db, actor, "case:pathway_item", "case", case_id, case_pathway=row.id, item=item_code,
                 confirmed=confirmed)
    return row


def set_pathway_status(db: Session, actor: Actor, case_id: str, case_pathway_id: str, status: str) -> CasePathway:
    if status not in PATHWAY_STATUSES:
        raise InvalidInput(f"status: choose one of {', '.join(PATHWAY_STATUSES)}.", field="status")
    row = _row(db, case_id, case_pathway_id)
    old, row.status = row.status, status
    db.flush()
    record_event(db, actor, "case:pathway_status", "case", case_id, case_pathway=row.id, old=old, new=status)
    return row


def partner_kinds_for(catalog: Catalog, codes: Iterable[str]) -> Sequence[str]:
    """The partner kinds that may receive a referral for any of these pathways."""
    out: dict[str, None] = {}
    for code in codes:
        if code in catalog.pathways:
            out.update(dict.fromkeys(catalog.pathways[code].referral_partner_kinds))
    return list(out)

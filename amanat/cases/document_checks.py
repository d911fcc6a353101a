"""Document checks a verifier gets for free: what the case's own data says about itself.

Each check gives a verdict code (``pass``, ``fail``, ``absent``) and, where it failed, which part failed
(a code such as ``birth_date``). Values never leave this module: the page shows verdicts only.

- ``mrz``: the passport MRZ's ICAO check digits (amanat.normalize.ids.parse_mrz);
- ``mrz_birth_date``: the MRZ's birth date agrees with the date of birth given on the form;
- ``tazkira``: the tazkira number has a known format (13-digit e-tazkira, or volume/page/record);
- ``records_birth_date`` / ``records_tazkira``: the case's records agree with each other;
- ``service_dates``: service began before it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.service import case_records
from amanat.errors import AmanatError
from amanat.normalize.ids import parse_mrz
from amanat.records.models import Record

__all__ = ["CHECK_LABELS", "PART_LABELS", "VERDICT_LABELS", "DocumentCheck", "case_checks", "record_checks"]


def N_(message: str) -> str:
    return message


CHECK_LABELS = {
    "mrz": N_("Passport MRZ check digits"),
    "mrz_birth_date": N_("Birth date in the MRZ agrees with the form"),
    "tazkira": N_("Tazkira number format"),
    "records_birth_date": N_("Dates of birth agree between records"),
    "records_tazkira": N_("Tazkira numbers agree between records"),
    "service_dates": N_("Service began before it ended"),
}
VERDICT_LABELS = {"pass": N_("Passes"), "fail": N_("Fails"), "absent": N_("Nothing to check")}
PART_LABELS = {"number": N_("document number"), "birth_date": N_("birth date"), "expiry_date": N_("expiry date"),
               "personal_number": N_("personal number"), "composite": N_("final check digit"),
               "format": N_("format")}


@dataclass(frozen=True)
class DocumentCheck:
    code: str
    verdict: str  # pass | fail | absent
    parts: tuple[str, ...] = ()  # what failed, as codes
    checked: int = 0  # records (or pairs of values) looked at


def _dob(norm: dict[str, Any]) -> tuple[str, str] | None:
    dob = norm.get("dob")
    if not isinstance(dob, dict) or not dob.get("iso"):
        return None
    return str(dob.get("precision") or "day"), str(dob["iso"])


def _same_date(a: tuple[str, str], b: tuple[str, str]) -> bool:
    if "day" == a[0] == b[0]:
        return a[1] == b[1]
    return a[1][:4] == b[1][:4]  # a year alone agrees with any date in that year


def record_checks(rec: Record) -> list[DocumentCheck]:
    """The checks one record's own data allows."""
    data, norm = rec.data or {}, rec.normalized or {}
    out: list[DocumentCheck] = []
    raw_mrz = data.get("passport_mrz")
    mrz = None
    if isinstance(raw_mrz, str) and raw_mrz.strip():
        try:
            mrz = parse_mrz(raw_mrz)
        except AmanatError:
            out.append(DocumentCheck("mrz", "fail", ("format",), 1))
        else:
            bad = tuple(name for name, ok in mrz.checks if not ok)
            out.append(DocumentCheck("mrz", "fail" if bad or not mrz.valid else "pass", bad, 1))
    else:
        out.append(DocumentCheck("mrz", "absent"))
    dob = _dob(norm)
    if mrz is not None and mrz.birth_date and dob is not None:
        agree = _same_date(dob, ("day", mrz.birth_date))
        out.append(DocumentCheck("mrz_birth_date", "pass" if agree else "fail", (), 1))
    else:
        out.append(DocumentCheck("mrz_birth_date", "absent"))
    tazkira = norm.get("tazkira")
    if isinstance(tazkira, dict):
        out.append(DocumentCheck("tazkira", "pass" if tazkira.get("valid") else "fail",
                                 () if tazkira.get("valid") else ("format",), 1))
    else:
        out.append(DocumentCheck("tazkira", "absent"))
    start, end = norm.get("service_start"), norm.get("service_end")
    if isinstance(start, dict) and isinstance(end, dict) and start.get("iso") and end.get("iso"):
        s, e = str(start["iso"]), str(end["iso"])
        if start.get("precision") != "day" or end.get("precision") != "day":
            s, e = s[:4], e[:4]
        out.append(DocumentCheck("service_dates", "pass" if s <= e else "fail", (), 1))
    else:
        out.append(DocumentCheck("service_dates", "absent"))
    return out


def _combine(code: str, checks: list[DocumentCheck]) -> DocumentCheck:
    ran = [c for c in checks if c.verdict != "absent"]
    if not ran:
        return DocumentCheck(code, "absent")
    failed = [c for c in ran if c.verdict == "fail"]
    parts = tuple(dict.fromkeys(p for c in failed for p in c.parts))
    return DocumentCheck(code, "fail" if failed else "pass", parts, sum(c.checked for c in ran))


def case_checks(db: Session, case: Case) -> list[DocumentCheck]:
    """Every check over the case's records, combined (one failure fails the check), plus agreement
    between records."""
    records = case_records(db, case)
    per_record = [record_checks(r) for r in records]
    out = [_combine(code, [c for checks in per_record for c in checks if c.code == code])
           for code in ("mrz", "mrz_birth_date", "tazkira")]
    dobs = [d for d in (_dob(r.normalized or {}) for r in records) if d is not None]
    if len(dobs) >= 2:
        agree = all(_same_date(dobs[0], d) for d in dobs[1:])
        out.append(DocumentCheck("records_birth_date", "pass" if agree else "fail", (), len(dobs)))
    else:
        out.append(DocumentCheck("records_birth_date", "absent"))
    tazkiras = [t.get("value") for t in ((r.normalized or {}).get("tazkira") for r in records)
                if isinstance(t, dict) and t.get("valid") and t.get("value")]
    if len(tazkiras) >= 2:
        out.append(DocumentCheck("records_tazkira", "pass" if len(set(tazkiras)) == 1 else "fail", (),
                                 len(tazkiras)))
    else:
        out.append(DocumentCheck("records_tazkira", "absent"))
    out.append(_combine("service_dates", [c for checks in per_record for c in checks if c.code == "service_dates"]))
    return out

"""When an exact tazkira or passport match may attach a record to a person without review.

A tazkira number is not a secret: a neighbour, a broker or an enemy may know it. From a channel anyone can
use (the public web form, OpenRosa devices, imported chats and lists) a matching number alone must not
attach a record with another name, or another birth date, to that person's case. Such a record becomes a
new person, its link reason ``exact_id_unconfirmed``; linkage then proposes the pair for review and never
merges it on its own (linkage.service). Staff typing a form while signed in are trusted as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from amanat.normalize.record import NormalizedRecord

UNCONFIRMED = "exact_id_unconfirmed"


def trusted_channel(channel: str, submitted_by: str | None) -> bool:
    """Only the web form filled in by signed-in staff; anonymous web, OpenRosa and every import are not."""
    return channel == "web" and submitted_by is not None


def _tokens(names: Any) -> tuple[set[str], str]:
    if not isinstance(names, Mapping):
        return set(), ""
    full = names.get("full_name")
    if not isinstance(full, Mapping):
        return set(), ""
    tokens = full.get("tokens") or ()
    return {str(t) for t in tokens if t}, str(full.get("phonetic") or "")


def _names_agree(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """The same own name as the cross-script keys read it: equal, or one name's parts all within the other's
    ("Mohammad Nabi" / "Mohammad Nabi Ahmadzai")."""
    a, a_key = _tokens(new.get("names"))
    b, b_key = _tokens(old.get("names"))
    if not a or not b:
        return False
    return a_key == b_key or a <= b or b <= a


def _year(d: Any) -> int | None:
    return int(d["year"]) if isinstance(d, Mapping) and isinstance(d.get("year"), int) else None


def _dates_agree(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Birth years at most one apart (a Solar Hijri year straddles two Gregorian ones); a missing date is no
    disagreement."""
    a, b = _year(new.get("dob")), _year(old.get("dob"))
    return a is None or b is None or abs(a - b) <= 1


def exact_match_confirmed(norm: NormalizedRecord, known: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the new record's name and birth date agree with at least one of the person's records
    (their normalised dicts)."""
    new = norm.to_dict()
    return any(_names_agree(new, old) and _dates_agree(new, old) for old in known)


__all__ = ["UNCONFIRMED", "exact_match_confirmed", "trusted_channel"]

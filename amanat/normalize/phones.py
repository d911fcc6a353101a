"""Phone numbers to E.164 with ``phonenumbers``; Afghan, Iranian and Pakistani numbers by default.

A national number (``0799 123 456``) is tried against each default region in order; the first region
where it is valid wins and any other region where it is also valid is reported. Mobile numbers — nearly
all numbers on these forms — take a fast path that applies phonenumbers' own metadata patterns without
building a PhoneNumber object (a full parse costs ~20 µs); the tests check both paths agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import pyarrow as pa
from phonenumbers import PhoneMetadata, PhoneNumberFormat

from amanat.normalize.errors import NormalizeError, require_text
from amanat.normalize.script import ascii_digits, ascii_digits_array

__all__ = ["DEFAULT_REGIONS", "PhoneNorm", "mobile_e164_many", "normalize_phone"]

DEFAULT_REGIONS: tuple[str, ...] = ("AF", "IR", "PK")
_SEPARATORS = re.compile(r"[\s\-./()\u00a0]+")
_DIGITS = re.compile(r"\+?[0-9]+")
_ANY_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True, slots=True)
class PhoneNorm:
    """``e164`` is set whenever the digits could be read as a number, even an invalid one."""

    e164: str | None
    region: str | None
    valid: bool
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"e164": self.e164, "region": self.region, "valid": self.valid, "reasons": list(self.reasons)}


@lru_cache(maxsize=64)
def _mobile_patterns(region: str) -> tuple[str, str, str, frozenset[int]] | None:
    """(country code, general pattern, mobile pattern, lengths) from phonenumbers' metadata."""
    md = PhoneMetadata.metadata_for_region(region)
    if md is None or md.mobile is None or md.mobile.national_number_pattern is None:
        return None
    general = md.general_desc.national_number_pattern if md.general_desc else None
    lengths = md.mobile.possible_length or (md.general_desc.possible_length if md.general_desc else None)
    if general is None or not lengths:
        return None
    return str(md.country_code), general, md.mobile.national_number_pattern, frozenset(lengths)


@lru_cache(maxsize=64)
def _mobile(region: str) -> tuple[str, re.Pattern[str], frozenset[int]] | None:
    """(country code, compiled mobile pattern, lengths) from phonenumbers' metadata for ``region``."""
    got = _mobile_patterns(region)
    if got is None:
        return None
    cc, general, mobile, lengths = got
    return cc, re.compile(f"(?=(?:{general})$)(?:{mobile})$"), lengths


@lru_cache(maxsize=64)
def _mobiles(regions: tuple[str, ...]) -> tuple[tuple[str, str, re.Pattern[str], frozenset[int]], ...] | None:
    out = []
    for region in regions:
        info = _mobile(region)
        if info is None:
            return None
        out.append((region, *info))
    return tuple(out)


def _fast(digits: str, regions: tuple[str, ...]) -> PhoneNorm | None:
    """Mobile numbers in the given regions, international or national; None if not that simple."""
    table = _mobiles(regions)
    if table is None:
        return None
    if digits[0] == "+" or digits.startswith("00"):
        body = digits[1:] if digits[0] == "+" else digits[2:]
        for region, cc, pattern, lengths in table:
            if body.startswith(cc):
                national = body[len(cc):]
                if len(national) in lengths and pattern.match(national):
                    return PhoneNorm(f"+{body}", region, True)
        return None
    national = digits[1:] if digits[0] == "0" else digits
    hits = [(region, cc) for region, cc, pattern, lengths in table
            if len(national) in lengths and pattern.match(national)]
    if not hits:
        return None
    region, cc = hits[0]
    reasons: tuple[str, ...] = ()
    if len(hits) > 1:  # a national number that is valid in more than one default region
        others = ", ".join(r for r, _ in hits[1:])
        reasons = (f"phone: also a valid number in {others}; read as {region}",)
    return PhoneNorm(f"+{cc}{national}", region, True, reasons)


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _slow(text: str, regions: tuple[str, ...]) -> PhoneNorm:
    if text.startswith("00"):
        text = "+" + text[2:]
    candidates: list[tuple[str, phonenumbers.PhoneNumber]] = []
    if text.startswith("+"):
        num = _parse(text, None)
        if num is not None:
            candidates.append((phonenumbers.region_code_for_number(num) or "", num))
    else:
        for region in regions:
            num = _parse(text, region)
            if num is not None:
                candidates.append((region, num))
    valid = [(r, n) for r, n in candidates if phonenumbers.is_valid_number(n)]
    if valid:
        region, num = valid[0]
        e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
        others = sorted({r for r, _ in valid[1:] if r != region})
        reasons = (f"phone: also a valid number in {', '.join(others)}; read as {region}",) if others else ()
        return PhoneNorm(e164, phonenumbers.region_code_for_number(num) or region, True, reasons)
    possible = [(r, n) for r, n in candidates if phonenumbers.is_possible_number(n)]
    if possible:
        region, num = possible[0]
        return PhoneNorm(phonenumbers.format_number(num, PhoneNumberFormat.E164), region or None, False,
                         ("phone: the number has a possible length but is not valid in its region",))
    if candidates:
        return PhoneNorm(None, None, False, ("phone: not a possible number in any of the regions tried",))
    return PhoneNorm(None, None, False, ("phone: could not be read as a phone number",))


@lru_cache(maxsize=2048)  # mostly one value per person: a small cache, less to keep
def _normalize(raw: str, regions: tuple[str, ...]) -> PhoneNorm:
    text = raw if raw.isascii() and raw.isdigit() else _SEPARATORS.sub("", ascii_digits(raw).strip())
    if _ANY_DIGIT.search(text) is None:
        raise NormalizeError("phone: no digits", field="phone")
    reasons: tuple[str, ...] = ()
    if _DIGITS.fullmatch(text):
        fast = _fast(text, regions)
        if fast is not None:
            return fast
        # "+93 0799…": a trunk 0 kept after the country code is a common slip.
        body = text.lstrip("+")
        body = body[2:] if body.startswith("00") else body
        for region in regions:
            cc = _mobile(region)
            if cc and text[:1] in "+0" and body.startswith(cc[0] + "0"):
                fixed = _fast("+" + cc[0] + body[len(cc[0]) + 1:], regions)
                if fixed is not None:
                    reasons = ("phone: dropped a 0 written after the country code",)
                    return PhoneNorm(fixed.e164, fixed.region, True, (*reasons, *fixed.reasons))
    return _slow(text, regions)


def normalize_phone(raw: str, regions: tuple[str, ...] = DEFAULT_REGIONS) -> PhoneNorm:
    """Normalise a phone number to E.164; Persian and Arabic-Indic digits are accepted."""
    require_text(raw, "phone")
    regions = tuple(r.upper() for r in regions)
    if not regions or any(PhoneMetadata.metadata_for_region(r) is None for r in regions):
        raise NormalizeError("phone: unknown default region", field="phone")
    return _normalize(raw, regions)


# Characters a value may hold for the columnar path (after ascii_digits): ASCII digits, "+" and
# the separators _SEPARATORS removes. Anything else goes through normalize_phone.
_COLUMNAR_ONLY = r"^[0-9+ ./()\-]+$"


def mobile_e164_many(values: Sequence[str | None], regions: tuple[str, ...] = DEFAULT_REGIONS) -> list[str | None]:
    """For many raw values at once, the E.164 of each one that is a mobile number in
    ``regions``, decided as the fast path of ``normalize_phone`` decides it (the same metadata
    patterns, run over the whole column in Arrow's RE2); None where that path does not decide
    (the caller asks ``normalize_phone``). Where it gives a number it is the one
    ``normalize_phone(value).e164`` gives, valid (tested)."""
    return mobile_e164_array(values, regions).to_pylist()  # type: ignore[no-any-return]


def mobile_e164_array(values: Sequence[str | None] | pa.Array, regions: tuple[str, ...] = DEFAULT_REGIONS) -> pa.Array:
    """mobile_e164_many as an Arrow string array (null where it gives None); ``values`` may
    be an Arrow string array."""
    import numpy as np
    import pyarrow.compute as pc

    table = [_mobile_patterns(r) for r in regions]
    null = pa.scalar(None, pa.string())
    if not len(values) or any(t is None for t in table):
        return pa.nulls(len(values), pa.string())
    # digits as ascii_digits gives them
    text = ascii_digits_array(values if isinstance(values, pa.Array) else pa.array(values, type=pa.string()))
    try:
        # Each step runs on the values still in play: a number is taken by the first region it
        # fits (as _fast), and most fit the first.
        pos = np.flatnonzero(pc.fill_null(pc.match_substring_regex(text, _COLUMNAR_ONLY), False)
                             .to_numpy(zero_copy_only=False))
        text = pc.replace_substring_regex(text.take(pa.array(pos)), r"[ ./()\-]+", "")
        ok = pc.fill_null(pc.match_substring_regex(text, r"^\+?[0-9]+$"), False)
        pos, text = pos[ok.to_numpy(zero_copy_only=False)], text.filter(ok)
        plus, zeros = pc.starts_with(text, "+"), pc.starts_with(text, "00")
        intl = pc.or_(plus, zeros)
        body = pc.if_else(plus, pc.utf8_slice_codeunits(text, 1), pc.utf8_slice_codeunits(text, 2))
        national = pc.if_else(pc.starts_with(text, "0"), pc.utf8_slice_codeunits(text, 1), text)
        taken: list[tuple[np.ndarray, pa.Array]] = []
        for cc, general, mobile, lengths in table:  # type: ignore[misc]
            # the national number: after the country code when written abroad, else as written
            candidate = pc.if_else(intl, pc.if_else(pc.starts_with(body, cc), pc.utf8_slice_codeunits(body, len(cc)),
                                                    null), national)
            fits = pc.fill_null(pc.and_(pc.and_(
                pc.is_in(pc.utf8_length(candidate), pa.array(sorted(lengths), pa.int32())),
                pc.match_substring_regex(candidate, f"^(?:{general})$")),
                pc.match_substring_regex(candidate, f"^(?:{mobile})$")), False)
            here = fits.to_numpy(zero_copy_only=False)
            taken.append((pos[here], pc.binary_join_element_wise("+", cc, candidate.filter(fits), "")))
            rest = pc.invert(fits)
            pos, intl, body, national = pos[~here], intl.filter(rest), body.filter(rest), national.filter(rest)
        at = np.concatenate([p for p, _ in taken])
        order = np.argsort(at, kind="stable")
        mask = np.zeros(len(values), dtype=bool)
        mask[at] = True
        return pc.replace_with_mask(pa.nulls(len(values), pa.string()), pa.array(mask),
                                    pa.concat_arrays([v for _, v in taken]).take(pa.array(order)))
    except pa.ArrowInvalid:  # a pattern RE2 cannot take: every value goes the long way
        return pa.nulls(len(values), pa.string())

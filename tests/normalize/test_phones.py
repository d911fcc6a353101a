"""Phones: AF, IR and PK by default, Persian digits, E.164 out; the fast path agrees with phonenumbers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amanat.normalize.errors import NormalizeError
from amanat.normalize.phones import _fast, mobile_e164_many, normalize_phone

PHONES = [
    ("۰۷۹۹۱۲۳۴۵۶", "+93799123456", "AF"),
    ("٠٧٩٩١٢٣٤٥٦", "+93799123456", "AF"),
    ("0799123456", "+93799123456", "AF"),
    ("0799 123 456", "+93799123456", "AF"),
    ("0799-123-456", "+93799123456", "AF"),
    ("(0799) 123456", "+93799123456", "AF"),
    ("+93 799 123 456", "+93799123456", "AF"),
    ("+93799123456", "+93799123456", "AF"),
    ("0093799123456", "+93799123456", "AF"),
    ("93799123456", "+93799123456", "AF"),
    ("799123456", "+93799123456", "AF"),
    ("+93 0799 123 456", "+93799123456", "AF"),
    ("+۹۳ ۷۰۰ ۱۲۳ ۴۵۶", "+93700123456", "AF"),
    ("0202201234", "+93202201234", "AF"),
    ("09123456789", "+989123456789", "IR"),
    ("۰۹۱۲۳۴۵۶۷۸۹", "+989123456789", "IR"),
    ("+98 912 345 6789", "+989123456789", "IR"),
    ("00989353456789", "+989353456789", "IR"),
    ("03001234567", "+923001234567", "PK"),
    ("0300-1234567", "+923001234567", "PK"),
    ("+92 300 1234567", "+923001234567", "PK"),
    ("+1 202 555 0143", "+12025550143", "US"),
    ("+49 30 901820", "+4930901820", "DE"),
    ("+90 532 123 45 67", "+905321234567", "TR"),
]


@pytest.mark.parametrize(("raw", "e164", "region"), PHONES)
def test_phone(raw: str, e164: str, region: str) -> None:
    p = normalize_phone(raw)
    assert (p.e164, p.region, p.valid) == (e164, region, True)


@pytest.mark.parametrize("raw", ["12345", "0799", "+93 12", "0000000000"])
def test_invalid_phone_has_reasons(raw: str) -> None:
    p = normalize_phone(raw)
    assert not p.valid
    assert p.reasons and all(r.startswith("phone: ") for r in p.reasons)


@pytest.mark.parametrize("raw", ["", "call me", "+", "--"])
def test_phone_without_digits_raises(raw: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_phone(raw)


def test_region_order_decides_and_is_reported() -> None:
    assert normalize_phone("0799123456", ("PK", "AF")).region == "AF"
    with pytest.raises(NormalizeError):
        normalize_phone("0799123456", ("XX",))


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(["0", "", "+93", "+98", "+92", "0093", "0098", "0092", "93"]),
    body=st.text(alphabet="0123456789", min_size=7, max_size=11),
)
def test_fast_path_agrees_with_phonenumbers(prefix: str, body: str) -> None:
    text = prefix + body
    fast = _fast(text, ("AF", "IR", "PK"))
    if fast is None:
        return
    num = phonenumbers.parse(fast.e164, None)
    assert phonenumbers.is_valid_number(num)
    assert phonenumbers.region_code_for_number(num) == fast.region
    assert phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) == fast.e164


ODD = ["+93 0799 123 456", "+9379912345", "+937991234567", "0799 123 45x", "+", "00", "0", "0093", "+93+799123456",
       "07991234５6", "0799\u2007123456", "0799—123—456", "+1 202 555 0100", "+98 21 1234 5678", "021 1234 5678"]


def _agree(values: list[str]) -> int:
    """Where the columnar path gives a number it is normalize_phone's valid E.164; how many it decided."""
    got = mobile_e164_many(values)
    decided = 0
    for raw, e164 in zip(values, got, strict=True):
        if e164 is None:
            continue
        decided += 1
        p = normalize_phone(raw)
        assert (p.e164, p.valid) == (e164, True), raw
    return decided


def test_columnar_mobile_numbers_equal_normalize_phone() -> None:
    listed = [raw for raw, _, _ in PHONES]
    # the mobile numbers of the three regions, written with digits and separators, are decided
    # here; a country code without "+", a 0 after it, a landline or another country's number is not
    long_way = {"93799123456", "+93 0799 123 456", "0202201234"}
    mobiles = [raw for raw, _, region in PHONES if region in ("AF", "IR", "PK") and raw not in long_way]
    assert _agree(mobiles) == len(mobiles)
    assert _agree(listed + ODD) == len(mobiles) + 1  # a fullwidth digit is a digit to ascii_digits too
    assert mobile_e164_many(["+93 0799 123 456", None, "x"]) == [None] * 3
    mixed = [*listed, *ODD, *reversed(listed)]  # regions interleaved: each value as on its own
    assert mobile_e164_many(mixed) == [mobile_e164_many([v])[0] for v in mixed]


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["0", "", "+93", "+98", "+92", "0093", "0098", "0092", "93", "+", "00"]),
    body=st.text(alphabet="0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩０５ -./()\u00a0\u2007", min_size=1, max_size=14),
)
def test_columnar_path_agrees_with_normalize_phone(prefix: str, body: str) -> None:
    _agree([prefix + body])


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.none() | st.text(alphabet="09+ -۰۵۹٠٥٩０５১ابپ\u200c", max_size=8), max_size=12),
       start=st.integers(0, 3))
def test_digits_rewritten_in_arrow_equal_ascii_digits(values: list[str | None], start: int) -> None:
    import pyarrow as pa

    from amanat.normalize.script import ascii_digits, ascii_digits_array

    whole = pa.array(["٠x", *values], type=pa.string())
    got = ascii_digits_array(whole.slice(min(start, len(whole))))  # a slice of an array too
    expected = [None if v is None else ascii_digits(v) for v in whole.to_pylist()[min(start, len(whole)):]]
    assert got.to_pylist() == expected
    # in a list, each number is taken by the first region it fits, as one by one
    assert mobile_e164_many(values) == [mobile_e164_many([v])[0] for v in values]

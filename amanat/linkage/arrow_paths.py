"""Arrow versions of the usual cases of the linkage groups' normalisers: a whole column of
values decided at once, on the same rules as the Python path, which takes every value these
do not decide (each tested equal to its group function, with hypothesis)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from amanat.errors import AmanatError
from amanat.normalize import record as normalize_parts
from amanat.normalize.phones import DEFAULT_REGIONS, mobile_e164_array
from amanat.normalize.script import ascii_digits_array

# Every character Python's str.strip removes (clean_text strips with it): a value that neither
# starts nor ends with one, and is not empty, is already clean, and Arrow's RE2 finds the rest.
_SPACE_CLASS = "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace())
_EDGE_SPACE = f"^[{_SPACE_CLASS}]|[{_SPACE_CLASS}]$"


def clean_array(values: pa.Array) -> pa.Array:
    """``clean_text`` on every value of a string array (stripped, empty → null); only values
    with whitespace at an edge, or empty, go through Python."""
    if not len(values):
        return values
    odd = pc.or_(pc.equal(values, ""), pc.match_substring_regex(values, _EDGE_SPACE)).fill_null(False)
    if not pc.any(odd).as_py():
        return values
    fixed = [normalize_parts.clean_text(v) for v in values.filter(odd).to_pylist()]
    return pc.replace_with_mask(values, odd, pa.array(fixed, type=pa.string()))


def phone_e164(values: list[str | None] | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Each phone value's valid E.164 (null: no valid number) and whether normalising it
    raised, as phones_part would: mobile numbers decided in Arrow, the rest one by one."""
    fast = mobile_e164_array(values)
    failed = np.zeros(len(values), dtype=bool)
    undecided = np.flatnonzero(pc.is_null(fast).to_numpy(zero_copy_only=False))
    slow: list[str | None] = []
    rest: list[int] = []
    given = (values.take(pa.array(undecided)).to_pylist() if isinstance(values, pa.Array)
             else [values[i] for i in undecided.tolist()])
    for i, value in zip(undecided.tolist(), given, strict=True):
        if value is None:
            continue
        rest.append(i)
        try:
            phone = normalize_parts._phone(value, DEFAULT_REGIONS)
            slow.append(phone.e164 if phone.valid and phone.e164 else None)
        except AmanatError:  # phones_part notes it and goes on
            slow.append(None)
        except Exception:
            slow.append(None)
            failed[i] = True
    if not rest:
        return fast, failed
    mask = np.zeros(len(values), dtype=bool)
    mask[rest] = True
    return pc.replace_with_mask(fast, pa.array(mask), pa.array(slow, pa.string())), failed


def phones_column(first: pa.Array, second: pa.Array) -> pa.Array:
    """The phones list of each row from its phone and whatsapp_phone numbers (E.164 or null),
    as _phone_list orders them: the distinct numbers sorted; none is null."""
    a_ok = first.is_valid().to_numpy(zero_copy_only=False)
    b_ok = second.is_valid().to_numpy(zero_copy_only=False)
    both = a_ok & b_ok & pc.not_equal(first, second).fill_null(False).to_numpy(zero_copy_only=False)
    low = pc.if_else(pc.less(first, second).fill_null(True), first, second)
    one = pc.if_else(pa.array(both), low, pc.coalesce(first, second))  # the smaller, or the only one
    high = pc.if_else(pc.less(first, second).fill_null(True), second, first)
    has = a_ok | b_ok
    counts = has.astype(np.int32) + both
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    n = len(counts)
    picks = np.empty(offsets[-1], dtype=np.int64)
    picks[offsets[:-1][has]] = np.flatnonzero(has)
    picks[offsets[:-1][both] + 1] = n + np.flatnonzero(both)
    values = pa.concat_arrays([one, high]).take(pa.array(picks))
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(counts == 0))


def _given(values: pa.Array) -> np.ndarray:
    return values.is_valid().to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _sorted_digits(values: pa.Array) -> pa.Array:
    """Each value's digits in ascending order (features._tazkira_columns' sorted key)."""
    return pc.binary_join_element_wise(
        *(pc.binary_repeat(d, pc.count_substring(values, d)) for d in "0123456789"), "")


_E_TAZKIRA = r"^([0-9]{4})[- ]?([0-9]{4})[- ]?([0-9]{5})$"  # normalize.ids' fast path, in RE2


def tazkira_columns(values: list[pa.Array]) -> tuple[np.ndarray, list[pa.Array]]:
    """The tazkira group's columns for the two usual keys, decided as normalize_tazkira and
    paper_tazkira decide them on their fast paths: an e-tazkira number alone, written
    NNNN-NNNN-NNNNN with or without separators; or a paper tazkira's volume, page and record
    alone, each a plain number above zero. Every other key goes the long way."""
    number, volume, page, record = (ascii_digits_array(v) for v in values)
    paper = [_given(v) for v in (volume, page, record)]
    e_ok = _given(number) & ~(paper[0] | paper[1] | paper[2])
    e_ok &= pc.match_substring_regex(number, _E_TAZKIRA).fill_null(False).to_numpy(zero_copy_only=False)
    e_value = pc.replace_substring_regex(number, _E_TAZKIRA, r"\1-\2-\3")
    p_ok = ~_given(number) & paper[0] & paper[1] & paper[2]
    trimmed = []
    for part in (volume, page, record):
        p_ok &= pc.match_substring_regex(part, "^[0-9]+$").fill_null(False).to_numpy(zero_copy_only=False)
        part = pc.utf8_ltrim(part, characters="0")  # int() drops leading zeros; zero itself is invalid
        p_ok &= pc.not_equal(part, "").fill_null(False).to_numpy(zero_copy_only=False)
        trimmed.append(part)
    p_value = pc.binary_join_element_wise("paper:" , pc.binary_join_element_wise(*trimmed, "/"), "")
    e_mask, p_mask = pa.array(e_ok), pa.array(p_ok)
    null = pa.scalar(None, pa.string())
    value = pc.if_else(e_mask, e_value, pc.if_else(p_mask, p_value, null))
    kind = pc.if_else(e_mask, "e_tazkira", pc.if_else(p_mask, "paper_tazkira", null))
    return e_ok | p_ok, [value, kind, pc.if_else(e_mask, _sorted_digits(e_value), null)]


# Python's \s within ASCII, and the separators normalize.ids removes from a passport number
_PASSPORT_SEPARATORS = r"[\t\n\x0b\x0c\r\x1c-\x1f \-./_]+"


def passport_column(values: list[pa.Array]) -> tuple[np.ndarray, list[pa.Array]]:
    """The passport group's column for a passport number that is ASCII once its digits are:
    separators dropped, upper case, as normalize_passport gives its value (valid or not, the
    value is what is compared). With an MRZ beside it, only a valid number (6-9 letters and
    digits, a digit among them): passport_part then keeps it whatever the MRZ says, and
    parse_mrz raises nothing but the errors passport_part notes. Every other key goes the
    long way."""
    number, mrz = values
    number = ascii_digits_array(number)
    text = pc.ascii_upper(pc.replace_substring_regex(number, _PASSPORT_SEPARATORS, ""))
    valid = pc.and_(pc.match_substring_regex(text, "^[A-Z0-9]{6,9}$"), pc.match_substring_regex(text, "[0-9]"))
    ok = _given(number) & (~_given(mrz) | valid.fill_null(False).to_numpy(zero_copy_only=False))
    ok &= pc.and_(pc.string_is_ascii(number), pc.not_equal(text, "")).fill_null(False).to_numpy(zero_copy_only=False)
    return ok, [pc.if_else(pa.array(ok), text, pa.scalar(None, pa.string()))]

"""A relative's name written inside a name field: "Mohammad Nabi s/o Abdul Karim", "محمد نبی ولد عبدالکریم".

Lists copied from registers and ID documents often write the father's name (or a married woman's
husband's) into the name field itself. ``split_relatives`` parts such a field into the person's
own name and the relatives' names, each as written, so that the name keys are the person's own and
the father's name can fill an empty father's name field (``record.father_part``).

Markers: s/o, d/o, son of, daughter of, bin, ibn, bint, ولد, فرزند, پسر, دختر, بن, ابن, بنت (father);
w/o, wd/o, wife of, widow of, زوجه, همسر, بیوه (husband); c/o, care of (someone to reach the person
through). A marker counts only between two parts that both hold a letter: "Bin Yamin" alone, or a
field that starts with "s/o", is left as it is. Pashto "زوی" (son) is not a marker: it is also the
end of family names (رحیم زوی, Rahimzoi).
"""

from __future__ import annotations

import re
import string

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["RELATION_ROLES", "may_name_relative", "may_name_relative_array", "split_relatives"]

# (role of the person named after the marker, marker words); Arabic-script letters in both the Dari
# and the Arabic keyboard's forms (ی/ي, ه/ة), harakat and ZWNJ around them are not letters.
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("father", ("son of", "daughter of", "bint", "bin", "ibn", "ولد", "فرزند", "پسر", "دختر", "بنت", "بن",
                "ابن")),
    ("husband", ("wife of", "widow of", "زوجه", "زوجة", "همسر", "بیوه", "بيوه")),
    ("care_of", ("care of",)),
)
_SLASHED = {"s": "father", "d": "father", "w": "husband", "wd": "husband", "c": "care_of"}
_WORD_ROLE = {w: role for role, words in _MARKERS for w in words}
_WORDS = sorted(_WORD_ROLE, key=len, reverse=True)
# Not inside a word on either side: a letter or digit next to it makes it part of a name. Matched
# on the text with ASCII letters lower-cased (same length, so positions hold): "S/O", "Son Of".
_MARKER_RE = re.compile(
    r"(?<![^\W_])(?:(?P<slash>wd|[sdwc])\s*[/\\]\s*o\.?|(?P<word>"
    + "|".join(w.replace(" ", r"\s+") for w in _WORDS)
    + r"))[\u064b-\u065f\u0670]*(?![^\W_])",  # the marker's own harakat (ولدِ) go with it
)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# The same test in RE2 for Arrow, looser: a slash, or a marker's last word standing alone. Every
# field in which split_relatives finds a relative matches it (tested).
_HINT_RE2 = (r"[/\\]|(?i)(?:^|[^\pL\pN])(?:of|bint|bin|ibn|"
             + "|".join(w for w in _WORDS if not w.isascii())
             + r")(?:[^\pL\pN]|$)")
# A later marker names a relative of the relative before it.
RELATION_ROLES: dict[tuple[str, str], str] = {
    ("father", "father"): "grandfather",
    ("husband", "father"): "father_in_law",
}
_EDGES = " \t\r\n,;:-–—_()[]{}.\u200c\u200f\u200e"
# The marker words as ``script.fold`` gives them (lower case, ي→ی, ة→ه, harakat gone), one word each.
_HINT_WORDS = frozenset({"of", "bin", "ibn", "bint", "ولد", "فرزند", "پسر", "دختر", "بنت", "بن", "ابن", "زوجه",
                         "همسر", "بیوه"})


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _role(match: re.Match[str]) -> str:
    slash = match.group("slash")
    if slash is not None:
        return _SLASHED[slash]
    return _WORD_ROLE[" ".join(match.group("word").split())]


def may_name_relative(folded: str) -> bool:
    """False where a field, folded by ``script.fold``, cannot hold a marker: the cheap test before
    ``split_relatives`` (letters and spaces only, and no marker word among them)."""
    if not folded.replace(" ", "").isalpha():  # a slash, punctuation or digits: look closer
        return True
    return not _HINT_WORDS.isdisjoint(folded.split())


def may_name_relative_array(values: pa.Array) -> np.ndarray:
    """Per value of a string array (raw field text), whether it may name a relative: False for
    every value in which ``split_relatives`` finds none, decided in Arrow; null is False."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    hit = pc.match_substring_regex(values, _HINT_RE2).fill_null(False)
    return hit.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def split_relatives(raw: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(own name, ((role, name as written), …)) of a name field; the field itself when it names
    no relative. Roles: father, husband, care_of, and for a second marker grandfather (the
    father's father), father_in_law (the husband's father) or related."""
    found = list(_MARKER_RE.finditer(raw.translate(_ASCII_LOWER)))
    if not found:
        return raw, ()
    own = raw[: found[0].start()]
    if not _has_letter(own):  # "S/O Abdul Karim", "Bin Yamin": no own name before it
        return raw, ()
    relatives: list[tuple[str, str]] = []
    previous = ""
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(raw)
        text = raw[match.end(): end].strip(_EDGES)
        role = _role(match)
        if previous:
            role = RELATION_ROLES.get((previous, role), "related")
        if not _has_letter(text):
            break  # "Mohammad Nabi s/o" and what follows an empty part: nothing to name
        relatives.append((role, " ".join(text.split())))
        previous = role
    return own.strip(_EDGES), tuple(relatives)

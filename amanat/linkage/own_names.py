"""Own names read as a person would: is this the same name, another name, or one grown from the other?

The comparison levels (comparisons.py) say how alike two names are as strings; families are full of names
alike as strings that are other names (حسن / حسین share one consonant key; Gul Mohammad / Gul Ahmad a
prefix). These functions read the feature rows' sound keys and romanisations part by part, for the
decision (decision.py) to tell one man from his brother.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rapidfuzz.distance import JaroWinkler

from amanat.linkage.comparisons import value
from amanat.normalize.phonetic import house, is_family_name, lookup_latin, skeleton_latin

# Parts of one name spelt alike. The romanisation already folds house styles (Muhammad, Mohd →
# mohammad), so parts that still differ are mostly other names: hassan / hussain 0.86, sayed / saeed
# 0.89, mahmood / mohammad 0.83, mohammad / ahmad 0.81; khwaja / khaja 0.96, rahim / rahin 0.92.
_PART_ALIKE = 0.9
_PART_OTHER = 0.85  # below this a part is another name outright


def _joined(row: Mapping[str, Any], prefix: str = "full") -> str | None:
    phon = value(row, f"{prefix}_phon")
    return _one_word(phon.split()) if isinstance(phon, str) else None


def _one_word(parts: Sequence[str]) -> str:
    """Sound-key parts written as one word, a letter doubled across the join written once: the key of
    نور رحیم is "nr rhm", of Noorrahim (one word) "nrhm" — one name, spaced two ways. A part of one
    letter stays whole (شاه شریف is "S Srf": Shah Sharif is not Sharif)."""
    out = ""
    for part in parts:
        out += part[1:] if out and part and len(part) > 1 and len(out) > 1 and out[-1] == part[0] else part
    return out


def _runs(tokens: Sequence[str]) -> set[str]:
    """Every run of consecutive tokens written together: where a compound is split differently."""
    return {_one_word(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)}


# A family, tribal or pen name is one the lexicon knows (Wardak, Kakar, Safi, Noori), ends in these
# (Ahmadzai, Akhundzada, Sulaimankhel) or is a nisba of five letters or more (Sabiri, Mohammadi);
# given names that end in -i are mostly shorter (Ali, Wali, Nabi, Ghani).
_FAMILY_ENDINGS = ("zai", "zay", "zei", "zada", "zadah", "zadeh", "zade", "khel", "khail", "khil")


def family_like(token: str, family: set[str] | frozenset[str] = frozenset()) -> bool:
    return (token in family or token.endswith(_FAMILY_ENDINGS) or (len(token) >= 5 and token.endswith(("i", "ee", "y")))
            or is_family_name(token))


def _grew_by_family(left: Mapping[str, Any], right: Mapping[str, Any], extra: int) -> bool:
    """The longer name is the shorter plus ``extra`` trailing parts, each a family or pen name
    (Haji Wali Jan → Hajji Wali Jan Sabiri; گل حسین → گل حسین بارکزی): the same man's name grown."""
    latins = [value(r, "full_latin") for r in (left, right)]
    if extra < 1 or not all(isinstance(x, str) for x in latins):
        return False
    long_ = max((str(x).split() for x in latins), key=len)
    family = {t for r in (left, right) for t in str(value(r, "family_latin") or "").split()}
    return len(long_) > extra and all(family_like(t, family) for t in long_[-extra:])


def own_name_relation(left: Mapping[str, Any], right: Mapping[str, Any]) -> str:
    """agree (the same name, spaced differently too, or grown by a family name), contained (one name
    is part of the other: Farid / Farid Ahmad), similar, differ, or missing. Read from the
    cross-script sound keys, then checked part by part on the romanisation: the sound key of حسن,
    حسین and احسان is one."""
    pa_, pb = value(left, "full_phon"), value(right, "full_phon")
    a = pa_.split() if isinstance(pa_, str) else []
    b = pb.split() if isinstance(pb, str) else []
    if not a or not b:
        return "missing"
    short, long_ = (a, b) if len("".join(a)) <= len("".join(b)) else (b, a)
    if _one_word(a) == _one_word(b):
        by_sound = "agree"  # سخی زاد / سخیزاد
    elif long_[:len(short)] == short and _grew_by_family(left, right, len(long_) - len(short)):
        by_sound = "agree"
    elif not Counter(short) - Counter(long_) or _one_word(short) in _runs(long_):
        by_sound = "contained"
    else:
        return "differ"
    by_letters = spelt_alike(left, right)
    if by_sound == "agree":
        return "agree" if by_letters in ("agree", "contained") else "similar"
    return by_letters if by_letters in ("agree", "contained") else "differ"


# Compound names share these (Abdul Hamid / Abdul Majeed, Samiullah / Saifullah): the part that
# tells two names apart is what they leave.
_COMPOUND_HEADS = ("abdul", "abdal", "abdel", "abdur", "abdus", "abd")
_COMPOUND_TAILS = ("ullah", "ulla", "allah", "uddin", "udin", "addin", "uddin")


def _core(token: str) -> str:
    for head in _COMPOUND_HEADS:
        if token.startswith(head) and len(token) - len(head) >= 3:
            token = token[len(head):]
            break
    for tail in _COMPOUND_TAILS:
        if token.endswith(tail) and len(token) - len(tail) >= 3:
            return token[:-len(tail)]
    return token


# سید is written Sayed, Said, Syed, Sayyid, Seyed; the romanisation reads "Said" as سعید (saeed).
_SAYED = frozenset({"sayed", "sayyed", "sayyid", "syed", "seyed", "said", "saeed", "sayid"})


def _feminine_of(a: str, b: str) -> bool:
    """``b`` is the woman's form of the man's name ``a`` (karim / karima, zahir / zahira, wahid /
    wahida): one letter apart and one sound key, never one person."""
    return len(a) >= 3 and b in (a + "a", a + "ah", a + "e")


def _part_alike(a: str, b: str) -> float:
    """How alike two parts are, read on what is left after a shared compound head or tail."""
    if a in _SAYED and b in _SAYED:
        return 1.0
    if _feminine_of(a, b) or _feminine_of(b, a) or a[:1] != b[:1]:
        return 0.0  # wali / ali: Jaro-Winkler 0.92, two names; the romanisation keeps first letters
    if house(a) == house(b):
        return 1.0  # noori / nuri, naeem / naiim: one name in two house styles
    if skeleton_latin(house(a)) != skeleton_latin(house(b)) and _two_names(a, b):
        # rahima / rahman (0.93), nasir / nasim (0.92): spelt alike, and two names the lexicon knows — a
        # sister's or a brother's name, never "the same" without a person's look (rahim / rahin: a typo)
        return min(_similarity(a, b), _PART_ALIKE - 0.01)
    return _similarity(a, b)


def _two_names(a: str, b: str) -> bool:
    ea, eb = lookup_latin(a), lookup_latin(b)
    return ea is not None and eb is not None and ea.latin != eb.latin


def _similarity(a: str, b: str) -> float:
    whole = JaroWinkler.similarity(a, b)
    ca, cb = _core(a), _core(b)
    return min(whole, JaroWinkler.similarity(ca, cb)) if (ca, cb) != (a, b) else whole


def spelt_alike(left: Mapping[str, Any], right: Mapping[str, Any]) -> str:
    """Names that sound or are spelt alike as a whole, read part by part. The consonant key cannot
    tell حسن from حسین (twins' names), and "gul mohammad" / "gul ahmad" share a prefix that lifts the
    whole (0.93) though a part differs. agree when every part has a partner spelt alike, contained
    when the shorter's parts all do, differ when a part is another name outright, else similar (never
    the same man without a person's look)."""
    la, lb = value(left, "full_latin"), value(right, "full_latin")
    a = la.split() if isinstance(la, str) else []
    b = lb.split() if isinstance(lb, str) else []
    if not a or not b or house("".join(a)) == house("".join(b)):
        return "agree"  # Noorrahim / Noor Rahim: one name spaced two ways
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    best: list[float] = []
    free = list(range(len(long_)))
    for t in short:  # each part its own partner, the likeliest first
        sims = [_part_alike(t, long_[u]) for u in free]
        k = max(range(len(free)), key=sims.__getitem__)
        best.append(sims[k])
        free.pop(k)
    if min(best) >= _PART_ALIKE:
        if len(short) == len(long_):
            return "agree"
        trailing = free == list(range(len(short), len(long_)))
        return "agree" if trailing and _grew_by_family(left, right, len(free)) else "contained"
    return "similar" if min(best) >= _PART_OTHER else "differ"


def _latin_joined(row: Mapping[str, Any], prefix: str) -> str:
    return str(value(row, f"{prefix}_latin") or "").replace(" ", "")


def swapped(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Own and family name written in each other's fields, both ways round: one way by the sound key
    (what the comparison level found), the other way by the sound key or spelt alike (a typo in one
    of them: mikhayla hannagan / hannagan mikhvyla). Not when one's own name is merely the other's
    family name (Aziz / Sayed Nabi Azizi)."""
    la, lf, ra, rf = (_joined(left), _joined(left, "family"), _joined(right), _joined(right, "family"))
    if not (la and lf and ra and rf):
        return False
    if la == rf and lf == ra:
        return True
    if la == rf:  # the other way: left's family name against right's own
        a, b = _latin_joined(left, "family"), _latin_joined(right, "full")
    elif lf == ra:
        a, b = _latin_joined(left, "full"), _latin_joined(right, "family")
    else:
        return False
    return bool(a and b) and _part_alike(a, b) >= _PART_ALIKE


def father_son(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """One's father's name is the other's own name."""
    for x, y in ((left, right), (right, left)):
        own, father = _joined(x), _joined(y, "father")
        if own and father and own == father:
            return True
    return False


def same_grandfather(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    a, b = _joined(left, "grand"), _joined(right, "grand")
    return bool(a and b and a == b)

"""Keys for one name token: compound structure, consonant skeleton, romanisation, lexicon.

The cross-script key is a consonant skeleton. Arabic script writes only long vowels, and Latin house
styles disagree exactly on vowels (Mohammad/Muhammad/Mohammed), so vowels are dropped on both sides;
consonants that Afghan, Iranian and Pakistani romanisations swap are merged into one class
(ق/ک/گ/غ ↔ q/k/g/gh; ز/ذ/ض/ظ/ژ ↔ z/dh/zh; س/ص/ث ↔ s/th; و ↔ w/v). Doubled letters collapse, a
word-final h goes (شاه/Shah, الله/-ullah, صالح/Saleh). The price is conflation of names that differ
only in vowels (محمد and محمود both give "mhmd"); ``latin`` keeps them apart for known names.

Compounds are parsed the same way in both scripts — عبد + base, base + الله, base + ال + tail
(…الدین, …الحق, …الرحمن) — and the Arabic article is dropped, so the sun-letter assimilation of
house styles (Abdurrahman, Abdul Rahman, Abd al-Rahman) does not matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from amanat.normalize.script import fold

__all__ = [
    "LexEntry",
    "TokenKeys",
    "house",
    "join_latin",
    "known_arabic",
    "lexicon",
    "lookup_arabic",
    "lookup_latin",
    "skeleton_arabic",
    "skeleton_latin",
    "token_keys",
]

ALLAH = "الله"

# Arabic tail word (after the article ال) -> canonical Latin suffix and Latin spellings of the word.
_TAILS: dict[str, tuple[str, str]] = {
    "دین": ("uddin", "din|deen|dden|dine"),
    "حق": ("ulhaq", "haq|haque|hak|huq|haqq|hoq"),
    "رحمن": ("urrahman", "rahman|rehman|rahmaan|rahaman"),
    "رحمان": ("urrahman", ""),
    "رحیم": ("urrahim", "rahim|raheem"),
    "زمان": ("uzzaman", "zaman|zamaan"),
    "اسلام": ("ulislam", "islam"),
    "کریم": ("ulkarim", "karim|kareem"),
    "رشید": ("urrashid", "rashid|rasheed"),
    "امین": ("ulamin", "amin|ameen"),
    "ملک": ("ulmulk", "mulk"),
    "نسا": ("unnisa", "nisa|nissa|nesa|nisaa"),
    "نبی": ("unnabi", "nabi"),
    "دوله": ("uddawla", "dawla|daula|dowla|doula"),
}
_LATIN_TAIL = {alt: ar for ar, (_, alts) in _TAILS.items() for alt in alts.split("|") if alt}
_ALLAH_LATIN = ("ullah", "ullha", "ulla", "ulah", "ollah", "olla", "olah", "allah", "alla", "alah",
                "ellah", "ella", "illah", "llah")
_ALLAH_SET = frozenset(_ALLAH_LATIN)
# The vowel + article run between a base and its tail: ud-, ul-, ur-, uz-, ush-, …
_TAIL_RE = re.compile(
    r"(?P<base>[a-z]{2,}?)[aeiou](?:sh|[lrdzstn])?-?(?P<tail>"
    + "|".join(sorted(_LATIN_TAIL, key=len, reverse=True)) + r")"
)
_ARTICLE_RE = re.compile(r"[aeiou]?(sh|[lrdzstn])")
_ARTICLE_END = re.compile(r"..[uo](sh|[lrdzstn])$")
# Family-name endings often written apart: "Ahmad Zai", "Nabi Zada", "Sulaiman Khel".
_TRIBAL_SUFFIXES_LAT = frozenset({"zai", "zay", "zei", "zada", "zadah", "zadeh", "zade", "khel", "khail", "khil"})
TRIBAL_SUFFIXES_AR = frozenset({"زی", "زاده", "خیل"})
ABD_LATIN = frozenset({"abd", "abdul", "abdal", "abdel", "abdol", "abdur", "abdor", "abdar", "abdu", "abdo",
                       "abdus", "abduz", "abdud", "abdush", "abdun", "abdut"})
ARTICLES = frozenset({"al", "el", "ul", "ol", "ar", "ur", "or", "er", "ad", "ud", "od", "ed", "as", "us",
                      "os", "es", "az", "uz", "oz", "ez", "an", "un", "at", "ut", "ash", "ush"})

# Frequent first or last elements written joined to a known name (محمدعلی, Ahmadshah, Guljan).
_JOINED_HEADS_AR = ("محمد", "غلام", "گل", "نور", "شاه", "میر", "خان", "سید", "دوست", "جان")
_JOINED_TAILS_AR = ("شاه", "جان", "خان", "گل", "محمد")
_JOINED_HEADS_LAT = frozenset({"mohammad", "ghulam", "gul", "noor", "shah", "mir", "khan", "sayed", "dost", "jan"})
_JOINED_TAILS_LAT = frozenset({"shah", "jan", "khan", "gul", "mohammad"})

_AR_CLASS = {
    "ب": "b", "پ": "p", "ت": "t", "ط": "t", "ث": "s", "س": "s", "ص": "s", "ج": "j", "چ": "c", "ح": "h",
    "ه": "h", "خ": "x", "د": "d", "ذ": "z", "ز": "z", "ض": "z", "ظ": "z", "ژ": "z", "ر": "r", "ش": "S",
    "غ": "k", "ق": "k", "ک": "k", "گ": "k", "ف": "f", "ل": "l", "م": "m", "ن": "n",
}
_LAT_CLASS = {
    "b": "b", "p": "p", "t": "t", "s": "s", "j": "j", "h": "h", "d": "d", "z": "z", "r": "r", "f": "f",
    "k": "k", "q": "k", "c": "k", "g": "k", "l": "l", "m": "m", "n": "n", "x": "x",
}
_LAT_DIGRAPH = {"sh": "S", "ch": "c", "kh": "x", "gh": "k", "zh": "z", "th": "s", "dh": "z", "ph": "f",
                "ck": "k"}
_DOUBLE = re.compile(r"(.)\1+")
_AR_ROMAN = {
    "ا": "a", "ب": "b", "پ": "p", "ت": "t", "ط": "t", "ث": "s", "س": "s", "ص": "s", "ج": "j", "چ": "ch",
    "ح": "h", "ه": "h", "خ": "kh", "د": "d", "ذ": "z", "ز": "z", "ض": "z", "ظ": "z", "ژ": "zh", "ر": "r",
    "ش": "sh", "ع": "", "غ": "gh", "ف": "f", "ق": "q", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n",
    "و": "w", "ی": "y",
}


@dataclass(frozen=True, slots=True)
class LexEntry:
    """One known name: its canonical romanisation, folded Dari/Pashto spellings, Latin spellings."""

    latin: str
    arabic: tuple[str, ...]
    variants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """The keys of one written token (a joined token may yield two parts)."""

    folded: tuple[str, ...]
    latin: tuple[str, ...]
    phonetic: tuple[str, ...]


def house(token: str) -> str:
    """Fold Latin house-style differences: doubles, oo/ou/o→u, ee/e→i, v→w, q→k, -ay/-ey→-ai."""
    t = _DOUBLE.sub(r"\1", token)
    t = t.replace("ph", "f").replace("v", "w").replace("q", "k")
    if t.endswith(("ay", "ey", "ei")):
        t = t[:-2] + "ai"
    t = t.replace("ou", "u").replace("o", "u").replace("e", "i")
    if t.endswith("y") and len(t) > 2:
        t = t[:-1] + "i"
    return _DOUBLE.sub(r"\1", t)


@lru_cache(maxsize=1)
def lexicon() -> tuple[dict[str, LexEntry], dict[str, LexEntry], tuple[str, ...]]:
    """(folded Arabic-script index, house-folded Latin index, Latin keys claimed twice)."""
    by_ar: dict[str, LexEntry] = {}
    by_lat: dict[str, LexEntry] = {}
    clashes: list[str] = []
    text = resources.files("amanat.normalize").joinpath("data/names.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = [*line.split("\t"), "", ""][:3]
        latin = cols[0].strip()
        arabic = tuple(dict.fromkeys(fold(a).replace(" ", "") for a in cols[1].split("|") if a.strip()))
        variants = tuple(v.strip() for v in cols[2].split("|") if v.strip())
        entry = LexEntry(latin, arabic, variants)
        for form in arabic:
            by_ar.setdefault(form, entry)
        for v in (latin, *variants):
            key = house(v)
            if key in by_lat and by_lat[key].latin != latin:
                clashes.append(key)
                continue
            by_lat.setdefault(key, entry)
    return by_ar, by_lat, tuple(clashes)


_FAMILY_MARKER = "# Family, tribal and pen names"


@lru_cache(maxsize=1)
def family_names() -> frozenset[str]:
    """House-folded Latin spellings of the lexicon's family, tribal and pen names (Wardak, Kakar,
    Safi, Noori): a name that grows by one of these is the same man's name grown, not another man."""
    text = resources.files("amanat.normalize").joinpath("data/names.tsv").read_text(encoding="utf-8")
    out: set[str] = set()
    inside = False
    for line in text.splitlines():
        if line.startswith(_FAMILY_MARKER):
            inside = True
        elif inside and line.strip() and not line.startswith("#"):
            cols = [*line.split("\t"), "", ""][:3]
            out.update(house(v.strip()) for v in (cols[0], *cols[2].split("|")) if v.strip())
    return frozenset(out)


def is_family_name(latin: str) -> bool:
    return house(latin.lower()) in family_names()


# Switched off only to measure what the lexicon adds over the rules (see names.lexicon_disabled).
LEXICON_SWITCH = {"enabled": True}


def lookup_arabic(token: str) -> LexEntry | None:
    return lexicon()[0].get(token) if LEXICON_SWITCH["enabled"] else None


def lookup_latin(token: str) -> LexEntry | None:
    return lexicon()[1].get(house(token)) if LEXICON_SWITCH["enabled"] else None


def _collapse(chars: list[str]) -> str:
    return _DOUBLE.sub(r"\1", "".join(chars))


def skeleton_arabic(seg: str) -> str:
    """Consonant skeleton of a folded Arabic-script segment."""
    out: list[str] = []
    last = len(seg) - 1
    for i, ch in enumerate(seg):
        if ch in "اع":
            continue
        if ch == "و" or ch == "ی":
            if i == 0:
                out.append("w" if ch == "و" else "y")
            continue
        if ch in "هح" and i == last and i > 0:
            continue
        out.append(_AR_CLASS.get(ch, ch))
    return _collapse(out)


def skeleton_latin(seg: str) -> str:
    """Consonant skeleton of a lower-case Latin segment, in the same classes as Arabic."""
    out: list[str] = []
    i, n = 0, len(seg)
    while i < n:
        pair = seg[i:i + 2]
        if pair in _LAT_DIGRAPH:
            out.append(_LAT_DIGRAPH[pair])
            i += 2
            continue
        ch = seg[i]
        i += 1
        if ch in "aeiou":
            continue
        if ch in "wvy":
            if i == 1:
                out.append("y" if ch == "y" else "w")
            continue
        if ch == "h" and i == n and n > 1:
            continue
        out.append(_LAT_CLASS.get(ch, ch))
    return _collapse(out)


def romanise(seg: str) -> str:
    """Rule-based romanisation of a folded Arabic-script segment not in the lexicon.

    Short vowels are not written, so an 'a' is supplied after a word-initial consonant cluster's
    first letter; the result is a readable fallback, not a transliteration standard.
    """
    out: list[str] = []
    n = len(seg)
    for i, ch in enumerate(seg):
        prev = seg[i - 1] if i else ""
        if ch == "و":
            out.append("w" if i == 0 or prev == "ا" else "u")
        elif ch == "ی":
            out.append("y" if i == 0 or prev == "ا" else "i")
        elif ch == "ه" and i == n - 1 and i > 0 and prev not in "اوی":
            out.append("a")
        elif ch == "ع":
            out.append("a" if i == 0 or (i < n - 1 and seg[i + 1] not in "اوی") else "")
        else:
            out.append(_AR_ROMAN.get(ch, ch))
        if i == 0 and ch not in "اوعی" and n > 2 and seg[1] not in "اوی":
            out.append("a")
    return "".join(out)


def _parse_arabic(tok: str) -> tuple[bool, str, str]:
    """(has عبد prefix, base, tail) with the article dropped; tail is '' or an Arabic tail word/ALLAH."""
    abd = False
    if tok.startswith("عبد") and len(tok) > 3:
        abd, tok = True, tok[3:]
        if tok.startswith("ال") and len(tok) > 2:
            tok = tok[2:]
            # عبدالطیف: the article's lam and the name's written once (عبداللطیف, Abdul Latif)
            if not lookup_arabic(tok) and lookup_arabic("ل" + tok):
                tok = "ل" + tok
        if tok in ("له", "لله"):
            return True, "", ALLAH
        return True, tok, ""
    if tok.endswith(ALLAH) and len(tok) > 5:
        return abd, tok[:-4], ALLAH
    pos = tok.find("ال", 2)
    while pos != -1:
        tail = tok[pos + 2:]
        if tail in _TAILS:
            return abd, tok[:pos], tail
        pos = tok.find("ال", pos + 1)
    return abd, tok, ""


def _parse_latin(tok: str) -> tuple[bool, str, str]:
    """The Latin counterpart of ``_parse_arabic``: (abd, Latin base, Arabic tail word or ALLAH)."""
    if tok.startswith("abd") and len(tok) > 3:
        rest = tok[3:]
        if rest in _ALLAH_SET:
            return True, "", ALLAH
        m = _ARTICLE_RE.match(rest)
        if m is None:
            return True, rest, ""
        art, after = m.group(1), rest[m.end():]
        if after.startswith(art) or not after:
            return True, after, ""
        if art == "l":  # Abdulatif: Latif or Atif? whichever is a known name, else the shorter
            return True, ("l" + after) if lookup_latin("l" + after) and not lookup_latin(after) else after, ""
        return True, art + after, ""
    for suffix in _ALLAH_LATIN:
        if tok.endswith(suffix) and len(tok) - len(suffix) >= 2:
            return False, tok[: -len(suffix)], ALLAH
    m = _TAIL_RE.fullmatch(tok)
    if m and not lookup_latin(tok):
        return False, m.group("base"), _LATIN_TAIL[m.group("tail")]
    return False, tok, ""


def _split_joined(tok: str, arabic: bool) -> tuple[str, ...]:
    """Split محمدعلی / Mohammadali / Ahmadshah into two known names; otherwise keep the token."""
    if arabic:
        if lookup_arabic(tok):
            return (tok,)
        for head in _JOINED_HEADS_AR:
            rest = tok[len(head):]
            if tok.startswith(head) and len(rest) >= 2 and lookup_arabic(rest):
                return head, rest
        for tail in _JOINED_TAILS_AR:
            rest = tok[: -len(tail)]
            if tok.endswith(tail) and len(rest) >= 3 and lookup_arabic(rest):
                return rest, tail
        return (tok,)
    if lookup_latin(tok) or len(tok) < 6:
        return (tok,)
    for i in range(3, len(tok) - 2):
        head, rest = lookup_latin(tok[:i]), lookup_latin(tok[i:])
        if head and rest and (head.latin in _JOINED_HEADS_LAT or rest.latin in _JOINED_TAILS_LAT):
            return tok[:i], tok[i:]
    return (tok,)


def known_arabic(tok: str) -> bool:
    """Whether a folded Dari token is a name the lexicon knows: itself, an عبد… compound or a
    …الله / …الدین name of a known base, or two known names written together (محمدرحمان)."""
    if lookup_arabic(tok):
        return True
    abd, base, tail = _parse_arabic(tok)
    if abd or tail:
        return not base or lookup_arabic(base) is not None
    return len(_split_joined(tok, True)) == 2


def _latin_of_base(base: str, arabic: bool) -> str:
    if not base:
        return ""
    entry = lookup_arabic(base) if arabic else lookup_latin(base)
    if entry is not None:
        return entry.latin
    return romanise(base) if arabic else base


def _skeleton_of_base(base: str, arabic: bool) -> str:
    if arabic:
        return skeleton_arabic(base)
    entry = lookup_latin(base)
    # A known Latin spelling takes the skeleton of its Dari spelling (Ishaq/اسحاق: sh is s+h there).
    return skeleton_arabic(entry.arabic[0]) if entry and entry.arabic else skeleton_latin(base)


@lru_cache(maxsize=65536)
def token_keys(tok: str, arabic: bool) -> TokenKeys:
    """Folded part(s), canonical romanisation and phonetic key of one folded token."""
    abd, base, tail = _parse_arabic(tok) if arabic else _parse_latin(tok)
    if not abd and not tail:
        parts = _split_joined(tok, arabic)
        if len(parts) == 2:
            a, b = token_keys(parts[0], arabic), token_keys(parts[1], arabic)
            return TokenKeys(a.folded + b.folded, a.latin + b.latin, a.phonetic + b.phonetic)
    latin = ("abdul" if abd else "") + _latin_of_base(base, arabic)
    phon = ("bd" if abd else "") + _skeleton_of_base(base, arabic)
    if tail == ALLAH:
        latin = "abdullah" if abd and not base else latin + "ullah"
        phon += "l"
    elif tail:
        latin += _TAILS[tail][0]
        phon += skeleton_arabic(tail)
    phon = _DOUBLE.sub(r"\1", phon) or tok
    return TokenKeys((tok,), (latin or tok,), (phon,))


def _ends_in_article(prev: str, tok: str) -> bool:
    """"Shamsul Haq", "Habibur Rahman": the article written onto the first part, the tail apart.

    Only tails that follow such an article in practice, and (for sun letters) only when the article
    has assimilated to the tail's first letter, so "Rasul Karim" or "Masud Rahim" stay two names.
    """
    m = _ARTICLE_END.search(prev)
    if m is None or tok not in _LATIN_TAIL:
        return False
    tail = _LATIN_TAIL[tok]
    if m.group(1) == "l":
        return tail in ("حق", "اسلام", "ملک")
    return tok.startswith(m.group(1)) and tail in ("رحمن", "رحیم", "رشید", "دین", "زمان", "نسا", "دوله")


def join_latin(tokens: list[str]) -> list[str]:
    """Join Latin compounds written apart: Abdul Rahman, Abd al Rahman, Najib Ullah, Zia ul Haq."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok in ABD_LATIN and i + 1 < n:
            j = i + 1
            if tokens[j] in ARTICLES and j + 1 < n:
                tok += tokens[j]
                j += 1
            out.append(tok + tokens[j])
            i = j + 1
            continue
        if out and tok in ARTICLES and i + 1 < n:
            out[-1] += tok + tokens[i + 1]
            i += 2
            continue
        # An "abd…" token heads its own compound: never the tail of the one before ("Alhaj
        # Abdelkarim", "Mullah Abdulhaq" would otherwise glue the title on).
        if out and (tok in _ALLAH_SET or tok in _TRIBAL_SUFFIXES_LAT
                    or (tok[:1] in "aeiou" and not tok.startswith("abd") and _TAIL_RE.fullmatch("xx" + tok)
                        and not lookup_latin(tok))
                    or _ends_in_article(out[-1], tok)):
            out[-1] += tok
        else:
            out.append(tok)
        i += 1
    return out

"""Names: a same-script key, a romanisation and a cross-script phonetic key.

``normalize_name`` works on one name field (given name, father's, grandfather's or family name, or a
full name). Titles and honorifics (حاجی/Haji, انجنیر/Eng., داکتر/Dr., مرحوم/Late, ranks used as
titles) are kept in ``display`` and listed in ``titles``, and left out of every key, because the
same person is registered with and without them; in Dari a title is often written onto the name
(داکترمحمد, انجینرسلیمان) and is split off. A relative's name written into the field ("Mohammad
Nabi s/o Abdul Karim", "محمد نبی ولد عبدالکریم") is kept in ``relatives`` and left out of the keys
too (see ``relations``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from amanat.normalize.errors import require_text
from amanat.normalize.phonetic import (
    LEXICON_SWITCH,
    TRIBAL_SUFFIXES_AR,
    join_latin,
    known_arabic,
    lookup_arabic,
    lookup_latin,
    token_keys,
)
from amanat.normalize.relations import may_name_relative, split_relatives
from amanat.normalize.script import ARABIC_RE, fold, join_compounds

__all__ = ["TITLES", "NameNorm", "lexicon_disabled", "name_variants", "normalize_name"]

# Canonical title code -> spellings in Dari/Pashto and Latin (folded on load).
TITLES: dict[str, tuple[str, ...]] = {
    "haji": ("حاجی", "الحاج", "حاج", "haji", "hajji", "haaji", "alhaj", "alhajj", "hajj", "haj", "alhaji"),
    "eng": ("انجنیر", "انجینیر", "انجینر", "مهندس", "eng", "engr", "engineer", "injinir", "enjinir",
            "engeneer", "mohandis", "muhandis"),
    "dr": ("داکتر", "دکتر", "دوکتور", "dr", "doctor", "doktor", "daktar"),
    "prof": ("prof", "professor", "پروفیسور"),
    "pohand": ("پوهاند", "pohand", "puhand"),
    "pohanwal": ("پوهنوال", "pohanwal"),
    "pohandoy": ("پوهندوی", "pohandoy", "pohandui"),
    "pohanmal": ("پوهنمل", "pohanmal", "pohanmel"),
    "pohanyar": ("پوهنیار", "pohanyar"),
    "pohyalai": ("پوهیالی", "pohyalai"),
    "ustad": ("استاد", "ustad", "ustaz", "ostad", "ustadh"),
    "mawlawi": ("مولوی", "mawlawi", "maulvi", "molvi", "mawlavi", "moulavi", "maulawi", "mowlawi",
                "moulvi", "molavi", "mawlawee", "maulavi"),
    "mawlana": ("مولانا", "mawlana", "maulana", "molana", "moulana"),
    "mullah": ("ملا", "mullah", "mulla", "mola", "molla", "mulah", "mullo"),
    "qari": ("قاری", "qari", "qaree", "kari"),
    "hafiz": ("حافظ", "hafiz", "hafez", "hafiz-e"),
    "sheikh": ("شیخ", "sheikh", "shaikh", "shaykh", "sheik", "shekh"),
    "qazi": ("قاضی", "qazi", "qadi", "kazi", "qaazi"),
    # Prosecutor; Pashto څارنوال folds to the same letters by sound.
    "saranwal": ("سارنوال", "saranwal", "sarenwal", "saranwaal", "saranwall", "saranval", "charanwal"),
    "qomandan": ("قوماندان", "کماندان", "qomandan", "qumandan", "kumandan", "komandan", "commander", "cmdr"),
    "kandakmishr": ("کندکمشر", "kandakmishr", "kandakmesher", "kandakmeshr", "kandakmishar"),
    "gen": ("جنرال", "gen", "general", "jenral", "jgrl"),
    "col": ("دگروال", "col", "colonel", "dagarwal", "dagarwal"),
    "ltc": ("دگرمن", "ltc", "dagarman"),
    "maj": ("جگرن", "maj", "major", "jagran"),
    "capt": ("تورن", "capt", "captain", "cpt", "toran", "turan"),
    "lt": ("بریدمن", "lt", "lieutenant", "bridman", "lieut"),
    "sgt": ("بریدمل", "sgt", "sergeant", "bridmal"),
    "late": ("مرحوم", "مرحومه", "late", "marhoom", "marhum", "marhooma", "marhoma"),
    "mr": ("اقای", "شاغلی", "mr", "mister"),
    "mrs": ("خانم", "mrs", "ms", "miss", "khanum", "khanom", "khanim"),
    "mohtaram": ("محترم", "محترمه", "mohtaram", "muhtaram", "mohtarama"),
    "janab": ("جناب", "janab", "jenab"),
}
# Only ever a suffix ("Haji Sahib"); as a first token صاحب is also a given name (صاحب خان).
_SUFFIX_TITLES = {"صاحب": "sahib", "sahib": "sahib", "saheb": "sahib", "sahab": "sahib", "saab": "sahib"}
# Qualifiers that belong to a following title: لومړی بریدمن (first lieutenant), برید جنرال.
_QUALIFIERS = frozenset({"لومری", "دوهم", "دریم", "برید", "ستر", "دگر", "first", "second", "third", "1st", "2nd",
                         "3rd", "brig", "brigadier", "lieutenant", "lt", "maj", "major", "senior"})
_AL = frozenset({"al", "el", "ال"})
# Titles written as two words: کندک مشر (battalion commander).
_TWO_WORD_TITLES = {("کندک", "مشر"): "kandakmishr", ("kandak", "mishr"): "kandakmishr",
                    ("kandak", "mesher"): "kandakmishr", ("kandak", "meshr"): "kandakmishr"}
# Dari titles that no name begins with: written onto the name (داکترمحمد), they are split off
# whenever three letters or a title follow. Any other title is split off only before a known name
# or title (ملالی is a name, not ملا + لی; قاریزاده a family name), and خانم never (خانمحسن is
# خان محسن).
_GLUED_STRONG = frozenset(fold(t) for t in (
    "داکتر", "دکتر", "دوکتور", "انجنیر", "انجینیر", "انجینر", "مهندس", "استاد", "مولوی", "مولانا", "الحاج",
    "پوهاند", "پوهنوال", "پوهندوی", "پوهنیار", "پوهنمل", "پوهیالی", "پروفیسور", "سارنوال", "جنرال", "دگروال",
    "دگرمن", "جگرن", "بریدمن", "بریدمل", "مرحوم", "مرحومه", "محترم", "محترمه", "قوماندان", "کماندان", "کندکمشر",
))


def _title_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, spellings in TITLES.items():
        for s in spellings:
            index[fold(s).replace("-", "")] = code
    return index


_TITLE_INDEX = _title_index()
_TITLE_HEADS = frozenset(t[:2] for t in _TITLE_INDEX if ARABIC_RE.search(t))  # a quick "not a title" test
_APOSTROPHES = re.compile(r"['`´‘’ʹ′]")
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class NameNorm:
    """One name field, normalised.

    ``folded`` is the same-script key, ``latin`` a canonical romanisation (Latin input: its
    house-style form), ``phonetic`` the cross-script key, ``tokens`` its space-separated parts.
    """

    display: str
    titles: tuple[str, ...]
    folded: str
    latin: str
    phonetic: str
    tokens: tuple[str, ...]
    script: str
    # (role, name as written) of relatives named in the field: father, husband, care_of, …
    relatives: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "display": self.display,
            "titles": list(self.titles),
            "folded": self.folded,
            "latin": self.latin,
            "phonetic": self.phonetic,
            "tokens": list(self.tokens),
            "script": self.script,
            "relatives": [list(r) for r in self.relatives],
        }

    def relative(self, role: str) -> str | None:
        """The name written for the first relative in ``role`` (e.g. "father"), if any."""
        return next((text for r, text in self.relatives if r == role), None)


def _strip_titles(tokens: list[str]) -> tuple[tuple[str, ...], list[str]]:
    titles: list[str] = []
    i = 0
    while i < len(tokens) - 1:
        tok = tokens[i]
        nxt = tokens[i + 1]
        if (tok, nxt) in _TWO_WORD_TITLES and i + 2 < len(tokens):
            titles.append(_TWO_WORD_TITLES[tok, nxt])
            i += 2
        elif tok in _AL and _TITLE_INDEX.get(nxt) == "haji" and i + 2 < len(tokens):
            titles.append("haji")
            i += 2
        elif tok in _TITLE_INDEX:
            titles.append(_TITLE_INDEX[tok])
            i += 1
        elif tok in _QUALIFIERS and nxt in _TITLE_INDEX and i + 2 < len(tokens):
            titles.append(_TITLE_INDEX[nxt])
            i += 2
        else:
            break
    rest = tokens[i:]
    while len(rest) > 1 and rest[-1] in _SUFFIX_TITLES:
        titles.append(_SUFFIX_TITLES[rest.pop()])
    return tuple(titles), rest


def _join_arabic(tokens: list[str]) -> list[str]:
    """Join what Dari writes apart but is one name: "احمد زی", "نبی زاده", "بی بی" (as in بیبی),
    "عبدل محمد" (عبدالمحمد, Abdul Mohammad); and mend عبدا, عبدالله whose لله a PDF copy lost."""
    out: list[str] = []
    for tok in tokens:
        if tok == "عبدا":
            tok = "عبدالله"
        if out and out[-1] == "عبدل" and ARABIC_RE.search(tok):
            out[-1] = "عبدال" + tok
        elif out and ARABIC_RE.search(tok) and (
            tok in TRIBAL_SUFFIXES_AR or (lookup_arabic(out[-1] + tok) and not lookup_arabic(out[-1]))
        ):
            out[-1] += tok
        else:
            out.append(tok)
    return out


def _glued_title(tok: str) -> tuple[str, str] | None:
    """(title, rest) of a Dari token that begins with a title written onto the name, else None."""
    if tok[:2] not in _TITLE_HEADS or lookup_arabic(tok):
        return None
    for cut in range(min(len(tok) - 2, 9), 1, -1):  # the longest title first: حاجی before حاج
        head, rest = tok[:cut], tok[cut:]
        if head not in _TITLE_INDEX or head == "خانم":
            continue
        if rest in _TITLE_INDEX or known_arabic(rest):
            return head, rest
        if head in _GLUED_STRONG and len(rest) >= 3 and not rest.startswith(("زاد", "زی", "خیل")):
            return head, rest
    return None


def _split_glued_titles(tokens: list[str]) -> list[str]:
    """Split titles off the leading Dari tokens: "داکترمحمدرحمان", "استادمولوی شمس‌الله"."""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok not in _TITLE_INDEX and tok not in _AL and tok not in _QUALIFIERS:
            glued = _glued_title(tok)
            if glued is None:
                break
            tokens = [*tokens[:i], *glued, *tokens[i + 1:]]
        i += 1
    return tokens


# A Latin title typed onto the name (DrFarid, AlhajAbdul Matin): the spellings longest first, one regex.
_LATIN_TITLE_RE = re.compile("^(" + "|".join(sorted((re.escape(t) for t in _TITLE_INDEX if t.isascii() and len(t) >= 2),
                                                      key=len, reverse=True)) + ")([a-z]{3,})$")


def _glued_latin_title(tok: str) -> tuple[str, ...]:
    """A leading Latin token split into (title, name) when it is a title written onto a name the
    lexicon knows (drfarid, alhajabdul, engsalim); the token as it is otherwise (drakhshan stays)."""
    m = _LATIN_TITLE_RE.match(tok)
    if m is None or lookup_latin(tok) is not None:
        return (tok,)
    for cut in range(len(m.group(1)), 1, -1):  # the longest title first: alhajj before alhaj
        title, rest = tok[:cut], tok[cut:]
        if title in _TITLE_INDEX and len(rest) >= 3 and lookup_latin(rest) is not None:
            return title, rest
    return (tok,)


def _tokenise(text: str) -> list[str]:
    """Name tokens of already folded text."""
    if not text.replace(" ", "").isalpha():  # most names are letters and spaces only: skip the regexes
        text = _NON_WORD.sub(" ", _APOSTROPHES.sub("", text)).strip()
    tokens = text.split()
    if ARABIC_RE.search(text):
        tokens = _split_glued_titles(_join_arabic(join_compounds(text).split()))
    elif tokens:
        tokens = [*_glued_latin_title(tokens[0]), *tokens[1:]]
    return join_latin(tokens)


@lru_cache(maxsize=131072)
def _normalize(raw: str) -> NameNorm:
    text = fold(raw)
    relatives: tuple[tuple[str, str], ...] = ()
    if may_name_relative(text):
        own, relatives = split_relatives(raw)
        if own != raw:
            text = fold(own)
    titles, folded, latin, phonetic, tokens, script = _keys(tuple(_tokenise(text)))
    return NameNorm(" ".join(raw.split()), titles, folded, latin, phonetic, tokens, script, relatives)


@lru_cache(maxsize=131072)
def _keys(written: tuple[str, ...]) -> tuple[tuple[str, ...], str, str, str, tuple[str, ...], str]:
    """Keys of a tokenised name; spelling variants that tokenise alike (digits, ZWNJ, case) share them."""
    titles, tokens = _strip_titles(list(written))
    folded: list[str] = []
    latin: list[str] = []
    phon: list[str] = []
    n_ar = n_lat = 0
    for tok in tokens:
        arabic = ARABIC_RE.search(tok) is not None
        if arabic:
            n_ar += 1
        elif not tok.isdigit():
            n_lat += 1
        keys = token_keys(tok, arabic)
        folded.extend(keys.folded)
        latin.extend(keys.latin)
        phon.extend(keys.phonetic)
    script = "empty" if not tokens else "mixed" if n_ar and n_lat else "arabic" if n_ar else "latin"
    return titles, " ".join(folded), " ".join(latin), " ".join(phon), tuple(phon), script


def normalize_name(raw: str) -> NameNorm:
    """Normalise one name field; total on any text (an empty name gives script "empty")."""
    return _normalize(require_text(raw, "name"))


def name_variants(raw: str) -> frozenset[str]:
    """Alias set of a name for intersection matching: each token's folded and Latin forms, plus the
    spellings the lexicon knows for it in both scripts (variant sets, not one forced canonical form)."""
    norm = normalize_name(raw)
    out: set[str] = set()
    for tok in norm.folded.split():
        out.add(tok)
        arabic = ARABIC_RE.search(tok) is not None
        entry = lookup_arabic(tok) if arabic else lookup_latin(tok)
        if entry is not None:
            out.update(entry.arabic)
            out.add(entry.latin)
            out.update(entry.variants)
    out.update(norm.latin.split())
    return frozenset(out)


@contextmanager
def lexicon_disabled() -> Iterator[None]:
    """Keys from the rules alone, without the name lexicon: for measuring what the lexicon adds.

    Not for production use: it changes results process-wide while active (caches are cleared).
    """
    LEXICON_SWITCH["enabled"] = False
    for cached in (_normalize, _keys, token_keys):
        cached.cache_clear()
    try:
        yield
    finally:
        LEXICON_SWITCH["enabled"] = True
        for cached in (_normalize, _keys, token_keys):
            cached.cache_clear()

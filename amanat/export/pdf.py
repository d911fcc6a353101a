"""The case packet as a PDF in Dari, Pashto or English, with right-to-left text shaped by HarfBuzz.

fpdf2 shapes each line with HarfBuzz (uharfbuzz), so Dari and Pashto letters join and read right to left,
and the PDF maps every glyph back to its characters: copying or extracting the text gives the name as it
was written. Both fonts ship with the package (amanat/web/static/fonts, SIL OFL 1.1, OFL.txt beside them):
Vazirmatn's Arabic-script subset (full Pashto coverage) and its Latin subset for Latin letters, digits and
punctuation, so a PDF looks the same on every server and needs no system font. Answers (relationships,
provinces, yes/no) are set as their labels in the packet's language, never as codes. The PDF is built in
memory and leaves only sealed, like every export.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fpdf import FPDF
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.core.audit import Actor, record_event
from amanat.errors import AmanatError, PermissionDenied
from amanat.export.packet import Packet
from amanat.export.service import Built, Recipient, seal_for

STATIC_FONTS = Path(__file__).resolve().parents[1] / "web" / "static" / "fonts"
RTL_LANGS = ("fa_AF", "ps_AF")


def N_(message: str) -> str:
    """Marks a label for the catalogs; it is translated with the reader's gettext when the PDF is drawn."""
    return message


LEVELS = {"high": N_("High risk"), "medium": N_("Medium risk"), "low": N_("Low risk"), None: N_("Not assessed")}
METHODS = {"document_check": N_("Document check"), "vouching": N_("Vouching"), "interview": N_("Interview"),
           "records_check": N_("Records check")}
OUTCOMES = {"confirmed": N_("Confirmed"), "not_confirmed": N_("Not confirmed"), "inconclusive": N_("Inconclusive")}
HB_LANGUAGE = {"fa_AF": "fas", "ps_AF": "pus", "en": "eng"}


def _font(pattern: str) -> Path:
    for ext in ("ttf", "otf", "woff"):
        found = sorted(STATIC_FONTS.glob(f"{pattern}.{ext}"))
        if found:
            return found[0]
    raise AmanatError(f"The PDF font {pattern} is missing from the package (amanat/web/static/fonts).",
                      code="font_missing", status=500)


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufeff"
               for ch in text)


class _Writer:
    def __init__(self, lang: str) -> None:
        self.rtl = lang in RTL_LANGS
        self.lang = lang
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(True, margin=15)
        # One weight each: every font costs a parse and a HarfBuzz face per document (headings differ by size).
        self.pdf.add_font("arabic", fname=str(_font("Vazirmatn-Arabic-400")))
        self.pdf.add_font("latin", fname=str(_font("Vazirmatn-Latin-400")))
        self.pdf.add_page()

    def line(self, text: str, *, size: int = 11, bold: bool = False) -> None:
        rtl_text = self.rtl or _has_arabic(text)
        size = size + 1 if bold else size
        style = ""
        if rtl_text:
            self.pdf.set_font("arabic", style=style, size=size)
            self.pdf.set_fallback_fonts(["latin"])
            self.pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if self.rtl else None,
                                      script="arab", language=HB_LANGUAGE.get(self.lang, "fas"))
        else:
            self.pdf.set_font("latin", style=style, size=size)
            self.pdf.set_fallback_fonts(["arabic"])
            self.pdf.set_text_shaping(use_shaping_engine=True, direction="ltr")
        self.pdf.multi_cell(0, size * 0.6, text, align="R" if self.rtl else "L", new_x="LMARGIN", new_y="NEXT")

    def gap(self, h: float = 3) -> None:
        self.pdf.ln(h)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _answer(choices: Mapping[str, Mapping[str, str]], field: str, value: object, sep: str = ", ") -> str:
    """An answer by its label (``son`` → پسر, ``AF01`` → the province), each of a multiple choice's; free
    text as written."""
    options = choices.get(field)
    if not options:
        return str(value)
    return sep.join(options.get(v, v) for v in str(value).split())


def render_packet_pdf(packet: Packet, *, lang: str, gettext: Callable[[str], str],
                      labels: Mapping[str, str] | None = None,
                      choices: Mapping[str, Mapping[str, str]] | None = None) -> bytes:
    """The packet's content as PDF pages: case, record, family, documents, attestations, pathways.
    ``labels``: field → its question's label; ``choices``: field → answer code → label, in ``lang``."""
    _ = gettext
    labels, choices = labels or {}, choices or {}
    sep = "، " if lang in RTL_LANGS else ", "
    c: dict[str, Any] = packet.content
    w = _Writer(lang)
    # Messages are looked up outside the f-strings: the catalogs' extractor does not read inside them.
    t = {k: _(k) for k in (N_("Case packet"), N_("Status"), N_("Risk"), N_("Opened"), N_("Pathway"), N_("missing"),
                           N_("Due"))}
    w.line(f"{t['Case packet']} {c['case']['number']}", size=16, bold=True)
    level = LEVELS.get(c["case"]["risk_level"], LEVELS[None])
    w.line(f"{t['Status']}: {_(c['case']['status'])} · {t['Risk']}: {_(level)} · {t['Opened']}: "
           f"{c['case']['opened_on']}")
    w.gap()
    w.line(_("Record"), size=13, bold=True)
    for key, value in c["record"].items():
        w.line(f"{labels.get(key, key)}: {_answer(choices, key, value, sep)}")
    if c["family"]:
        w.gap()
        w.line(_("Family members"), size=13, bold=True)
        for m in c["family"]:
            w.line(" · ".join(f"{labels.get(k, k)}: {_answer(choices, k, v, sep)}" for k, v in m.items()))
    w.gap()
    w.line(_("Documents"), size=13, bold=True)
    for d in c["documents"] or [{"field": None}]:
        w.line(f"{labels.get(d['field'], d['field'])} · {d['content_type']} · {d['filename']}" if d["field"]
               else _("None"))
    w.gap()
    w.line(_("Attestations"), size=13, bold=True)
    for a in c["attestations"] or [{"method": None}]:
        w.line(f"{a['on']} · {_(METHODS.get(a['method'], a['method']))} · {_(OUTCOMES.get(a['outcome'], a['outcome']))}"
               f" · {_(a['by_role'])}" if a["method"] else _("None"))
    for p in c["pathways"]:
        w.gap()
        w.line(f"{t['Pathway']}: {p['name']}", size=13, bold=True)
        for item in p["items"]:
            # The shipped font has no check marks: a met item is a bullet, a missing one says so in words.
            w.line(f"• {item['label']}" + ("" if item["met"] else f" — {t['missing']}"))
        for d in p["deadlines"]:
            w.line(f"{t['Due']}: {d['due']} · {d['label']}")
    return w.output()


def export_packet_pdf(db: Session, actor: Actor, case: Case, packet: Packet, recipient: Recipient, *, lang: str,
                      gettext: Callable[[str], str], labels: Mapping[str, str] | None = None,
                      choices: Mapping[str, Mapping[str, str]] | None = None,
                      can_reveal: bool, kdf: tuple[int, int] = (3, 65536)) -> Built:
    """Render, seal and audit one case packet PDF."""
    if not can_reveal:
        raise PermissionDenied("A case packet shows values: it needs the record:reveal permission.")
    plaintext = render_packet_pdf(packet, lang=lang, gettext=gettext, labels=labels, choices=choices)
    name = f"case-packet-{packet.content['case']['number']}-{lang}.pdf"
    blob, who = seal_for(db, recipient, plaintext, name, kdf_time_cost=kdf[0], kdf_memory_kib=kdf[1])
    del plaintext
    record_event(db, actor, "export:packet", "case", case.id, people=1, fields=packet.fields, format="pdf",
                 language=lang, **who)
    return Built(name + ".amanat", blob, 1)


REPORT_SECTIONS = {"intake_by_channel": N_("Intake by channel"), "cases": N_("Cases opened and closed"),
                   "status_now": N_("Cases by status"), "pathway_now": N_("Open cases by pathway"),
                   "risk_now": N_("Open cases by risk"), "province_now": N_("Open cases by province"),
                   "referrals": N_("Referrals by status"), "referrals_sent_in_month": N_("Referrals sent this month")}
REPORT_KEYS = {"opened": N_("Opened"), "closed": N_("Closed"), "all": N_("All"), "not_assessed": N_("Not assessed"),
               **{k: v for k, v in LEVELS.items() if k}}


def render_report_pdf(rows: list[tuple[str, str, str]], *, month: str, lang: str, gettext: Callable[[str], str],
                      names: Mapping[str, str] | None = None) -> bytes:
    """The monthly report (aggregates, already suppressed) as a PDF in the reader's language."""
    _ = gettext
    names = names or {}
    w = _Writer(lang)
    title, fewer = _("Monthly report"), _("fewer than 5")
    w.line(f"{title} {month}", size=16, bold=True)
    section = None
    for sec, key, shown in rows:
        if sec == "report":
            continue
        if sec != section:
            w.gap()
            w.line(_(REPORT_SECTIONS.get(sec, sec)), size=13, bold=True)
            section = sec
        label = names.get(key) or _(REPORT_KEYS.get(key, key))
        # In right-to-left lines "<5" would be mirrored into "5>": the words say it instead.
        w.line(f"{label}: {fewer if (w.rtl and shown == '<5') else shown}")
    return w.output()

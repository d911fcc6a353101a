"""Regenerate amanat/forms/service_record.xlsx, the service-record XLSForm.

The xlsx is the shipped source of the form: the runtime (web form, XForm for ODK Collect, validation)
reads only the xlsx, and an organisation may edit it in a spreadsheet or replace it. This script exists
so that changes to the form are reviewable as code and the workbook is rebuilt byte-for-byte the same
(fixed timestamps), and it only regenerates the file:

    python -m amanat.forms.build_service_record [--gazetteer DIR] [--output PATH]

Province and district choices come from the OCHA/AGCHO gazetteer CSVs (ocha_adm1_2018.csv,
ocha_adm2_2018.csv) in --gazetteer (default: the shared reference data next to the checkout); without
them the choices already in the current xlsx are reused, so the script also works from a package.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from amanat.forms import service_record_text as txt
from amanat.forms.service_record_text import T

HERE = Path(__file__).resolve().parent
XLSX_PATH = HERE / "service_record.xlsx"
DEFAULT_GAZETTEER = HERE.parents[2] / "shared" / "data"

FORM_ID = "amanat_service_record"
FORM_VERSION = "2026112501"
LANGUAGES = ("English (en)", "Dari (prs)", "Pashto (ps)")
DEFAULT_LANGUAGE = LANGUAGES[0]
# Zip entries and document properties carry this instead of "now", so a rebuild is reproducible.
FIXED_TIME = (2026, 1, 1, 0, 0, 0)

# Lenient on purpose: Latin, Persian and Arabic-Indic digits, dashes, slashes and spaces. The normaliser
# parses what people actually type; the form only stops obvious slips (a name in the number field).
DIGITS = "0-9۰-۹٠-٩"
TAZKIRA_CONSTRAINT = f"regex(., '^[{DIGITS} /-]{{4,24}}$')"
PASSPORT_CONSTRAINT = f"regex(., '^[A-Za-z{DIGITS} -]{{4,20}}$')"
PHONE_CONSTRAINT = f"regex(., '^[+]?[{DIGITS} ()-]{{6,24}}$')"
# Photos are resized on the phone before upload: documents stay legible, uploads stay small.
IMAGE_PARAMETERS = "max-pixels=2000"


@dataclass(frozen=True)
class Row:
    type: str
    name: str = ""
    label: T | None = None
    hint: T | None = None
    required: bool = False
    constraint: str = ""
    constraint_message: T | None = None
    appearance: str = ""
    choice_filter: str = ""
    parameters: str = ""
    accept: str = ""


def text(name: str, label: T, hint: T | None = None, **kw: object) -> Row:
    return Row("text", name, label, hint, **kw)  # type: ignore[arg-type]


def group(name: str, label: T, rows: Sequence[Row], kind: str = "group") -> list[Row]:
    return [Row(f"begin {kind}", name, label, appearance="field-list"), *rows, Row(f"end {kind}")]


def survey_rows() -> list[Row]:
    return [
        *group("personal", txt.PERSONAL, [
            text("full_name", txt.FULL_NAME, txt.FULL_NAME_HINT, required=True),
            text("full_name_latin", txt.FULL_NAME_LATIN, txt.LATIN_HINT),
            text("father_name", txt.FATHER_NAME, txt.FATHER_NAME_HINT, required=True),
            text("father_name_latin", txt.FATHER_NAME_LATIN),
            text("grandfather_name", txt.GRANDFATHER_NAME),
            text("family_name", txt.FAMILY_NAME),
            Row("select_one gender", "gender", txt.GENDER),
            text("date_of_birth", txt.DATE_OF_BIRTH, txt.DATE_OF_BIRTH_HINT),
            text("place_of_birth", txt.PLACE_OF_BIRTH),
            Row("select_one province", "province", txt.PROVINCE, txt.PROVINCE_HINT, appearance="minimal"),
            Row("select_one district", "district", txt.DISTRICT, txt.DISTRICT_HINT, appearance="minimal",
                choice_filter="province=${province}"),
        ]),
        *group("service", txt.SERVICE, [
            Row("select_one service_branch", "service_branch", txt.SERVICE_BRANCH, required=True),
            text("rank", txt.RANK, txt.RANK_HINT),
            text("unit", txt.UNIT),
            text("service_start", txt.SERVICE_START, txt.PARTIAL_DATE_HINT),
            text("service_end", txt.SERVICE_END, txt.PARTIAL_DATE_HINT),
            text("last_duty", txt.LAST_DUTY, appearance="multiline"),
            text("reference_name", txt.REFERENCE_NAME, txt.REFERENCE_NAME_HINT),
            text("reference_contact", txt.REFERENCE_CONTACT),
        ]),
        *group("refuge", txt.REFUGE, [
            Row("select_one country", "country_of_refuge", txt.COUNTRY_OF_REFUGE),
            text("refuge_entry_date", txt.REFUGE_ENTRY_DATE, txt.REFUGE_ENTRY_DATE_HINT),
            text("current_city", txt.CURRENT_CITY, txt.CURRENT_CITY_HINT),
        ]),
        *group("identity", txt.IDENTITY, [
            text("tazkira_number", txt.TAZKIRA_NUMBER, txt.TAZKIRA_NUMBER_HINT,
                 constraint=TAZKIRA_CONSTRAINT, constraint_message=txt.DIGITS_MESSAGE),
            Row("integer", "tazkira_volume", txt.TAZKIRA_VOLUME, txt.PAPER_TAZKIRA_HINT),
            Row("integer", "tazkira_page", txt.TAZKIRA_PAGE),
            Row("integer", "tazkira_record", txt.TAZKIRA_RECORD),
            text("passport_number", txt.PASSPORT_NUMBER, txt.PASSPORT_NUMBER_HINT,
                 constraint=PASSPORT_CONSTRAINT, constraint_message=txt.PASSPORT_MESSAGE),
        ]),
        *group("contact", txt.CONTACT, [
            text("phone", txt.PHONE, txt.PHONE_HINT,
                 constraint=PHONE_CONSTRAINT, constraint_message=txt.PHONE_MESSAGE),
            text("whatsapp_phone", txt.WHATSAPP_PHONE,
                 constraint=PHONE_CONSTRAINT, constraint_message=txt.PHONE_MESSAGE),
        ]),
        *group("family", txt.FAMILY, [
            text("member_name", txt.MEMBER_NAME, required=True),
            Row("select_one relationship", "member_relationship", txt.MEMBER_RELATIONSHIP,
                appearance="minimal"),
            text("member_date_of_birth", txt.MEMBER_DATE_OF_BIRTH, txt.PARTIAL_DATE_HINT),
            text("member_tazkira", txt.MEMBER_TAZKIRA,
                 constraint=TAZKIRA_CONSTRAINT, constraint_message=txt.DIGITS_MESSAGE),
        ], kind="repeat"),
        *group("sensitive", txt.SENSITIVE, [
            Row("note", "sensitive_note", txt.SENSITIVE_NOTE),
            text("religion", txt.RELIGION),
            text("ethnicity", txt.ETHNICITY),
        ]),
        *group("documents", txt.DOCUMENTS, [
            Row("image", "doc_tazkira", txt.DOC_TAZKIRA, txt.PHOTO_HINT, parameters=IMAGE_PARAMETERS),
            Row("image", "doc_passport", txt.DOC_PASSPORT, txt.PHOTO_HINT, parameters=IMAGE_PARAMETERS),
            # "file" so that a PDF letter is accepted; accept keeps photos selectable in web clients.
            Row("file", "doc_service", txt.DOC_SERVICE, txt.FILE_HINT, accept="image/*,application/pdf"),
        ]),
        *group("intermediary", txt.INTERMEDIARY, [
            text("intermediary_name", txt.INTERMEDIARY_NAME, txt.INTERMEDIARY_NAME_HINT),
            text("intermediary_phone", txt.INTERMEDIARY_PHONE,
                 constraint=PHONE_CONSTRAINT, constraint_message=txt.PHONE_MESSAGE),
            text("notes", txt.NOTES, appearance="multiline"),
        ]),
        *group("consent_group", txt.CONSENT_SECTION, [
            Row("select_one yes_no", "consent", txt.CONSENT, required=True, constraint=". = 'yes'",
                constraint_message=txt.CONSENT_MESSAGE),
        ]),
    ]


def _lang_columns(prefix: str) -> list[str]:
    return [f"{prefix}::{lang}" for lang in LANGUAGES]


SURVEY_COLUMNS = [
    "type", "name", *_lang_columns("label"), *_lang_columns("hint"), "required",
    *_lang_columns("required_message"), "constraint", *_lang_columns("constraint_message"),
    "appearance", "choice_filter", "parameters", "body::accept",
]


def _survey_table(rows: Iterable[Row]) -> list[list[str]]:
    out = [SURVEY_COLUMNS]
    for r in rows:
        out.append([
            r.type, r.name, *(r.label or ("", "", "")), *(r.hint or ("", "", "")),
            "yes" if r.required else "", *(txt.REQUIRED_MESSAGE if r.required else ("", "", "")),
            r.constraint, *(r.constraint_message or ("", "", "")),
            r.appearance, r.choice_filter, r.parameters, r.accept,
        ])
    return out


@dataclass(frozen=True)
class Place:
    pcode: str
    en: str
    prs: str
    ps: str
    parent: str = ""


def read_gazetteer(directory: Path) -> tuple[list[Place], list[Place]]:
    def rows(name: str) -> list[dict[str, str]]:
        with (directory / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    provinces = [
        Place(r["ADM1_PCODE"], r["ADM1_EN"], r["ADM1_DA"], txt.PROVINCE_PASHTO.get(r["ADM1_PCODE"], r["ADM1_DA"]))
        for r in rows("ocha_adm1_2018.csv")
    ]
    # No Pashto column in the gazetteer: Pashto readers get the Dari spelling, which they read too.
    districts = [
        Place(r["ADM2_PCODE"], r["ADM2_EN"], r["ADM2_DA"], r["ADM2_DA"], r["ADM1_PCODE"])
        for r in rows("ocha_adm2_2018.csv")
    ]
    return provinces, districts


def places_from_xlsx(path: Path) -> tuple[list[Place], list[Place]]:
    """The province/district choices of an existing build, for rebuilding without the CSVs."""
    ws = openpyxl.load_workbook(path, read_only=True)["choices"]
    rows = ws.iter_rows(values_only=True)
    header = [str(h) for h in next(rows)]
    col = {h: i for i, h in enumerate(header)}
    provinces: list[Place] = []
    districts: list[Place] = []
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        lst = cells[col["list_name"]]
        place = Place(cells[col["name"]], *(cells[col[c]] for c in _lang_columns("label")),
                      parent=cells[col["province"]])
        if lst == "province":
            provinces.append(place)
        elif lst == "district":
            districts.append(place)
    return provinces, districts


def _choices_table(provinces: list[Place], districts: list[Place]) -> list[list[str]]:
    out = [["list_name", "name", *_lang_columns("label"), "province"]]
    for list_name, choices in txt.CHOICE_LISTS.items():
        out.extend([list_name, name, *label, ""] for name, label in choices)
    out.extend(["province", p.pcode, p.en, p.prs, p.ps, ""] for p in provinces)
    out.extend(["district", d.pcode, d.en, d.prs, d.ps, d.parent] for d in districts)
    return out


def _settings_table() -> list[list[str]]:
    return [
        ["form_id", "version", "form_title", "default_language"],
        [FORM_ID, FORM_VERSION, txt.FORM_TITLE[0], DEFAULT_LANGUAGE],
    ]


def _title_table() -> list[list[str]]:
    # XForm titles are not translatable; this extra sheet (ignored by pyxform and ODK) gives the web
    # page its title in each language.
    return [_lang_columns("label"), list(txt.FORM_TITLE)]


def build_workbook(provinces: list[Place], districts: list[Place]) -> bytes:
    wb = openpyxl.Workbook()
    sheets = {
        "survey": _survey_table(survey_rows()),
        "choices": _choices_table(provinces, districts),
        "settings": _settings_table(),
        "form_title": _title_table(),
    }
    wb.remove(wb.active)
    for name, table in sheets.items():
        ws = wb.create_sheet(name)
        for row in table:
            ws.append([cell if cell != "" else None for cell in row])
        ws.freeze_panes = "C2" if name == "survey" else "A2"
    fixed = dt.datetime(*FIXED_TIME)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "amanat.forms.build_service_record"
    buf = io.BytesIO()
    wb.save(buf)
    return _fix_zip_times(buf.getvalue())


def _fix_zip_times(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the time of saving
                stamp = dt.datetime(*FIXED_TIME).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
            dst.writestr(fixed, content)
    return out.getvalue()


def build(gazetteer: Path | None = None) -> bytes:
    directory = gazetteer or DEFAULT_GAZETTEER
    if (directory / "ocha_adm2_2018.csv").is_file():
        provinces, districts = read_gazetteer(directory)
    elif gazetteer is None and XLSX_PATH.is_file():
        provinces, districts = places_from_xlsx(XLSX_PATH)
    else:
        raise SystemExit(f"gazetteer CSVs not found in {directory}")
    return build_workbook(provinces, districts)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gazetteer", type=Path, help="folder with ocha_adm1_2018.csv, ocha_adm2_2018.csv")
    parser.add_argument("--output", type=Path, default=XLSX_PATH)
    args = parser.parse_args(argv)
    data = build(args.gazetteer)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")


if __name__ == "__main__":
    main()

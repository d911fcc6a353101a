"""The service-record form as the product sees it: an XLSForm parsed by pyxform into a FormSpec.

The shipped xlsx (service_record.xlsx) is the single definition of the form. pyxform parses it, so a
workbook that ODK would refuse is refused here too; the web form, the validator, the XForm served to
ODK Collect and the column matching of other intake channels all read the same FormSpec.

A FormSpec is shared (the shipped one is cached): treat it, and the dicts inside it, as read-only.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import openpyxl
from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from amanat.errors import InvalidInput

SHIPPED_FORM = Path(__file__).with_name("service_record.xlsx")

# Fields the product does not treat as personal data: coarse, low-risk categories used for triage
# and reporting. Every other field, including any an organisation adds to its own copy of the form,
# is sensitive by default: encrypted at rest, hidden unless a role is granted it, redacted in exports.
NON_SENSITIVE_FIELDS: frozenset[str] = frozenset(
    {"gender", "consent", "service_branch", "country_of_refuge", "province"}
)

# Longest accepted answer per text field (the web form sets maxlength; the validator enforces it).
NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 2000
SHORT_TEXT_FIELDS: frozenset[str] = frozenset({
    "full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name",
    "family_name", "date_of_birth", "place_of_birth", "rank", "unit", "service_start", "service_end",
    "refuge_entry_date", "current_city", "tazkira_number", "passport_number", "phone", "whatsapp_phone",
    "member_name", "member_date_of_birth", "member_tazkira", "reference_name", "reference_contact",
    "religion", "ethnicity", "intermediary_name", "intermediary_phone",
})

# Keyboards for text fields where people type digits (Persian digits are still accepted).
NUMERIC_TEXT_FIELDS: frozenset[str] = frozenset({"tazkira_number", "member_tazkira"})
PHONE_FIELDS: frozenset[str] = frozenset({"phone", "whatsapp_phone", "intermediary_phone"})
# Answers written left-to-right whatever the page direction (numbers, Latin spellings), so that
# "+98 912…" or a passport number do not come out reordered on a right-to-left page.
LTR_FIELDS: frozenset[str] = frozenset({"full_name_latin", "father_name_latin", "passport_number",
                                         "reference_contact"}) | NUMERIC_TEXT_FIELDS | PHONE_FIELDS

# pyxform's internal type names → the XLSForm names the rest of the product uses.
_TYPE_NAMES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "photo": "image",
    "select one external": "select_one_external",
    "select one from file": "select_one",
    "select multiple from file": "select_multiple",
}
# Types that carry no answer typed by a person (metadata, calculations).
NON_INPUT_TYPES = frozenset({
    "calculate", "start", "end", "today", "deviceid", "phonenumber", "username", "email",
    "audit", "simserial", "subscriberid", "start-geopoint", "background-audio", "hidden", "xml-external",
    "csv-external",
})
ATTACHMENT_TYPES = frozenset({"image", "file", "audio", "video", "background-audio"})
# Survey columns that take a ::language suffix (body::accept and the like are not languages).
_TRANSLATABLE = frozenset({
    "label", "hint", "guidance_hint", "required_message", "constraint_message", "image", "audio", "video",
    "big-image",
})
_TRUE = frozenset({"yes", "true", "true()", "1"})
_LANG_CODE = re.compile(r"\(([^()]+)\)\s*$")


class FormError(InvalidInput):
    """The workbook is not a valid XLSForm; the message names the sheet and row where known."""

    code = "invalid_form"

    def __init__(self, message: str, *, sheet: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.sheet = sheet
        self.row = row


Text = dict[str, str]  # language code → text


def _pick(text: Mapping[str, str], lang: str, default: str) -> str:
    return text.get(lang) or text.get(default) or next((v for v in text.values() if v), "")


@dataclass(frozen=True)
class Choice:
    name: str
    label: Text
    filter: dict[str, str] = field(default_factory=dict)  # extra choices-sheet columns (choice_filter)

    def label_in(self, lang: str, default: str = "en") -> str:
        return _pick(self.label, lang, default) or self.name


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: Text
    hint: Text = field(default_factory=dict)
    required: bool = False
    required_message: Text = field(default_factory=dict)
    constraint: str = ""
    constraint_message: Text = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    list_name: str = ""
    appearance: str = ""
    choice_filter: str = ""
    relevant: str = ""
    accept: str = ""  # body::accept, for file fields
    path: tuple[str, ...] = ()  # names of enclosing groups/repeats, outermost first
    repeat: str | None = None  # name of the enclosing repeat, if any

    def label_in(self, lang: str, default: str = "en") -> str:
        return _pick(self.label, lang, default) or self.name

    def hint_in(self, lang: str, default: str = "en") -> str:
        return _pick(self.hint, lang, default)

    @property
    def is_input(self) -> bool:
        return self.type not in NON_INPUT_TYPES and self.type != "note"

    @property
    def is_select(self) -> bool:
        return self.type in ("select_one", "select_multiple")

    @property
    def is_attachment(self) -> bool:
        return self.type in ATTACHMENT_TYPES

    @property
    def sensitive(self) -> bool:
        return self.name not in NON_SENSITIVE_FIELDS

    @property
    def max_length(self) -> int | None:
        if self.type != "text":
            return None
        return NAME_MAX_LENGTH if self.name in SHORT_TEXT_FIELDS else TEXT_MAX_LENGTH

    @property
    def input_mode(self) -> str | None:
        """The HTML inputmode for a typed answer: the keyboard a phone should open."""
        if self.type in ("integer", "decimal") or self.name in NUMERIC_TEXT_FIELDS:
            return "numeric" if self.type != "decimal" else "decimal"
        if self.name in PHONE_FIELDS:
            return "tel"
        return None

    @property
    def text_direction(self) -> str:
        """The HTML dir for the answer: "ltr" for numbers and Latin spellings, else "auto"."""
        ltr = self.name in LTR_FIELDS or self.type in ("integer", "decimal", "date")
        return "ltr" if ltr else "auto"

    @property
    def multiline(self) -> bool:
        return "multiline" in self.appearance.split()


@dataclass(frozen=True)
class Note:
    name: str
    label: Text
    relevant: str = ""
    path: tuple[str, ...] = ()
    type: str = "note"

    def label_in(self, lang: str, default: str = "en") -> str:
        return _pick(self.label, lang, default)


@dataclass(frozen=True)
class Section:
    """A group; with field-list appearance it is one screen in ODK Collect and a fieldset on the web."""

    name: str
    label: Text
    children: tuple[Node, ...]
    hint: Text = field(default_factory=dict)
    appearance: str = ""
    relevant: str = ""
    path: tuple[str, ...] = ()
    type: str = "group"

    def label_in(self, lang: str, default: str = "en") -> str:
        return _pick(self.label, lang, default)

    def hint_in(self, lang: str, default: str = "en") -> str:
        return _pick(self.hint, lang, default)


@dataclass(frozen=True)
class Repeat(Section):
    """A repeat group: each answer is a list of rows (dicts of its fields' answers)."""

    type: str = "repeat"


Node = Section | Repeat | Field | Note


@dataclass(frozen=True)
class ChoiceGroup:
    """Choices sharing one filter value (a province's districts): an <optgroup> on the web form."""

    name: str
    label: Text
    choices: tuple[Choice, ...]

    def label_in(self, lang: str, default: str = "en") -> str:
        return _pick(self.label, lang, default) or self.name


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    version: str
    title: Text
    languages: tuple[str, ...]  # codes, in column order: ("en", "prs", "ps")
    default_language: str  # a code
    children: tuple[Node, ...]
    language_names: dict[str, str] = field(default_factory=dict)  # code → "Dari (prs)" as in the xlsx
    xlsx: bytes = field(default=b"", repr=False)

    @cached_property
    def md5(self) -> str:
        """MD5 hex of the xlsx bytes (the XForm has its own hash: see xform.xform_md5)."""
        return hashlib.md5(self.xlsx, usedforsecurity=False).hexdigest()

    def title_in(self, lang: str) -> str:
        return _pick(self.title, lang, self.default_language) or self.form_id

    def walk(self) -> Iterator[Node]:
        """Every node, depth first, groups before their children."""
        stack = list(reversed(self.children))
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, Section):
                stack.extend(reversed(node.children))

    def fields(self) -> list[Field]:
        return [n for n in self.walk() if isinstance(n, Field)]

    def input_fields(self) -> list[Field]:
        return [f for f in self.fields() if f.is_input]

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields()}

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no field {name!r} in form {self.form_id}") from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    def repeats(self) -> list[Repeat]:
        return [n for n in self.walk() if isinstance(n, Repeat)]

    @cached_property
    def sensitive_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields() if f.sensitive)

    @cached_property
    def attachment_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields() if f.is_attachment)

    def labels_by_field(self) -> dict[str, list[str]]:
        """Every field's label in every language (for matching spreadsheet columns or typed labels)."""
        out: dict[str, list[str]] = {}
        for f in self.input_fields():
            out[f.name] = list(dict.fromkeys(v for v in f.label.values() if v))
        return out

    def grouped_choices(self, name: str) -> list[ChoiceGroup]:
        """A filtered select's choices grouped by the answer they depend on.

        For a choice_filter of the simple form ``column=${other}`` (district by province) the groups
        follow the order of ``other``'s choices and carry their labels; otherwise one unnamed group.
        """
        f = self.field(name)
        column, other = parse_simple_filter(f.choice_filter)
        if column is None or other is None or other not in self._by_name:
            return [ChoiceGroup("", {}, f.choices)]
        parent = self.field(other)
        by_value: dict[str, list[Choice]] = {}
        for c in f.choices:
            by_value.setdefault(c.filter.get(column, ""), []).append(c)
        groups = [ChoiceGroup(p.name, p.label, tuple(by_value.pop(p.name))) for p in parent.choices
                  if p.name in by_value]
        groups.extend(ChoiceGroup(value, {}, tuple(cs)) for value, cs in by_value.items())
        return groups


_SIMPLE_FILTER = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*=\s*\$\{([A-Za-z_][\w.-]*)\}\s*$")


def parse_simple_filter(choice_filter: str) -> tuple[str | None, str | None]:
    """``province=${province}`` → ("province", "province"); anything more complex → (None, None)."""
    m = _SIMPLE_FILTER.match(choice_filter or "")
    return (m.group(1), m.group(2)) if m else (None, None)


# ---------------------------------------------------------------------------------------------------
# Loading


def load_form(source: bytes | Path | None = None) -> FormSpec:
    """Parse an XLSForm workbook (None: the shipped service-record form, parsed once and cached)."""
    if source is None:
        return _shipped_form()
    data = source.read_bytes() if isinstance(source, Path) else bytes(source)
    return _load_bytes(data)


@cache
def _shipped_form() -> FormSpec:
    return _load_bytes(SHIPPED_FORM.read_bytes())


@lru_cache(maxsize=8)
def _load_bytes(data: bytes) -> FormSpec:
    definition = read_workbook(data)
    form_json = convert_definition(definition)
    return _build_spec(form_json, definition, data)


def read_workbook(data: bytes) -> DefinitionData:
    """The workbook's sheets as pyxform reads them; FormError if it is not a readable xlsx."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FormError("Invalid XLSForm: the file is not an .xlsx workbook.")
    try:
        return get_xlsform(data, file_type=".xlsx")
    except PyXFormError as err:
        raise FormError(f"Invalid XLSForm: {err}") from err
    except Exception as err:  # a damaged zip or sheet: openpyxl raises many kinds
        raise FormError("Invalid XLSForm: the workbook could not be read.") from err


def convert_definition(definition: DefinitionData, *, to_xml: bool = True) -> dict[str, Any]:
    """pyxform's JSON form of the workbook, checked the way ODK checks it; pyxform errors → FormError.

    ``to_xml`` also builds the XForm once: some mistakes (bad ${references}) only surface there.
    """
    try:
        form_json = workbook_to_json(definition, fallback_form_name="data", warnings=[])
        if to_xml:
            create_survey_element_from_dict(form_json).to_xml(validate=False, pretty_print=False, warnings=[])
        return form_json
    except PyXFormError as err:
        raise _form_error(str(err), definition) from err
    except Exception as err:  # pyxform has unchecked paths (KeyError, TypeError) on odd workbooks
        raise FormError(f"Invalid XLSForm: {type(err).__name__} while reading the workbook.") from err


_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET = re.compile(r"'(survey|choices|settings|entities|external_choices)' sheet")
_QUOTED = re.compile(r"'([^']{1,80})'")


def _form_error(message: str, definition: DefinitionData) -> FormError:
    message = " ".join(message.split())
    row_m, sheet_m = _ROW.search(message), _SHEET.search(message)
    row = int(row_m.group(1)) if row_m else None
    sheet = sheet_m.group(1) if sheet_m else ("survey" if row else None)
    if row is None:
        # Some pyxform messages quote the offending type or name but give no row: find it ourselves.
        sheet, row = _locate(message, definition) or (sheet, None)
    where = ", ".join(p for p in (f"sheet '{sheet}'" if sheet else "", f"row {row}" if row else "") if p)
    return FormError(f"Invalid XLSForm ({where}): {message}" if where else f"Invalid XLSForm: {message}",
                     sheet=sheet, row=row)


def _locate(message: str, definition: DefinitionData) -> tuple[str, int] | None:
    tokens = _QUOTED.findall(message)
    for sheet in ("survey", "choices"):
        rows = getattr(definition, sheet) or []
        for token in tokens:
            for index, row in enumerate(rows):
                if token in (row.get("type"), row.get("name"), row.get("list_name")):
                    return sheet, index + 2  # +1 for the header row, +1 because rows count from 1
    return None


def _lang_code(language: str) -> str:
    m = _LANG_CODE.search(language)
    return m.group(1).strip() if m else language.strip()


def _languages(definition: DefinitionData, default_name: str) -> list[str]:
    """Language names in column order (label::X, hint::X …), the default first if nothing else."""
    names: list[str] = []
    for header in (definition.survey_header or [{}])[0]:
        column, _, lang = header.partition("::")
        if column == "media":
            column, _, lang = lang.partition("::")
        if lang and column in _TRANSLATABLE and lang not in names:
            names.append(lang)
    if default_name not in names:
        names.insert(0, default_name)
    return names


def _title_sheet(data: bytes) -> dict[str, str]:
    """Translated titles from the optional ``form_title`` sheet (XForm titles cannot be translated)."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        if "form_title" not in wb.sheetnames:
            return {}
        rows = list(wb["form_title"].iter_rows(min_row=1, max_row=2, values_only=True))
    finally:
        wb.close()
    if len(rows) < 2:
        return {}
    return {str(h).split("::", 1)[-1]: str(v).strip() for h, v in zip(rows[0], rows[1], strict=False)
            if h and v}


def _build_spec(form_json: dict[str, Any], definition: DefinitionData, data: bytes) -> FormSpec:
    default_name = str(form_json.get("default_language") or "default")
    names = _languages(definition, default_name)
    codes = {name: _lang_code(name) for name in names}
    default = codes[default_name]
    codes["default"] = default

    def text(value: Any) -> Text:
        if not value:
            return {}
        if isinstance(value, str):
            return {default: value}
        return {codes.get(k, _lang_code(k)): str(v) for k, v in value.items() if v}

    def node(d: dict[str, Any], path: tuple[str, ...], repeat: str | None) -> Node | None:
        kind = str(d.get("type", ""))
        control = d.get("control") or {}
        bind = d.get("bind") or {}
        if kind in ("group", "repeat"):
            if control.get("bodyless"):  # pyxform's meta group (instanceID): not part of the form body
                return None
            inner = (*path, d["name"])
            inner_repeat = d["name"] if kind == "repeat" else repeat
            children = tuple(c for c in (node(x, inner, inner_repeat) for x in d.get("children", [])) if c)
            cls = Repeat if kind == "repeat" else Section
            return cls(name=d["name"], label=text(d.get("label")), children=children, hint=text(d.get("hint")),
                       appearance=str(control.get("appearance", "")), relevant=str(bind.get("relevant", "")),
                       path=path)
        if kind == "note":
            return Note(name=d["name"], label=text(d.get("label")), relevant=str(bind.get("relevant", "")),
                        path=path)
        choices = tuple(
            Choice(name=str(c["name"]), label=text(c.get("label")),
                   filter={k: str(v) for k, v in c.items() if k not in ("name", "label", "media")})
            for c in d.get("choices") or ()
        )
        return Field(
            name=d["name"], type=_TYPE_NAMES.get(kind, kind), label=text(d.get("label")),
            hint=text(d.get("hint")), required=str(bind.get("required", "")).lower() in _TRUE,
            required_message=text(bind.get("jr:requiredMsg")), constraint=str(bind.get("constraint", "")),
            constraint_message=text(bind.get("jr:constraintMsg")), choices=choices,
            list_name=str(d.get("list_name") or d.get("itemset") or ""),
            appearance=str(control.get("appearance", "")), choice_filter=str(d.get("choice_filter", "")),
            relevant=str(bind.get("relevant", "")), accept=str(control.get("accept", "")), path=path,
            repeat=repeat,
        )

    children = tuple(c for c in (node(x, (), None) for x in form_json.get("children", [])) if c)
    title_value = form_json.get("title") or form_json.get("id_string") or ""
    title = text(title_value) | {codes.get(k, _lang_code(k)): v for k, v in _title_sheet(data).items()}
    return FormSpec(
        form_id=str(form_json.get("id_string") or form_json.get("name") or "data"),
        version=str(form_json.get("version") or ""),
        title=title,
        languages=tuple(codes[n] for n in names),
        default_language=default,
        children=children,
        language_names={codes[n]: n for n in names},
        xlsx=data,
    )

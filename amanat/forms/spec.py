"""Loading the service-record form: an XLSForm parsed by pyxform into a FormSpec (see model.py).

The shipped xlsx (service_record.xlsx) is the single definition of the form. pyxform parses it, so a
workbook that ODK would refuse is refused here too; the web form, the validator, the XForm served to
ODK Collect and the column matching of other intake channels all read the same FormSpec.

The FormSpec classes and the field classification are defined in model.py and importable from here.
"""

from __future__ import annotations

import io
import re
import zipfile
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import openpyxl
from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from amanat.errors import InvalidInput
from amanat.forms.model import (
    ATTACHMENT_TYPES,
    LTR_FIELDS,
    NAME_MAX_LENGTH,
    NON_INPUT_TYPES,
    NON_SENSITIVE_FIELDS,
    NUMERIC_TEXT_FIELDS,
    PHONE_FIELDS,
    SHORT_TEXT_FIELDS,
    TEXT_MAX_LENGTH,
    Choice,
    ChoiceGroup,
    Field,
    FormSpec,
    Node,
    Note,
    Repeat,
    Section,
    Text,
    parse_simple_filter,
)

__all__ = [
    "ATTACHMENT_TYPES", "LTR_FIELDS", "NAME_MAX_LENGTH", "NON_INPUT_TYPES", "NON_SENSITIVE_FIELDS",
    "NUMERIC_TEXT_FIELDS", "PHONE_FIELDS", "SHIPPED_FORM", "SHORT_TEXT_FIELDS", "TEXT_MAX_LENGTH", "Choice",
    "ChoiceGroup", "Field", "FormError", "FormSpec", "Node", "Note", "Repeat", "Section", "Text",
    "convert_definition", "load_form", "parse_simple_filter", "read_workbook",
]

SHIPPED_FORM = Path(__file__).with_name("service_record.xlsx")

# pyxform's internal type names → the XLSForm names the rest of the product uses.
_TYPE_NAMES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "photo": "image",
    "select one external": "select_one_external",
    "select one from file": "select_one",
    "select multiple from file": "select_multiple",
}
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

"""Broken workbooks are refused with a FormError that says where the problem is."""

from __future__ import annotations

import io

import openpyxl
import pytest

from amanat.errors import InvalidInput
from amanat.forms.spec import FormError, load_form
from tests.forms.workbooks import SETTINGS, xlsx

HEADER = ["type", "name", "label"]


def error_for(data: bytes) -> FormError:
    with pytest.raises(FormError) as info:
        load_form(data)
    return info.value


def test_form_error_is_invalid_input():
    err = error_for(xlsx([HEADER, ["text", "a", "A"], ["text", "a", "B"]]))
    assert isinstance(err, InvalidInput)
    assert err.status == 422 and err.code == "invalid_form"


def test_duplicate_name_names_sheet_and_row():
    err = error_for(xlsx([HEADER, ["text", "a", "A"], ["text", "b", "B"], ["text", "a", "C"]]))
    assert (err.sheet, err.row) == ("survey", 4)
    assert "sheet 'survey'" in str(err) and "row 4" in str(err)


def test_unknown_type_is_located_even_though_pyxform_gives_no_row():
    err = error_for(xlsx([HEADER, ["text", "a", "A"], ["txt", "b", "B"]]))
    assert (err.sheet, err.row) == ("survey", 3)
    assert "txt" in str(err) and "row 3" in str(err)


def test_duplicate_choice_names_sheet_choices():
    err = error_for(xlsx(
        [HEADER, ["select_one l", "a", "A"]],
        [["list_name", "name", "label"], ["l", "x", "X"], ["l", "x", "Y"]],
    ))
    assert (err.sheet, err.row) == ("choices", 3)
    assert "sheet 'choices'" in str(err)


def test_unmatched_group():
    err = error_for(xlsx([HEADER, ["begin group", "g", "G"], ["text", "a", "A"]]))
    assert (err.sheet, err.row) == ("survey", 2)


def test_bad_reference_surfaces_at_load():
    err = error_for(xlsx([[*HEADER, "relevant"], ["text", "a", "A", "${nope} = 1"]]))
    assert err.row == 2 and "nope" in str(err)


def test_missing_choice_list():
    err = error_for(xlsx([HEADER, ["select_one missing", "a", "A"]], settings=SETTINGS))
    assert "choices" in str(err)


def test_missing_survey_sheet():
    wb = openpyxl.Workbook()
    wb.active.title = "choices"
    wb.active.append(["list_name", "name", "label"])
    wb.create_sheet("settings").append(["form_id"])
    buf = io.BytesIO()
    wb.save(buf)
    err = error_for(buf.getvalue())
    assert "survey" in str(err)


@pytest.mark.parametrize("data", [b"", b"not a workbook", b"PK\x03\x04 truncated zip"])
def test_not_an_xlsx(data):
    err = error_for(data)
    assert str(err).startswith("Invalid XLSForm")

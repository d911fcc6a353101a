"""The audit log in words: casework and team actions, reason codes and field names in the reader's language."""

from __future__ import annotations

import pytest

from amanat.web.audit_labels import ACTIONS, REASONS, action_words, details_of
from amanat.web.i18n import translations

CASEWORK = ("case:work", "record:correct", "case:close_request", "case:close_approve", "case:search",
            "team:create", "team:member_add")


def test_casework_and_team_actions_have_words():
    for action in CASEWORK:
        words, code = action_words(action)
        assert code is None and words == ACTIONS[action], action


@pytest.mark.parametrize("lang", ["fa_AF", "ps_AF"])
def test_words_reasons_and_fields_are_translated(lang):
    _ = translations(lang).gettext
    for action in CASEWORK:
        assert _(ACTIONS[action]) != ACTIONS[action], (lang, action)
    details = {d.key: d for d in details_of('{"field": "family.member_name", "reason": "pathway_completed", '
                                            '"minutes": 15}', fields={"member_name": "نام"})}
    assert details["field"].value == "نام"
    assert details["reason"].translate and details["reason"].value == REASONS["pathway_completed"]
    assert _(details["reason"].value) != REASONS["pathway_completed"]
    assert details["minutes"].label is not None and _(details["minutes"].label) != details["minutes"].label

"""The form as data: FormSpec and its parts, and the product's classification of the form's fields.

Built by amanat.forms.spec.load_form from an XLSForm. A FormSpec is shared (the shipped one is cached):
treat it, and the dicts inside it, as read-only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

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

# Types that carry no answer typed by a person (metadata, calculations).
NON_INPUT_TYPES = frozenset({
    "calculate", "start", "end", "today", "deviceid", "phonenumber", "username", "email",
    "audit", "simserial", "subscriberid", "start-geopoint", "background-audio", "hidden", "xml-external",
    "csv-external",
})
ATTACHMENT_TYPES = frozenset({"image", "file", "audio", "video", "background-audio"})


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

    # The tree is frozen, so its field lists are worked out once (web intake asks for them on every post).
    @cached_property
    def _fields(self) -> tuple[Field, ...]:
        return tuple(n for n in self.walk() if isinstance(n, Field))

    @cached_property
    def _input_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self._fields if f.is_input)

    @cached_property
    def _repeats(self) -> tuple[Repeat, ...]:
        return tuple(n for n in self.walk() if isinstance(n, Repeat))

    def fields(self) -> list[Field]:
        return list(self._fields)

    def input_fields(self) -> list[Field]:
        return list(self._input_fields)

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
        return list(self._repeats)

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

"""Check a web-form post against the FormSpec: what the browser cannot be trusted to enforce.

The checks mirror what ODK Collect enforces from the same XLSForm (required, choices, integers, the
form's own simple constraints) plus limits of our own (text lengths, attachment types and sizes).
Errors name a field and a message key, never the value, so they can be shown and logged safely.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from amanat.forms.spec import TEXT_MAX_LENGTH, Field, FormSpec, parse_simple_filter

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
# More rows than any family the web form offers; a post with more is not from our page.
MAX_REPEAT_ROWS = 50
MAX_INTEGER = 2**31 - 1  # XForm int is 32-bit

# Accepted attachment types and the extension we store each under (the posted file name is not kept:
# it may hold a person's name).
ALLOWED_CONTENT_TYPES: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "application/pdf": ".pdf",
}
_EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
               ".heic": "image/heic", ".heif": "image/heif", ".pdf": "application/pdf"}
# Browsers (and some Android file pickers) send these for HEIC and other files they do not know.
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class ErrorKey(StrEnum):
    """Message keys; the web layer translates them (or shows the form's own message, see form_message)."""

    REQUIRED = "required"
    INVALID_CHOICE = "invalid_choice"
    INVALID_INTEGER = "invalid_integer"
    INVALID_DECIMAL = "invalid_decimal"
    INVALID_DATE = "invalid_date"
    TOO_LONG = "too_long"
    CONSTRAINT = "constraint"
    FILE_TYPE = "file_type"
    FILE_TOO_LARGE = "file_too_large"


@dataclass(frozen=True)
class ValidationResult:
    """clean: answered fields only (repeats always present, as lists of row dicts); errors: key → message key.

    Error keys are field names, or ``<repeat>-<row>-<field>`` inside a repeat (as posted).
    Attachments appear in clean as ``<field><ext>`` (e.g. ``doc_tazkira.jpg``), like ODK's file names.
    """

    clean: dict[str, object]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


FileInfo = tuple[str, str, int]  # (file name, content type, size in bytes)
# Checks the form cannot express, run over the clean answers of the form and of each repeat row: field name →
# message key (e.g. normalize.date_checks.check_dates: a birth date in the future, a service that ends before it
# began). The stage that knows the rule passes it in; this layer knows no dates.
AnswerCheck = Callable[[Mapping[str, object]], Mapping[str, str]]

_PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def validate_submission(
    spec: FormSpec,
    values: Mapping[str, str | list[str]],
    files: Mapping[str, FileInfo] | None = None,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    check_answers: AnswerCheck | None = None,
) -> ValidationResult:
    files = files or {}
    clean: dict[str, object] = {}
    errors: dict[str, str] = {}
    in_repeat = {f.name for f in spec.fields() if f.repeat}

    for f in spec.input_fields():
        if f.name in in_repeat:
            continue
        _check(f, f.name, values, files, clean, errors, max_file_bytes)

    for repeat in spec.repeats():
        members = [f for f in spec.input_fields() if f.repeat == repeat.name]
        rows: list[dict[str, object]] = []
        for index in _posted_rows(repeat.name, {f.name for f in members}, values, files):
            keys = {f.name: f"{repeat.name}-{index}-{f.name}" for f in members}
            if not any(_present(values.get(k)) or _file_present(files.get(k)) for k in keys.values()):
                continue  # an empty row on the page is not a family member
            row: dict[str, object] = {}
            row_errors: dict[str, str] = {}
            for f in members:
                _check(f, keys[f.name], values, files, row, row_errors, max_file_bytes)
            _fill_filter_parents(spec, members, row)
            _run_check(check_answers, row, row_errors)
            errors.update({keys[name]: key for name, key in row_errors.items()})
            rows.append(row)
        clean[repeat.name] = rows

    _fill_filter_parents(spec, [f for f in spec.input_fields() if f.name not in in_repeat], clean)
    _check_filters(spec, clean, errors)
    _run_check(check_answers, clean, errors)
    return ValidationResult(clean=clean, errors={k: str(v) for k, v in errors.items()})


def _run_check(check: AnswerCheck | None, answers: dict[str, object], errors: dict[str, str]) -> None:
    """A field already in error keeps its first message; one the check refuses leaves the clean answers."""
    if check is None:
        return
    for name, key in check({k: v for k, v in answers.items() if k not in errors}).items():
        if name in answers and name not in errors:
            errors[name] = key
            del answers[name]


def _posted_rows(repeat: str, members: set[str], values: Mapping[str, object], files: Mapping[str, object],
                 ) -> list[int]:
    """Row numbers below MAX_REPEAT_ROWS for which some ``<repeat>-<row>-<member>`` key was posted, in order
    (rather than trying every possible row on every post)."""
    prefix = f"{repeat}-"
    rows: set[int] = set()
    for key in (*values, *files):
        if key.startswith(prefix):
            number, _, name = key[len(prefix):].partition("-")
            # As posted by our page: "family-3-name", never "family-03-name" or other digits.
            if name in members and number.isdecimal() and str(int(number)) == number:
                rows.add(int(number))
    return sorted(r for r in rows if r < MAX_REPEAT_ROWS)


def _present(raw: str | list[str] | None) -> bool:
    if raw is None:
        return False
    items = raw if isinstance(raw, list) else [raw]
    return any(str(v).strip() for v in items)


def _file_present(info: FileInfo | None) -> bool:
    # A file input left empty posts a part with no name and no bytes.
    return info is not None and bool(info[0] or info[2])


def _check(f: Field, key: str, values: Mapping[str, str | list[str]], files: Mapping[str, FileInfo],
           out: dict[str, object], errors: dict[str, str], max_file_bytes: int) -> None:
    # ``out`` and ``errors`` are keyed by field name; the caller maps repeat rows to their posted keys.
    if f.is_attachment:
        info = files.get(key)
        if not _file_present(info):
            if f.required and not f.relevant:
                errors[f.name] = ErrorKey.REQUIRED
            return
        assert info is not None
        error, stored = check_file(f.name, info, max_file_bytes)
        if error:
            errors[f.name] = error
        else:
            out[f.name] = stored
        return

    raw = values.get(key)
    if f.type == "select_multiple":
        items = raw if isinstance(raw, list) else (raw or "").split()
        answer: object = [s.strip() for s in items if s.strip()]
        empty = not answer
    else:
        text = raw[0] if isinstance(raw, list) and raw else raw
        answer = _clean_text(text if isinstance(text, str) else "", keep_newlines=f.multiline)
        empty = answer == ""
    if empty:
        # A required question that is only sometimes shown (relevant) is ODK's to enforce.
        if f.required and not f.relevant:
            errors[f.name] = ErrorKey.REQUIRED
        return

    error, value = _check_value(f, answer)
    if error:
        errors[f.name] = error
    else:
        out[f.name] = value


def _clean_text(value: str, *, keep_newlines: bool) -> str:
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if not keep_newlines:
        value = " ".join(value.split("\n"))
    return value.strip()


def _check_value(f: Field, answer: object) -> tuple[str | None, object]:
    names = {c.name for c in f.choices}
    if f.type == "select_multiple":
        assert isinstance(answer, list)
        if names and any(a not in names for a in answer):
            return ErrorKey.INVALID_CHOICE, None
        return None, list(dict.fromkeys(answer))
    assert isinstance(answer, str)
    if f.type == "select_one":
        if names and answer not in names:
            return ErrorKey.INVALID_CHOICE, None
        return _constraint(f, answer, answer), answer
    if f.type == "integer":
        digits = answer.translate(_PERSIAN_DIGITS).replace(" ", "")
        if not re.fullmatch(r"[+-]?\d{1,10}", digits) or abs(int(digits)) > MAX_INTEGER:
            return ErrorKey.INVALID_INTEGER, None
        number = int(digits)
        return _constraint(f, answer, number), number
    if f.type == "decimal":
        digits = answer.translate(_PERSIAN_DIGITS).replace("٫", ".").replace(" ", "")
        if not re.fullmatch(r"[+-]?\d{1,15}(\.\d{1,10})?", digits):
            return ErrorKey.INVALID_DECIMAL, None
        return _constraint(f, answer, float(digits)), float(digits)
    if f.type == "date":
        iso = answer.translate(_PERSIAN_DIGITS)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
            return ErrorKey.INVALID_DATE, None
        return _constraint(f, iso, iso), iso
    # Text is kept as typed (apart from control characters): normalisation is a later stage's job.
    if len(answer) > (f.max_length or TEXT_MAX_LENGTH):
        return ErrorKey.TOO_LONG, None
    return _constraint(f, answer, answer), answer


def _constraint(f: Field, text: str, typed: object) -> str | None:
    return ErrorKey.CONSTRAINT if f.constraint and check_constraint(f.constraint, text, typed) is False else None


def check_file(name: str, info: FileInfo, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> tuple[str | None, str]:
    """(error key or None, the name to store the attachment under)."""
    filename, content_type, size = info
    ctype = content_type.split(";", 1)[0].strip().lower()
    ext = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if ctype in _GENERIC_TYPES:
        ctype = _EXTENSIONS.get(ext, ctype)
    if ctype not in ALLOWED_CONTENT_TYPES:
        return ErrorKey.FILE_TYPE, ""
    if size > max_file_bytes:
        return ErrorKey.FILE_TOO_LARGE, ""
    return None, f"{name}{ALLOWED_CONTENT_TYPES[ctype]}"


def _fill_filter_parents(spec: FormSpec, fields: list[Field], answers: dict[str, object]) -> None:
    """A district chosen without a province implies its province (the web page groups them so)."""
    for f in fields:
        column, parent = parse_simple_filter(f.choice_filter)
        value = answers.get(f.name)
        if column is None or parent is None or not isinstance(value, str) or answers.get(parent):
            continue
        choice = next((c for c in f.choices if c.name == value), None)
        implied = choice.filter.get(column) if choice else None
        try:
            parent_field = spec.field(parent)
        except KeyError:
            continue
        if implied and parent_field.repeat == f.repeat and implied in {c.name for c in parent_field.choices}:
            answers[parent] = implied


def _check_filters(spec: FormSpec, clean: dict[str, object], errors: dict[str, str]) -> None:
    """A choice must belong to the list its choice_filter allows (e.g. the district to the province)."""
    for f in spec.input_fields():
        column, parent = parse_simple_filter(f.choice_filter)
        if column is None or parent is None or f.repeat:
            continue
        value, parent_value = clean.get(f.name), clean.get(parent)
        if not isinstance(value, str) or not isinstance(parent_value, str):
            continue
        choice = next((c for c in f.choices if c.name == value), None)
        if choice is not None and choice.filter.get(column) != parent_value:
            errors[f.name] = ErrorKey.INVALID_CHOICE
            del clean[f.name]


def split_error_key(spec: FormSpec, key: str) -> tuple[str, int | None]:
    """``family-2-member_name`` → ("member_name", 2); ``phone`` → ("phone", None)."""
    for repeat in spec.repeats():
        m = re.fullmatch(rf"{re.escape(repeat.name)}-(\d+)-(.+)", key)
        if m:
            return m.group(2), int(m.group(1))
    return key, None


def form_message(spec: FormSpec, key: str, error: str, lang: str) -> str | None:
    """The form's own wording for a required or constraint error in ``lang``, where it has one."""
    name, _ = split_error_key(spec, key)
    try:
        f = spec.field(name)
    except KeyError:
        return None
    text = {ErrorKey.REQUIRED.value: f.required_message,
            ErrorKey.CONSTRAINT.value: f.constraint_message}.get(str(error), {})
    return text.get(lang) or text.get(spec.default_language) or None


# ---------------------------------------------------------------------------------------------------
# The few XPath constraints the form uses, evaluated in Python. Anything else → None (not checked
# here; ODK Collect still enforces it on the phone).

_CLAUSES = [
    (re.compile(r"regex\(\s*\.\s*,\s*'((?:[^']|'')*)'\s*\)"), "regex"),
    (re.compile(r"string-length\(\s*\.\s*\)\s*(<=|<|>=|>|=|!=)\s*(\d+)"), "length"),
    (re.compile(r"\.\s*(<=|<|>=|>|=|!=)\s*'([^']*)'"), "equals"),
    (re.compile(r"\.\s*(<=|<|>=|>|=|!=)\s*(-?\d+(?:\.\d+)?)"), "number"),
]
_OPS = {
    "<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b, "=": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def check_constraint(expr: str, text: str, typed: object = None) -> bool | None:
    """True/False for constraints made of the supported clauses joined by ``and``; None otherwise."""
    results = []
    for clause in _split_and(expr):
        result = _clause(clause.strip(), text, text if typed is None else typed)
        if result is None:
            return None
        results.append(result)
    return all(results) if results else None


def _clause(clause: str, text: str, typed: object) -> bool | None:
    for pattern, kind in _CLAUSES:
        m = pattern.fullmatch(clause)
        if not m:
            continue
        if kind == "regex":
            try:
                return re.search(m.group(1).replace("''", "'"), text) is not None
            except re.error:
                return None
        op = _OPS[m.group(1)]
        if kind == "length":
            return bool(op(len(text), int(m.group(2))))
        if kind == "equals":
            return bool(op(text, m.group(2))) if m.group(1) in ("=", "!=") else None
        if isinstance(typed, int | float):
            return bool(op(typed, float(m.group(2))))
        return None
    return None


def _split_and(expr: str) -> list[str]:
    """Split on ``and`` outside quotes and parentheses."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and re.match(r"\sand\s", expr[i:i + 5]):
            parts.append(expr[start:i])
            start = i = i + 5
            continue
        i += 1
    parts.append(expr[start:])
    return parts

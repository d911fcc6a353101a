"""Public pages: home, the intake form and its receipt."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from amanat.core.audit import Actor
from amanat.forms.spec import FormSpec
from amanat.forms.validate import form_message, validate_submission
from amanat.intake.parsed import ParsedSubmission, make_attachment
from amanat.intake.service import Receipt, prepare_sealed, store_sealed
from amanat.normalize.date_checks import check_dates
from amanat.web.deps import Lang, MaybeUser, parse_form
from amanat.web.i18n import Language, translations
from amanat.web.quotas import admit_intake
from amanat.web.render import render

router = APIRouter()
# Posted by the intake form's language buttons (templates/intake/form.html): re-show the answers, store nothing.
RELANG = "_relang"
HAD_ERRORS = "_had_errors"  # the page showed errors: show them again in the new language
# English message per error key; the catalogs translate them.
ERROR_TEXT = {
    "required": "This answer is required.",
    "invalid_choice": "Choose one of the options.",
    "invalid_integer": "Enter a whole number.",
    "invalid_decimal": "Enter a number.",
    "invalid_date": "Enter a date.",
    "too_long": "This answer is too long.",
    "constraint": "This answer is not in the expected format.",
    "file_type": "This file type is not accepted: use a photo (JPEG, PNG, WebP, HEIC) or a PDF.",
    "file_too_large": "This file is too large.",
    "date_unreadable": "This is not a date that exists. Write the year, or year/month/day, for example 1365/4/12.",
    "date_in_future": "This date is in the future.",
    "date_ends_before_start": "The end of service is before its start.",
    "date_before_birth": "This date is before the date of birth.",
}


def translate_errors(spec: FormSpec, errors: dict[str, str], lang: Language) -> dict[str, str]:
    gettext = translations(lang.code).gettext
    return {key: form_message(spec, key, err, lang.form_lang) or gettext(ERROR_TEXT.get(err, ERROR_TEXT["constraint"]))
            for key, err in errors.items()}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, lang: Lang, user: MaybeUser) -> HTMLResponse:
    return render(request, "home.html")


def _current_form(request: Request) -> FormSpec:
    """The current form version, from the app's cache or read in a short read transaction of its own (never
    the request's write session, which on SQLite would hold the write lock while the form is validated)."""
    cache = request.app.state.current_form
    return cache.fresh() or cache.load(request.app.state.database.reading)


def _form_page(request: Request, spec: FormSpec, lang_code: str, values: dict[str, Any], errors: dict[str, str],
               status: int = 200) -> HTMLResponse:
    return render(request, "intake/form.html", {"spec": spec, "form_lang": lang_code, "values": values,
                                                "errors": errors,
                                                "max_upload_bytes": request.app.state.settings.max_upload_bytes},
                  status=status)


@router.get("/intake", response_class=HTMLResponse)
def intake_form(request: Request, lang: Lang, user: MaybeUser) -> HTMLResponse:
    return _form_page(request, _current_form(request), lang.form_lang, {}, {})


@router.post("/intake", response_class=HTMLResponse)
async def intake_submit(request: Request, lang: Lang, user: MaybeUser) -> HTMLResponse:
    if user is None:
        admit_intake(request)  # per client address: posts per minute, bytes per day (429 with Retry-After)
    settings = request.app.state.settings
    spec = request.app.state.current_form.fresh() or await run_in_threadpool(_current_form, request)
    form = await parse_form(request)
    values: dict[str, str | list[str]] = {}
    uploads: dict[str, UploadFile] = {}
    for key, value in form.multi_items():
        if key in ("csrf_token", RELANG, HAD_ERRORS):
            continue
        if isinstance(value, UploadFile):
            if value.filename:
                uploads[key] = value
        elif key in values:
            existing = values[key]
            values[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            values[key] = value
    shown = {k: v for k, v in values.items() if isinstance(v, str)}
    if form.get(RELANG):
        # The language was switched on a filled-in form: the same answers again in the new language, from this
        # post only (nothing is kept on the server); the errors again only if the page showed them.
        errors = validate_submission(spec, values, check_answers=check_dates).errors if form.get(HAD_ERRORS) else {}
        return _form_page(request, spec, lang.form_lang, shown, translate_errors(spec, errors, lang))
    file_meta: dict[str, tuple[str, str, int]] = {}
    contents: dict[str, bytes] = {}
    too_large = False
    for key, upload in uploads.items():
        data = await upload.read()
        att = make_attachment(upload.filename or key, data)
        file_meta[key] = (att.name, att.content_type, len(data))
        if len(data) > settings.max_upload_bytes:
            too_large = True  # refused below, next to its field, with every typed answer kept
            continue
        contents[key] = data
    result = validate_submission(spec, values, file_meta, max_file_bytes=settings.max_upload_bytes,
                                 check_answers=check_dates)
    if result.errors:
        return _form_page(request, spec, lang.form_lang, shown, translate_errors(spec, result.errors, lang),
                          status=413 if too_large else 422)
    attachments = []
    attachment_fields = []
    for key, data in contents.items():
        attachments.append(make_attachment(file_meta[key][0], data))
        attachment_fields.append(key)
    parsed = ParsedSubmission(channel="web", fields=dict(result.clean), attachments=attachments,
                              provenance={"form_language": lang.form_lang, "attachment_fields": attachment_fields,
                                          "submitted_by_staff": user is not None})
    database = request.app.state.database
    actor = user.actor if user else Actor("public:intake")
    # Sealed here, outside any lock (only the public key is needed); the writer stores it with whatever else
    # is waiting, in one transaction, and the future resolves only after that COMMIT.
    prepared = prepare_sealed(database.keys, parsed)
    store = partial(store_sealed, prepared=prepared, actor=actor, form_id=spec.form_id, form_version=spec.version,
                    language=lang.form_lang, submitted_by=user.id if user else None)
    receipt: Receipt = await asyncio.wrap_future(request.app.state.intake_writer.submit(store))
    request.app.state.worker.wake()
    return _receipt_page(request, lang, receipt.receipt, signed_in=user is not None)


_RECEIPT_SLOT = "AMANATRECEIPTSLOT"  # letters only: autoescaping leaves it as it is


def _receipt_page(request: Request, lang: Language, receipt: str, *, signed_in: bool) -> HTMLResponse:
    """The receipt page. For the public (no user, so no CSRF token or user menu in the page) it differs only
    by language and receipt, so it is rendered once per language and the receipt put into the copy."""
    if signed_in:
        return render(request, "intake/receipt.html", {"receipt": receipt}, status=201)
    pages: dict[str, tuple[str, str]] = request.app.state.receipt_pages
    page = pages.get(lang.code)
    if page is None:
        html = render(request, "intake/receipt.html", {"receipt": _RECEIPT_SLOT}).body.decode()
        head, _, tail = html.partition(_RECEIPT_SLOT)
        pages[lang.code] = page = (head, tail)
    return HTMLResponse(page[0] + receipt + page[1], status_code=201)

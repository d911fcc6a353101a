"""File imports for referrers and caseworkers: upload a WhatsApp export, a table or a zip of ODK instances,
preview, confirm or discard.

Uploads stay in memory (never a temp file) and are sealed at once as a held batch; the preview names fields,
never values. Confirm hands the batch to the worker; discard deletes it. Ownership is checked in the service.

An upload is parsed and sealed within the upload limits before any transaction begins, then written in
short transactions (intake.import_plan.store_plan_bounded), so no file holds the write lock while it is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from amanat.accounts.service import CurrentUser
from amanat.core.permissions import Permission
from amanat.forms.spec import FormSpec
from amanat.intake import held_batches, imports
from amanat.intake.consent import CONSENT_LANGUAGES, IMPORT_BASES, import_consent
from amanat.intake.errors import IntakeError
from amanat.intake.form_versions import current_form, known_form_ids
from amanat.intake.parsed import safe_file_name
from amanat.intake.tables import parse_mapping
from amanat.intake.upload_limits import UploadLimits
from amanat.web.deps import DB, Lang, require
from amanat.web.i18n import Language
from amanat.web.quotas import admit_import
from amanat.web.render import render, request_language

router = APIRouter()
Importer = Annotated[CurrentUser, Depends(require(Permission.SUBMISSION_CREATE))]
# The consent basis the importer states for the whole file (intake/consent.py): refused without one.
Basis = Annotated[str, Form(max_length=40)]
Version = Annotated[str, Form(max_length=60)]
ConsentLang = Annotated[str, Form(max_length=10)]


def _field_labels(db: DB, form_lang: str) -> dict[str, str]:
    return {f.name: f.label_in(form_lang) for f in current_form(db).fields() if f.name != "consent"}


def _upload_page(request: Request, db: Session, user: CurrentUser, *, error: IntakeError | None = None,
                 channel: str | None = None, status: int = 200) -> HTMLResponse:
    errors = getattr(error, "errors", None) or ([error] if error else [])
    return render(request, "imports/upload.html", {
        "held": held_batches.list_held_batches(db, user_id=user.id), "error": error, "errors": errors,
        "labels": _field_labels(db, request_language(request).form_lang),
        "channel": channel, "hold_hours": held_batches.HOLD_HOURS,
        "consent_bases": IMPORT_BASES, "consent_languages": CONSENT_LANGUAGES,
    }, status=status)


def _preview_page(request: Request, db: Session, lang_code: str, result: imports.ImportResult) -> HTMLResponse:
    return render(request, "imports/preview.html", {"result": result, "labels": _field_labels(db, lang_code),
                                                    "hold_hours": held_batches.HOLD_HOURS})


def _import(request: Request, lang: Language, user: CurrentUser, channel: str,
            plan: Callable[[FormSpec, UploadLimits], imports.ImportPlan]) -> HTMLResponse:
    """Parse and seal the upload (no transaction), store it in short ones, then render in a read session."""
    admit_import(request, user.id)  # per account: imports per hour, bytes per day (429 with Retry-After)
    database = request.app.state.database
    settings = request.app.state.settings
    try:
        with database.reading() as db:
            spec = current_form(db)
        planned = plan(spec, UploadLimits.from_settings(settings))
        result = imports.store_plan_bounded(database, planned, actor=user.actor, submitted_by=user.id, hold=True)
    except IntakeError as exc:
        with database.reading() as db:
            return _upload_page(request, db, user, error=exc, channel=channel, status=exc.status)
    with database.reading() as db:
        return _preview_page(request, db, lang.form_lang, result)


def _read(upload: UploadFile) -> bytes:
    # Starlette keeps uploads in memory up to the request cap (see create_app): no plaintext on disk.
    upload.file.seek(0)
    return upload.file.read()


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, db: DB, lang: Lang, user: Importer) -> HTMLResponse:
    return _upload_page(request, db, user)


@router.post("/imports/whatsapp", response_class=HTMLResponse)
def upload_whatsapp(request: Request, lang: Lang, user: Importer, export: Annotated[UploadFile, File()],
                    intermediary: Annotated[str, Form(min_length=1, max_length=200)], consent_basis: Basis = "",
                    consent_form_version: Version = "", consent_language: ConsentLang = "") -> HTMLResponse:
    keys = request.app.state.database.keys
    name = export.filename or "chat.txt"
    return _import(request, lang, user, "whatsapp", lambda spec, limits: imports.plan_whatsapp(
        keys, _read(export), file_name=name, intermediary=intermediary.strip(), spec=spec, actor=user.actor,
        consent=import_consent(consent_basis, consent_form_version, consent_language, source=name),
        submitted_by=user.id, limits=limits))


@router.post("/imports/table", response_class=HTMLResponse)
def upload_table(request: Request, lang: Lang, user: Importer, table: Annotated[UploadFile, File()],
                 mapping: Annotated[UploadFile | None, File()] = None, consent_basis: Basis = "",
                 consent_form_version: Version = "", consent_language: ConsentLang = "") -> HTMLResponse:
    keys = request.app.state.database.keys

    def plan(spec: FormSpec, limits: UploadLimits) -> imports.ImportPlan:
        name = table.filename or "table.csv"
        consent = import_consent(consent_basis, consent_form_version, consent_language, source=name)
        columns = None
        if mapping is not None and mapping.filename:
            columns = parse_mapping(_read(mapping), file_name=safe_file_name(mapping.filename))
        table.file.seek(0)
        return imports.plan_table(keys, table.file, file_name=name, mapping=columns, spec=spec, actor=user.actor,
                                  consent=consent, submitted_by=user.id, limits=limits)

    return _import(request, lang, user, "table", plan)


@router.post("/imports/odk", response_class=HTMLResponse)
def upload_odk(request: Request, lang: Lang, user: Importer,
               instances: Annotated[UploadFile, File()]) -> HTMLResponse:
    database = request.app.state.database
    with database.reading() as db:
        forms = known_form_ids(db)
    return _import(request, lang, user, "odk", lambda spec, limits: imports.plan_odk_zip(
        database.keys, _read(instances), file_name=instances.filename or "instances.zip", forms=forms,
        actor=user.actor, submitted_by=user.id, limits=limits))


@router.get("/imports/{batch_id}", response_class=HTMLResponse)
def held_batch(request: Request, db: DB, lang: Lang, user: Importer, batch_id: str) -> HTMLResponse:
    batch = held_batches.get_held_batch(db, batch_id, user_id=user.id)
    return render(request, "imports/held.html", {"batch": batch, "hold_hours": held_batches.HOLD_HOURS})


@router.post("/imports/{batch_id}/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: DB, lang: Lang, user: Importer, batch_id: str) -> HTMLResponse:
    count = held_batches.confirm_batch(db, user.actor, batch_id, user_id=user.id)
    db.commit()
    request.app.state.worker.wake()
    context: dict[str, Any] = {"confirmed": count, "discarded": None}
    return render(request, "imports/done.html", context)


@router.post("/imports/{batch_id}/discard", response_class=HTMLResponse)
def discard(request: Request, db: DB, lang: Lang, user: Importer, batch_id: str) -> HTMLResponse:
    count = held_batches.discard_batch(db, user.actor, batch_id, user_id=user.id)
    db.commit()
    context: dict[str, Any] = {"confirmed": None, "discarded": count}
    return render(request, "imports/done.html", context)

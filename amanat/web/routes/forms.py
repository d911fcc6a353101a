"""Administration of the form: list its versions, upload a new XLSForm, retire a version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.core.permissions import Permission
from amanat.errors import AmanatError, NotFound
from amanat.intake.form_versions import MAX_XLSX_BYTES, list_form_versions, set_form_active, upload_form
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
FormManager = Annotated[CurrentUser, Depends(require(Permission.FORM_MANAGE))]


def _page(request: Request, db: DB, *, error: AmanatError | None = None, uploaded: str | None = None,
          status: int = 200) -> HTMLResponse:
    return render(request, "admin/forms.html", {
        "versions": list_form_versions(db), "uploaded": uploaded,
        "error": error.public_message if error else None,
        "sheet": getattr(error, "sheet", None), "row": getattr(error, "row", None),
    }, status=status)


@router.get("/admin/forms", response_class=HTMLResponse)
def forms(request: Request, db: DB, lang: Lang, user: FormManager) -> HTMLResponse:
    return _page(request, db)


@router.post("/admin/forms", response_class=HTMLResponse)
def upload(request: Request, db: DB, lang: Lang, user: FormManager,
           xlsx: Annotated[UploadFile, File()]) -> HTMLResponse:
    data = xlsx.file.read(MAX_XLSX_BYTES + 1)
    database = request.app.state.database
    key = database.keys.odk_public_key_b64() if database.keys.loaded else None
    try:
        spec = upload_form(db, user.actor, data, public_key_b64=key)
    except AmanatError as exc:  # FormError names the sheet and row
        db.rollback()
        return _page(request, db, error=exc, status=exc.status)
    db.commit()
    return _page(request, db, uploaded=spec.version, status=201)


@router.post("/admin/forms/{version_id}/active")
def set_active(request: Request, db: DB, user: FormManager, version_id: str,
               active: Annotated[str, Form(max_length=3)]) -> Response:
    if not version_id.isdigit() or len(version_id) > 12:
        raise NotFound("No such form version.")
    set_form_active(db, user.actor, int(version_id), active == "yes")
    db.commit()
    return RedirectResponse("/admin/forms", status_code=303)

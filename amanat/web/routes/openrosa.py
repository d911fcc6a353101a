"""The OpenRosa server for ODK Collect and KoboCollect (logic in amanat.intake.openrosa).

Every request authenticates itself (Digest; Basic only over HTTPS) and no cookie is set, so these routes
are exempt from the CSRF check. Every answer, errors included, is an OpenRosa XML body; the
X-OpenRosa-Version and Date headers are added by web.security.ProtocolHeaders.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from amanat.accounts import digest
from amanat.accounts.devices import DeviceAuthRequired, DeviceLogin, authenticate_device
from amanat.config import Settings
from amanat.core.db import Database
from amanat.core.permissions import Permission
from amanat.errors import AmanatError, InvalidInput, PayloadTooLarge, PermissionDenied, TooManyRequests
from amanat.intake import openrosa
from amanat.web.deps import csrf_exempt
from amanat.web.quotas import admit_intake

router = APIRouter()
XML = "text/xml; charset=utf-8"


def accept_content_length(settings: Settings) -> int:
    """What Collect may put in one POST before it splits a submission: the request cap less room for the
    multipart framing and the XML that every POST repeats."""
    return settings.max_request_bytes - min(settings.max_request_bytes // 10, 1024 * 1024)


def _base_url(request: Request) -> str:
    """The configured public URL, never the request's Host header (which anyone can set): a form that names
    another server as its submission URL would send applicants' answers there. Development without a base
    URL gets the address the server listens on."""
    settings: Settings = request.app.state.settings
    return (settings.base_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _authenticate(request: Request) -> DeviceLogin:
    """The device login of this request (Digest, or Basic over HTTPS) whose role may submit forms."""
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    with database.reading() as db:
        login = authenticate_device(db, request.app.state.accounts, secret=settings.secret_key.get_secret_value(),
                                    https=settings.https, keys_unlocked=database.keys.unlocked,
                                    method=request.method, path=request.url.path, query=request.url.query,
                                    authorization=request.headers.get("authorization"))
    if not login.user.can(Permission.SUBMISSION_CREATE):
        raise PermissionDenied("This device login's role does not allow sending forms.")
    return login


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=XML)


def _error(request: Request, exc: AmanatError) -> Response:
    """An OpenRosaResponse naming the problem (never a value); 401 carries the challenges."""
    response = _xml(openrosa.openrosa_response(exc.public_message, nature="error"), exc.status)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, DeviceAuthRequired):
        settings: Settings = request.app.state.settings
        if request.app.state.database.keys.unlocked or not settings.https:
            response.headers.append("WWW-Authenticate",
                                    digest.challenge(settings.secret_key.get_secret_value(), stale=exc.stale))
        if settings.https:
            response.headers.append("WWW-Authenticate", digest.basic_challenge())
    return response


@router.get("/formList")
@csrf_exempt
def form_list(request: Request, form_id: Annotated[str | None, Query(alias="formID", max_length=80)] = None
              ) -> Response:
    try:
        _authenticate(request)
        database: Database = request.app.state.database
        with database.reading() as db:
            return _xml(openrosa.form_list(db, database.keys, _base_url(request), form_id))
    except AmanatError as exc:
        return _error(request, exc)


@router.get("/forms/{form_id}/form.xml")
@csrf_exempt
def form_download(request: Request, form_id: str) -> Response:
    try:
        _authenticate(request)
        database: Database = request.app.state.database
        with database.reading() as db:
            return _xml(openrosa.find_form(db, database.keys, _base_url(request), form_id).xml)
    except AmanatError as exc:
        return _error(request, exc)


@router.get("/forms/{form_id}/manifest")
@csrf_exempt
def form_manifest(request: Request, form_id: str) -> Response:
    try:
        _authenticate(request)
        database: Database = request.app.state.database
        with database.reading() as db:
            openrosa.find_form(db, database.keys, _base_url(request), form_id)
        return _xml(openrosa.form_manifest())
    except AmanatError as exc:
        return _error(request, exc)


@router.head("/submission")
@csrf_exempt
def submission_head(request: Request) -> Response:
    """Collect's first step: 401 makes it ask for the login, 204 says where and how much it may send."""
    try:
        _authenticate(request)
    except AmanatError as exc:
        return _error(request, exc)
    length = accept_content_length(request.app.state.settings)
    return Response(status_code=204, headers={"X-OpenRosa-Accept-Content-Length": str(length)})


async def _read_parts(request: Request) -> tuple[bytes, list[tuple[str, bytes]], bool]:
    """The XML, the media parts (name, bytes) and whether more POSTs will follow."""
    settings: Settings = request.app.state.settings
    try:
        form = await request.form(max_files=openrosa.MAX_PARTS + 1, max_fields=20, max_part_size=64 * 1024)
    except (HTTPException, MultiPartException):
        raise InvalidInput("The submission is not a readable multipart/form-data body.") from None
    xml: bytes | None = None
    media: list[tuple[str, bytes]] = []
    incomplete = False
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            if len(data) > settings.max_upload_bytes:
                raise PayloadTooLarge(f"An attachment is larger than {settings.max_upload_bytes // (1024 * 1024)} "
                                      "MiB.")
            if key == openrosa.XML_PART:
                xml = data
            else:
                media.append((value.filename or key, data))
        elif key == openrosa.INCOMPLETE_PART:
            incomplete = value.strip().lower() == "yes"
    if not xml:
        raise InvalidInput(f"The submission has no {openrosa.XML_PART} part.", field=openrosa.XML_PART)
    return xml, media, incomplete


@router.post("/submission")
@csrf_exempt
async def submission(request: Request) -> Response:
    database: Database = request.app.state.database
    try:
        login = await run_in_threadpool(_authenticate, request)
        admit_intake(request)  # per client address, as the public form (429 with Retry-After)
        xml, media, incomplete = await _read_parts(request)

        def store() -> openrosa.Received:
            with database.transaction() as db:
                return openrosa.receive_submission(db, database.keys, login.actor, submitted_by=login.user.id,
                                                   device=login.device_username, xml=xml, media=media,
                                                   incomplete=incomplete)

        received = await run_in_threadpool(store)
    except AmanatError as exc:
        return _error(request, exc)
    if received.complete:
        request.app.state.worker.wake()
    return _xml(openrosa.openrosa_response(received.message), received.status)

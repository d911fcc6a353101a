"""create_app(settings): the thin web layer over the stages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartParser

from amanat.accounts.service import Accounts
from amanat.config import Settings
from amanat.core import bulk_access
from amanat.core.audit import BulkAccessBlocked
from amanat.core.audit_anchor import AnchorWriter
from amanat.core.crypto import KeyHolder, public_ring, unlock
from amanat.core.db import Database, open_database
from amanat.core.keystore import load_keystore, organisation_name
from amanat.errors import AmanatError, NotAuthenticated, TooManyRequests
from amanat.intake.form_versions import CurrentFormCache
from amanat.intake.writer import IntakeWriter
from amanat.jobs.worker import Worker
from amanat.web.cookies import ResponseCookies
from amanat.web.deps import StepRequired, verify_csrf
from amanat.web.i18n import N_
from amanat.web.key_refresh import refresh_keys, watch_keys
from amanat.web.render import make_environment, render
from amanat.web.sealed_only import SealedOnly
from amanat.web.security import BodyLimit, ProtocolHeaders, SecurityHeaders, TrustedProxies

log = logging.getLogger("amanat.web")
STATIC = Path(__file__).resolve().parent / "static"
OPENROSA_PATHS = ("/formList", "/forms/", "/submission")  # web/routes/openrosa.py


def load_keys(database: Database, passphrase: str | None) -> tuple[KeyHolder, str]:
    """Unlock the keys with the passphrase, or load only the public halves (a sealed-intake node)."""
    with database.reading() as db:
        keystore = load_keystore(db)
        org = organisation_name(db) or "Amanat"
    if keystore is None:
        return database.keys, org
    database.keys.set(unlock(keystore, passphrase) if passphrase else public_ring(keystore))
    return database.keys, org


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    database = database or open_database(settings)
    if not database.keys.loaded:
        passphrase = settings.passphrase.get_secret_value() if settings.passphrase else None
        load_keys(database, passphrase)
    with database.reading() as db:
        org = organisation_name(db) or "Amanat"
    # Uploads stay in memory up to the request cap: a spooled temp file would put plaintext on disk.
    MultiPartParser.spool_max_size = settings.max_request_bytes
    writes_in_flight = [0]  # unsafe requests being handled; read by the worker thread to let intake go first
    worker = Worker(database, poll_seconds=settings.worker_poll_seconds, intake_busy=lambda: writes_in_flight[0] > 0)

    intake_writer = IntakeWriter(database)  # web intake's one writer thread (group commit)
    bulk_access.configure(database.engine, settings.bulk_access_per_hour)  # reveals per user per hour
    anchors = (AnchorWriter(database.reading, settings.audit_anchor_path, settings.secret_key.get_secret_value(),
                            settings.audit_anchor_seconds) if settings.audit_anchor_path else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        intake_writer.start()
        if anchors is not None:
            anchors.start()  # the audit chain's signed head, appended at every checkpoint
        if settings.run_worker_in_process and database.keys.unlocked:
            worker.start()
        key_watch = asyncio.create_task(watch_keys(database, settings.key_refresh_seconds))
        yield
        key_watch.cancel()
        worker.stop()
        intake_writer.stop()
        if anchors is not None:
            anchors.stop()

    # FastAPI's native OpenTelemetry off: nothing here exports traces, and its per-request checks of the
    # (unconfigured) providers and the environment cost more than some of our routes.
    app = FastAPI(title="Amanat", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(verify_csrf)],
                  telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False})
    app.state.settings = settings
    app.state.database = database
    app.state.refresh_keys = partial(refresh_keys, database)  # also run by the timer in lifespan
    app.state.worker = worker
    app.state.intake_writer = intake_writer
    app.state.org_name = org
    app.state.templates = make_environment()
    app.state.current_form = CurrentFormCache()
    app.state.receipt_pages = {}  # language code → the public receipt page around its code (routes/public.py)
    app.state.accounts = Accounts(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                                  max_failures=settings.login_max_failures,
                                  window_seconds=settings.login_window_seconds,
                                  session_hours=settings.session_hours, idle_minutes=settings.session_idle_minutes,
                                  address_max_failures=settings.login_address_max_failures,
                                  account_free_failures=settings.login_account_free_failures,
                                  totp_required=settings.totp_required)
    if settings.environment == "production" and not settings.base_url.startswith("https://"):
        log.warning("serving production over plain http (AMANAT_ALLOW_PLAIN_HTTP): TLS must end at a trusted "
                    "proxy (%s)", ", ".join(settings.trusted_proxies))

    app.add_middleware(ResponseCookies, https=settings.https, writes_in_flight=writes_in_flight)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders, https=settings.https)
    app.add_middleware(ProtocolHeaders, openrosa_paths=OPENROSA_PATHS)  # a 413 gets them too
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies)  # outermost: client and scheme first
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if settings.sealed_only:  # an intake node: the public form and OpenRosa only; every other path is 404
        app.add_middleware(SealedOnly)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")

    @app.exception_handler(AmanatError)
    async def amanat_error(request: Request, exc: AmanatError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        if isinstance(exc, BulkAccessBlocked) and exc.new_alarm:  # the refused request has rolled back
            await run_in_threadpool(bulk_access.record_alarm, database, exc)
        if isinstance(exc, StepRequired) and not wants_json(request):
            return RedirectResponse(exc.location, status_code=303)
        if wants_json(request):
            return JSONResponse({"error": exc.code, "message": exc.public_message, "field": exc.field},
                                status_code=exc.status, headers=headers)
        if isinstance(exc, NotAuthenticated) and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return render(request, "error.html", {"status": exc.status, "message": exc.public_message},
                      status=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Not found." if exc.status_code == 404 else "The request could not be handled."
        if wants_json(request):
            return JSONResponse({"error": "http_error", "message": message}, status_code=exc.status_code)
        return render(request, "error.html", {"status": exc.status_code, "message": message},
                      status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        # Name the fields, never echo what was sent.
        names = sorted({".".join(str(p) for p in err.get("loc", [])[1:]) for err in exc.errors()})
        message = "Some fields are missing or malformed: " + ", ".join(names)
        if wants_json(request):
            return JSONResponse({"error": "invalid_input", "message": message}, status_code=422)
        # The sentence in the reader's language, the fields' names after it as written.
        return render(request, "error.html", {"status": 422, "message": N_("Some fields are missing or malformed:"),
                                              "fields": names}, status=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return render(request, "error.html", {"status": 500, "message": "Something went wrong. It has been logged."},
                      status=500)

    from amanat.web.routes import (
        account,
        admin,
        audit,
        auth,
        cases,
        forms,
        health,
        home,
        imports,
        openrosa,
        public,
        review,
        tasks,
        verification,
    )

    for module in (health, public, auth, account, home, cases, verification, tasks, review, audit, admin, forms,
                   imports, openrosa):
        app.include_router(module.router)
    from amanat.web.routes import alarms

    app.include_router(alarms.router)  # bulk-access alarms (issue 16)
    from amanat.web.routes import dashboard, exports, partners, protection

    for module in (protection, partners, exports, dashboard):  # pathways, referrals, exports (issue 18)
        app.include_router(module.router)
    from amanat.web.routes import teams

    app.include_router(teams.router)  # teams of staff who share cases
    return app

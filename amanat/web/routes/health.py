"""Health: anonymous callers learn only that the server answers; the details are for a monitor or staff.

The key state and the queue's counts tell an outsider whether this node can open submissions and how busy
intake is, so they need the monitor's bearer token (AMANAT_HEALTH_TOKEN) or a signed-in staff member
whose role reads the dashboard.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from amanat.core.crypto import constant_time_equal
from amanat.core.permissions import Permission
from amanat.errors import NotAuthenticated, PermissionDenied
from amanat.intake.service import count_by_status
from amanat.web.deps import DB, MaybeUser

router = APIRouter()


@router.get("/healthz", response_class=PlainTextResponse)
def health() -> PlainTextResponse:
    return PlainTextResponse("ok")


def _monitor(request: Request) -> bool:
    sent = request.headers.get("authorization", "")
    if not sent.lower().startswith("bearer "):
        return False
    token = request.app.state.settings.health_token
    if token is None or not token.get_secret_value() or not constant_time_equal(sent[7:].strip(),
                                                                              token.get_secret_value()):
        raise PermissionDenied("Wrong monitor token.")
    return True


async def staff_or_monitor(request: Request, user: MaybeUser) -> None:
    if _monitor(request):
        return
    if user is None:
        raise NotAuthenticated("Please sign in, or send the monitor token.")
    if not user.can(Permission.DASHBOARD_READ):
        raise PermissionDenied("Your role does not allow this.")


staff_or_monitor.permission = Permission.DASHBOARD_READ  # type: ignore[attr-defined]  # for the route walk


@router.get("/healthz/details", dependencies=[Depends(staff_or_monitor)])
def health_details(request: Request, db: DB) -> JSONResponse:
    keys = request.app.state.database.keys
    return JSONResponse({"ok": True, "keys": "unlocked" if keys.unlocked else ("public" if keys.loaded else "none"),
                         "submissions": count_by_status(db)})

"""Teams (admin): create a team, set the provinces whose unassigned cases it takes (or make it the intake
team), put users in and take them out. Thin: each form calls one accounts.teams service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from amanat.accounts import teams
from amanat.accounts.service import CurrentUser
from amanat.core.permissions import Permission
from amanat.errors import AmanatError
from amanat.normalize.places import provinces
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
Admin = Annotated[CurrentUser, Depends(require(Permission.USER_MANAGE))]
TeamName = Annotated[str, Form(max_length=80)]


def _page(request: Request, db: DB, lang_code: str, *, error: str | None = None, notice: str | None = None,
          status: int = 200) -> HTMLResponse:
    names = {p.pcode: (p.name_en if lang_code == "en" else p.name_prs) for p in provinces()}
    return render(request, "admin/teams.html", {
        "teams": teams.list_teams(db), "provinces": names, "case_scope": request.app.state.settings.case_scope,
        "usernames": [u.username for u, disabled, _ in request.app.state.accounts.list_users(db) if not disabled],
        "error": error, "notice": notice}, status=status)


def _act(request: Request, db: DB, lang_code: str, action: Callable[[], object], notice: str) -> HTMLResponse:
    try:
        action()
    except AmanatError as exc:
        db.rollback()
        return _page(request, db, lang_code, error=exc.public_message, status=exc.status)
    db.commit()
    return _page(request, db, lang_code, notice=notice)


@router.get("/admin/teams", response_class=HTMLResponse)
def teams_page(request: Request, db: DB, lang: Lang, user: Admin) -> HTMLResponse:
    return _page(request, db, lang.code)


@router.post("/admin/teams", response_class=HTMLResponse)
def create_team(request: Request, db: DB, lang: Lang, user: Admin, name: TeamName = "",
                province: Annotated[list[str] | None, Form()] = None,
                intake: Annotated[str, Form(max_length=3)] = "") -> Response:
    return _act(request, db, lang.code, lambda: teams.create_team(db, user.actor, name, provinces=province or (),
                                                                  intake=intake == "yes"), "Team created.")


@router.post("/admin/teams/{team_id}/coverage", response_class=HTMLResponse)
def set_coverage(request: Request, db: DB, lang: Lang, user: Admin, team_id: str,
                 province: Annotated[list[str] | None, Form()] = None,
                 intake: Annotated[str, Form(max_length=3)] = "") -> Response:
    return _act(request, db, lang.code, lambda: teams.set_coverage(db, user.actor, team_id, provinces=province or (),
                                                                   intake=intake == "yes"), "Team updated.")


@router.post("/admin/teams/{team_id}/members", response_class=HTMLResponse)
def add_member(request: Request, db: DB, lang: Lang, user: Admin, team_id: str,
               username: Annotated[str, Form(max_length=80)] = "") -> Response:
    return _act(request, db, lang.code, lambda: teams.add_member(db, user.actor, team_id, username), "Team updated.")


@router.post("/admin/teams/{team_id}/members/remove", response_class=HTMLResponse)
def remove_member(request: Request, db: DB, lang: Lang, user: Admin, team_id: str,
                  username: Annotated[str, Form(max_length=80)] = "") -> Response:
    return _act(request, db, lang.code, lambda: teams.remove_member(db, user.actor, team_id, username),
                "Team updated.")


@router.post("/admin/teams/{team_id}/delete", response_class=HTMLResponse)
def delete_team(request: Request, db: DB, lang: Lang, user: Admin, team_id: str) -> Response:
    return _act(request, db, lang.code, lambda: teams.delete_team(db, user.actor, team_id), "Team deleted.")

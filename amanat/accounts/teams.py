"""Teams: admins group staff so that a team shares its cases (the queue's "Team" view) and, where the
organisation limits case access to teams (``case_scope = team``), so that a caseworker sees only the cases of
their team (the rule: amanat/cases/scope.py). A team may cover provinces (its unassigned cases there) or be
the intake team (every unassigned case). Every change is audited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amanat.accounts.models import Team, TeamMember, User
from amanat.core.audit import Actor, record_event
from amanat.errors import Conflict, InvalidInput, NotFound

TEAM_NAME = re.compile(r"^[^\x00-\x1f<>]{2,80}$")
_PCODE = re.compile(r"^AF(\d{2})$")
PROVINCE_COUNT = 34  # Afghanistan's provinces: P-codes AF01 … AF34 (OCHA/AGCHO)


@dataclass(frozen=True)
class TeamView:
    id: str
    name: str
    provinces: tuple[str, ...]
    intake: bool
    members: tuple[str, ...]  # usernames


def clean_provinces(values: Iterable[str]) -> tuple[str, ...]:
    """P-codes (AF01 … AF34), upper-cased and deduplicated; anything else is refused by name."""
    out: list[str] = []
    for raw in values:
        for part in re.split(r"[\s,;]+", raw or ""):
            if not part:
                continue
            code = part.strip().upper()
            m = _PCODE.match(code)
            if not m or not 1 <= int(m.group(1)) <= PROVINCE_COUNT:
                raise InvalidInput("provinces: use province codes, AF01 to AF34.", field="provinces")
            if code not in out:
                out.append(code)
    return tuple(sorted(out))


def _team(db: Session, name_or_id: str) -> Team:
    team = db.get(Team, name_or_id) or db.scalar(select(Team).where(Team.name == name_or_id.strip()))
    if team is None:
        raise NotFound("No such team.")
    return team


def _user(db: Session, username_or_id: str) -> User:
    user = db.get(User, username_or_id) or db.scalar(select(User).where(User.username == username_or_id.strip()))
    if user is None:
        raise NotFound("No such user.")
    return user


def create_team(db: Session, actor: Actor, name: str, *, provinces: Iterable[str] = (), intake: bool = False) -> Team:
    name = (name or "").strip()
    if not TEAM_NAME.match(name):
        raise InvalidInput("name: 2 to 80 characters, without < or >.", field="name")
    if db.scalar(select(Team.id).where(Team.name == name)):
        raise Conflict("A team with that name exists.")
    codes = clean_provinces(provinces)
    team = Team(name=name, provinces=" ".join(codes), intake=intake)
    db.add(team)
    db.flush()
    record_event(db, actor, "team:create", "team", team.id, provinces=len(codes), intake=intake)
    return team


def set_coverage(db: Session, actor: Actor, team: str, *, provinces: Iterable[str], intake: bool) -> Team:
    """Which unassigned cases the team takes: its provinces, or every one (the intake team)."""
    row = _team(db, team)
    codes = clean_provinces(provinces)
    row.provinces, row.intake = " ".join(codes), intake
    db.flush()
    record_event(db, actor, "team:coverage", "team", row.id, provinces=len(codes), intake=intake)
    return row


def delete_team(db: Session, actor: Actor, team: str) -> None:
    row = _team(db, team)
    db.execute(delete(TeamMember).where(TeamMember.team_id == row.id))
    db.delete(row)
    db.flush()
    record_event(db, actor, "team:delete", "team", row.id)


def add_member(db: Session, actor: Actor, team: str, user: str) -> None:
    row, member = _team(db, team), _user(db, user)
    if db.get(TeamMember, (row.id, member.id)) is not None:
        raise Conflict("This user is already in this team.")
    db.add(TeamMember(team_id=row.id, user_id=member.id))
    db.flush()
    record_event(db, actor, "team:member_add", "team", row.id, user=member.id)


def remove_member(db: Session, actor: Actor, team: str, user: str) -> None:
    row, member = _team(db, team), _user(db, user)
    link = db.get(TeamMember, (row.id, member.id))
    if link is None:
        raise NotFound("This user is not in this team.")
    db.delete(link)
    db.flush()
    record_event(db, actor, "team:member_remove", "team", row.id, user=member.id)


def list_teams(db: Session) -> list[TeamView]:
    members: dict[str, list[str]] = {}
    rows = db.execute(select(TeamMember.team_id, User.username).join(User, User.id == TeamMember.user_id)
                      .order_by(User.username)).all()
    for team_id, username in rows:
        members.setdefault(team_id, []).append(username)
    return [TeamView(t.id, t.name, tuple(p for p in t.provinces.split() if p), t.intake, tuple(members.get(t.id, ())))
            for t in db.scalars(select(Team).order_by(Team.name))]


@dataclass(frozen=True)
class Membership:
    """What a user's teams cover: their members (the user included), provinces, and whether one is the
    intake team."""

    members: frozenset[str]
    provinces: frozenset[str]
    intake: bool
    teams: int


def membership(db: Session, user_id: str) -> Membership:
    team_ids = list(db.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))
    if not team_ids:
        return Membership(frozenset({user_id}), frozenset(), False, 0)
    members = set(db.scalars(select(TeamMember.user_id).where(TeamMember.team_id.in_(team_ids)))) | {user_id}
    provinces: set[str] = set()
    intake = False
    for codes, is_intake in db.execute(select(Team.provinces, Team.intake).where(Team.id.in_(team_ids))).all():
        provinces.update(p for p in codes.split() if p)
        intake = intake or bool(is_intake)
    return Membership(frozenset(members), frozenset(provinces), intake, len(team_ids))

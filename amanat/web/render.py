"""Template rendering: one Jinja2 environment, the request's language and the CSRF token in every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from amanat.web.deps import LANG_COOKIE, csrf_token
from amanat.web.i18n import (
    LANGUAGES,
    Language,
    actor_text,
    answer_text,
    comparison_name,
    from_accept_language,
    intake_problem_text,
    issue_text,
    resolve_language,
    translations,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


def make_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "xml"]),
                      trim_blocks=True, lstrip_blocks=True)
    # Isolated left to right (U+2066 … U+2069, plain text, so also right inside attributes and translated
    # sentences): "2026-12-07 14:30" in a Dari line would otherwise read "14:30 2026-12-07".
    env.filters["dt"] = lambda value, locale="en": \
        "\u2066" + format_datetime(value, "yyyy-MM-dd HH:mm", locale=locale) + "\u2069" if value else ""
    # Numbers, phones, case numbers and receipts read left to right inside right-to-left text: isolated, so
    # "+92 301 5550123" never shows as "5550123 301 92+".
    env.filters["ltr"] = lambda value: Markup('<bdi dir="ltr">%s</bdi>') % ("" if value is None else value)
    return env


def _actor_html(actor: str | None, gettext: Any) -> Markup:
    """Who did something: the system's actors in words, a person's username isolated (it is Latin)."""
    words, translated = actor_text(actor, gettext)
    if translated:
        return Markup("%s") % words
    return Markup('<bdi dir="ltr" translate="no">%s</bdi>') % words


def _lang_href(request: Request, code: str) -> str:
    """The language switcher's link: this page again with ``lang`` (its other query parameters kept: filters,
    the page number). A page shown in answer to a POST has no address to show again (GET would be 405): it
    links to the start page, unless its template offers its own switcher."""
    if request.method not in ("GET", "HEAD"):
        return f"/?{urlencode({'lang': code})}"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*params, ('lang', code)])}"


def request_language(request: Request) -> Language:
    """The language the reader chose: the route's (deps.language), else ``?lang=``, else the language cookie,
    and only then the browser's. An error raised before the route ran (CSRF, a POST's validation) still
    answers in the chosen language, not the browser's."""
    lang: Language | None = getattr(request.state, "lang", None)
    if lang is None:
        lang = resolve_language(request.query_params.get("lang")) or resolve_language(request.cookies.get(LANG_COOKIE))
    return lang or from_accept_language(request.headers.get("accept-language"))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    lang = request_language(request)
    trans = translations(lang.code)
    ctx: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "languages": LANGUAGES.values(),
        "_": trans.gettext,
        "ngettext": trans.ngettext,
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
        "org_name": request.app.state.org_name,
        "path": request.url.path,
        "answer": answer_text,  # answer(choices, field, value): a choice code shown as its label
        "comparison": lambda name: comparison_name(name, trans.gettext),
        "issue": lambda reason: issue_text(reason, trans.gettext),
        "problem": lambda text: intake_problem_text(text, trans.gettext),
        "actor": lambda name: _actor_html(name, trans.gettext),
        "lang_href": lambda code: _lang_href(request, code),
    }
    ctx.update(context or {})
    html = request.app.state.templates.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status, headers=headers)

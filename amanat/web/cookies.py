"""Cookies the app sets after a route has run, and the count of write requests in flight.

Pure ASGI rather than Starlette's BaseHTTPMiddleware: that wraps every request in a task group and every
response in a stream, which cost more CPU per intake post than the route's own work.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amanat.web.deps import CSRF_COOKIE, HOST_PREFIX, LANG_COOKIE, SAFE_METHODS
from amanat.web.i18n import resolve_language


def set_cookie_header(name: str, value: str, *, secure: bool, httponly: bool, samesite: str,
                      max_age: int | None = None) -> tuple[bytes, bytes]:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = samesite
    if max_age is not None:
        morsel["max-age"] = max_age
    if secure:
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    return b"set-cookie", morsel.OutputString().encode("latin-1")


class ResponseCookies:
    """Sets the CSRF cookie a page minted (``request.state.new_csrf``, see deps.csrf_token) when the browser's
    differs (none yet, or one from before sign-in), and the language cookie when ``?lang=`` names a language.
    Counts unsafe requests in flight in ``writes_in_flight[0]`` (the worker thread reads it to let intake go
    first)."""

    def __init__(self, app: ASGIApp, *, https: bool, writes_in_flight: list[int]) -> None:
        self.app = app
        self.https = https
        self.csrf_cookie = HOST_PREFIX + CSRF_COOKIE if https else CSRF_COOKIE
        self.writes_in_flight = writes_in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unsafe = scope["method"] not in SAFE_METHODS

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = self._cookies(scope)
                if extra:
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        self.writes_in_flight[0] += unsafe
        try:
            await self.app(scope, receive, send_with_cookies)
        finally:
            self.writes_in_flight[0] -= unsafe

    def _cookies(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        new_csrf = scope.get("state", {}).get("new_csrf")
        if new_csrf and _request_cookies(scope).get(self.csrf_cookie) != new_csrf:
            out.append(set_cookie_header(self.csrf_cookie, new_csrf, secure=self.https, httponly=True,
                                         samesite="strict"))
        query: bytes = scope.get("query_string", b"")
        if b"lang=" in query:
            values = parse_qs(query.decode("latin-1")).get("lang")
            lang = resolve_language(values[-1]) if values else None
            if lang is not None:  # a preference kept in the browser only; nothing is written server-side
                out.append(set_cookie_header(LANG_COOKIE, lang.code, secure=self.https, httponly=False,
                                             samesite="lax", max_age=365 * 86400))
        return out


def _request_cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1"))
    return {}

"""What a `serve --sealed-only` node answers: the public form and OpenRosa, nothing else.

An allow-list in front of the app: every other path (staff sign-in, admin, casework, imports, the audit
log) is a plain 404 before any route, session or database is touched, so a node that faces the internet
offers nothing that needs the private keys or a staff account."""

from __future__ import annotations

import re

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SEALED_ONLY_PATHS = re.compile(r"^/(?:|healthz|intake|formList|submission|forms/[^/]+/(?:form\.xml|manifest)"
                               r"|static/[A-Za-z0-9_.-]+)$")


class SealedOnly:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not SEALED_ONLY_PATHS.match(scope.get("path", "")):
            await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


__all__ = ["SEALED_ONLY_PATHS", "SealedOnly"]

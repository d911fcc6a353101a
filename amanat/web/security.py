"""Security middleware: headers on every response, and a hard cap on request bodies."""

from __future__ import annotations

import contextlib
import ipaddress
from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on its
                    # own forms' POSTs, and the CSRF check needs the real origin. Other sites still get nothing.
                    b"referrer-policy": b"same-origin",
                    b"permissions-policy": b"camera=(self), geolocation=(), microphone=()",
                    b"cross-origin-opener-policy": b"same-origin",
                }
                if self.https:
                    extra[b"strict-transport-security"] = b"max-age=31536000; includeSubDomains"
                # Pages can hold revealed values: never keep them in a shared or browser cache.
                if b"cache-control" not in present:
                    extra[b"cache-control"] = b"no-store"
                headers.extend((k, v) for k, v in extra.items() if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TrustedProxies:
    """X-Forwarded-For and X-Forwarded-Proto believed only from the configured proxies' addresses.

    From anyone else the headers are ignored: the socket's address is the client's (throttling, the audit log)
    and the scheme is the connection's. From a trusted proxy, the client is the right-most address in
    X-Forwarded-For that is not itself a trusted proxy (the left part is whatever the client claimed)."""

    def __init__(self, app: ASGIApp, *, trusted: tuple[str, ...]) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip()]

    def _trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.networks:
            client = scope.get("client")
            if client and self._trusted(client[0]):
                headers = dict(scope.get("headers", []))
                forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
                hops = [h.strip() for h in forwarded.split(",") if h.strip()]
                while hops and self._trusted(hops[-1]):
                    hops.pop()
                if hops:
                    with contextlib.suppress(ValueError):  # not an address: keep the proxy's
                        scope["client"] = (str(ipaddress.ip_address(hops[-1])), 0)
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


class ProtocolHeaders:
    """``Date`` on every response, and ``X-OpenRosa-Version: 1.0`` on the OpenRosa routes (Collect rejects a
    form list without it), errors included. The app is the one source of Date: `amanat serve` turns
    uvicorn's own off, so a response never carries two."""

    def __init__(self, app: ASGIApp, *, openrosa_paths: tuple[str, ...]) -> None:
        self.app = app
        self.openrosa_paths = openrosa_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        openrosa = path.startswith(self.openrosa_paths)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                if b"date" not in present:
                    headers.append((b"date", formatdate(usegmt=True).encode()))
                if openrosa and b"x-openrosa-version" not in present:
                    headers.append((b"x-openrosa-version", b"1.0"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse bodies over the limit with 413, whether or not the client sent Content-Length."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _too_large(send)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b"The upload is too large."
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

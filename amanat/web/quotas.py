"""The intake quotas of one app (intake/quota.py), and who a request counts against.

The client address is the one the security layer settled on (web.security.TrustedProxies: the socket's
address, or from a configured proxy the forwarded one), so a client cannot pick its own key by sending a
header, and clients behind a trusted proxy are not all counted as one.
"""

from __future__ import annotations

import threading

from starlette.requests import Request

from amanat.config import Settings
from amanat.intake.quota import Quota, import_quota, intake_quota

_lock = threading.Lock()


def _quotas(request: Request) -> tuple[Quota, Quota]:
    state = request.app.state
    quotas: tuple[Quota, Quota] | None = getattr(state, "intake_quotas", None)
    if quotas is None:
        with _lock:
            quotas = getattr(state, "intake_quotas", None)
            if quotas is None:
                settings: Settings = state.settings
                quotas = (intake_quota(posts_per_minute=settings.intake_posts_per_minute,
                                       bytes_per_day=settings.intake_bytes_per_day),
                          import_quota(imports_per_hour=settings.imports_per_hour,
                                       bytes_per_day=settings.import_bytes_per_day))
                state.intake_quotas = quotas
    return quotas


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def request_bytes(request: Request) -> int:
    """What the request says it carries; a body without a length counts as the most a request may carry."""
    settings: Settings = request.app.state.settings
    try:
        return max(0, int(request.headers["content-length"]))
    except (KeyError, ValueError):
        return settings.max_request_bytes


def admit_intake(request: Request) -> None:
    """Count an anonymous form post or an OpenRosa submission against its client address (429 beyond)."""
    _quotas(request)[0].admit(client_address(request), request_bytes(request))


def admit_import(request: Request, user_id: str) -> None:
    """Count a file import against the account (429 beyond)."""
    _quotas(request)[1].admit(user_id, request_bytes(request))


__all__ = ["admit_import", "admit_intake", "client_address"]

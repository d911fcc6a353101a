"""Walk every route with every role (and anonymously) and check the answer: allowed, 403, or sign-in."""

import re

import pytest
from fastapi.routing import APIRoute

from amanat.core.permissions import Role, has_permission
from amanat.web.deps import current_user
from tests.conftest import csrf, login

DUMMY = "00000000-0000-0000-0000-000000000000"
# The OpenRosa routes answer to ODK Collect, not to browsers: they take no session cookie and no require(),
# and authenticate every request themselves with a device login (Digest; Basic only over HTTPS), so this
# walk gets 401 from them whatever the role. tests/openrosa/ covers them: challenge, wrong password, 403 for
# a role without submission:create, and Basic refused over plain HTTP.
OPENROSA_ROUTES = {"/formList", "/forms/{form_id}/form.xml", "/forms/{form_id}/manifest", "/submission"}


def _walk(dependant):
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def route_requirements(route: APIRoute):
    permission, needs_login = None, False
    for dep in _walk(route.dependant):
        if getattr(dep.call, "permission", None) is not None:
            permission = dep.call.permission
        if dep.call is current_user:
            needs_login = True
    return permission, needs_login or permission is not None


def _flatten(items):
    for route in items:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI includes routers lazily
            yield from _flatten(route.original_router.routes)


def routes(app):
    for route in _flatten(app.routes):
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route


def concrete(path: str) -> str:
    return re.sub(r"\{username\}", "nobody", re.sub(r"\{[a-z_]+_id\}", DUMMY, path))


@pytest.mark.parametrize("who", [None, *[r.value for r in Role]])
def test_every_route_with_every_role(app, client, who):
    if who:
        login(client, who)
    token = csrf(client)
    checked = 0
    for method, route in routes(app):
        if route.path in {"/logout", "/login"} and method == "POST":
            continue  # they change the session under test; covered in test_auth
        if route.path in OPENROSA_ROUTES:
            continue  # device logins, not sessions: see OPENROSA_ROUTES
        permission, needs_login = route_requirements(route)
        url = concrete(route.path)
        if method == "GET":
            r = client.get(url, follow_redirects=False)
        else:
            r = client.request(method, url, data={"csrf_token": token}, follow_redirects=False)
        if who is None and needs_login:
            expected = {303} if method == "GET" else {401}
            assert r.status_code in expected, (method, url, r.status_code)
            if method == "GET":
                assert r.headers["location"].startswith("/login")
        elif permission is not None and not has_permission(who, permission):
            assert r.status_code == 403, (who, method, url, r.status_code)
        else:
            assert r.status_code not in {401, 403}, (who, method, url, r.status_code)
            assert r.status_code < 500, (who, method, url, r.status_code)
        checked += 1
    assert checked >= 12


def test_every_unsafe_route_is_csrf_protected(app, client):
    login(client, "admin")
    for method, route in routes(app):
        if method == "GET" or getattr(route.endpoint, "csrf_exempt", False):
            continue
        r = client.request(method, concrete(route.path), data={}, follow_redirects=False)
        assert r.status_code == 403, (method, route.path, r.status_code)
        assert "expired" in r.text or "csrf" in r.text.lower()


def test_every_page_sends_security_headers(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"  # no URL goes to another site; Origin stays real

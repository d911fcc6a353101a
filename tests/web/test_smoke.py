import re

from tests.conftest import login


def test_home_and_form_render(client):
    assert client.get("/").status_code == 200
    r = client.get("/intake?lang=fa_AF")
    assert r.status_code == 200
    assert 'dir="rtl"' in r.text
    # No inline script (the CSP forbids it): only the form's own file, from /static.
    assert re.findall(r"<script[^>]*>", r.text) == ['<script src="/static/form.js" defer>']


def test_login_and_queue(client):
    login(client, "caseworker")
    r = client.get("/cases")
    assert r.status_code == 200

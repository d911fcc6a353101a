"""The partner's side: `amanat referral keygen` and `amanat referral decrypt`, with no database."""

from __future__ import annotations

import json
import stat

from typer.testing import CliRunner

from amanat.cli.main import app
from amanat.core import crypto

runner = CliRunner()


def test_keygen_then_decrypt_a_packet(tmp_path):
    key = tmp_path / "partner.key"
    made = runner.invoke(app, ["referral", "keygen", "--private-key", str(key)])
    assert made.exit_code == 0, made.output
    public = made.stdout.strip().splitlines()[0]
    assert public.startswith("amanat-pk1:") and stat.S_IMODE(key.stat().st_mode) == 0o600
    again = runner.invoke(app, ["referral", "keygen", "--private-key", str(key)])
    assert again.exit_code == 1 and "refusing" in again.output
    packet = tmp_path / "referral.json.amanat"
    body = json.dumps({"record": {"full_name": "محمد نبی"}}, ensure_ascii=False).encode()
    packet.write_bytes(crypto.seal_to_recipient(crypto.parse_public_key(public), body, content="referral.json"))
    out = tmp_path / "referral.json"
    opened = runner.invoke(app, ["referral", "decrypt", str(packet), "--key", str(key), "-o", str(out)])
    assert opened.exit_code == 0, opened.output
    assert json.loads(out.read_text(encoding="utf-8"))["record"]["full_name"] == "محمد نبی"
    other = tmp_path / "other.key"
    runner.invoke(app, ["referral", "keygen", "--private-key", str(other)])
    wrong = runner.invoke(app, ["referral", "decrypt", str(packet), "--key", str(other)])
    assert wrong.exit_code == 1 and "did not open" in wrong.output and "Traceback" not in wrong.output


def test_decrypt_an_export_sealed_with_a_passphrase(tmp_path, monkeypatch):
    blob = crypto.seal_with_passphrase("a long export passphrase", b"case_number\r\nC-000001\r\n",
                                       content="export.csv", time_cost=1, memory_kib=64)
    path = tmp_path / "export.csv.amanat"
    path.write_bytes(blob)
    monkeypatch.setenv("AMANAT_EXPORT_PASSPHRASE", "a long export passphrase")
    opened = runner.invoke(app, ["referral", "decrypt", str(path)])
    assert opened.exit_code == 0 and "C-000001" in opened.stdout
    monkeypatch.setenv("AMANAT_EXPORT_PASSPHRASE", "not the passphrase at all")
    wrong = runner.invoke(app, ["referral", "decrypt", str(path)])
    assert wrong.exit_code == 1 and "Wrong passphrase" in wrong.output


def test_keygen_with_force_leaves_the_private_key_readable_by_its_owner_only(tmp_path):
    key = tmp_path / "partner.key"
    key.write_text("old\n", encoding="ascii")
    key.chmod(0o644)
    made = runner.invoke(app, ["referral", "keygen", "--private-key", str(key), "--force"])
    assert made.exit_code == 0, made.output
    assert key.stat().st_mode & 0o777 == 0o600 and key.read_text(encoding="ascii") != "old\n"

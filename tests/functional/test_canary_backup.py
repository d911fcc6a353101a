"""The canary, backed up while the server runs, verified and restored: it is on no disk in clear on the way.

As in test_canary.py: one form with a unique name (Latin and Dari) and tazkira number goes through a real
`amanat serve` and its worker. While the server still runs, `amanat backup` seals the database to a backup
key made by `amanat backup keygen`; then `amanat backup verify` and `amanat restore` (into a fresh data dir)
open it with the private key. The canary is in no byte of the backup file, of the commands' TMPDIR (where a
verify's decrypted copy lives for a moment), of the restored data dir or of the log; and yet the restored
organisation finds the canary by name and decrypts it with its passphrase, so the backup really holds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amanat.config import Settings
from amanat.records.models import Record
from amanat.records.search_index import records_by_name
from tests.functional import server as srv
from tests.functional.test_canary import TO_PERSIAN, find, make_canary, needles, scan_files, tree


@pytest.mark.slow
def test_canary_backed_up_verified_and_restored_leaves_nothing_on_disk(tmp_path: Path) -> None:
    canary = make_canary()
    wanted = needles(canary)
    srv.init(tmp_path)
    offline = tmp_path / "offline"  # where the office keeps the backup key's private half
    offline.mkdir()
    keygen = srv.cli(tmp_path, "backup", "keygen", "--private-key", str(offline / "backup.key"))
    assert keygen.returncode == 0, keygen.stderr
    public = keygen.stdout.strip().split("=", 1)[1]
    backups = tmp_path / "backups"
    backups.mkdir()
    backup = backups / "office.backup"

    server = srv.start(tmp_path)
    try:
        with srv.browser(server) as applicant:
            r = srv.submit(applicant, {
                "full_name": canary["dari"], "full_name_latin": canary["latin"], "father_name": "عبدالرحمن",
                "service_branch": "ana_soc", "consent": "yes", "gender": "male", "province": "AF01",
                "tazkira_number": canary["tazkira"].translate(TO_PERSIAN)}, {})
            assert r.status_code == 201, r.text
        srv.wait_until(lambda: server.counts().get("stored", 0) == 1, 30,
                       f"the worker did not store the canary:\n{server.tail()}")
        # While the server runs: SQLite's online backup takes a consistent copy beside its writers.
        made = srv.cli(tmp_path, "backup", "--out", str(backup), extra_env={"AMANAT_BACKUP_PUBLIC_KEY": public})
        assert made.returncode == 0, made.stderr
    finally:
        server.stop()

    key = str(offline / "backup.key")
    verified = srv.cli(tmp_path, "backup", "verify", str(backup), "--key", key)
    assert verified.returncode == 0, verified.stderr
    restored_dir = tmp_path / "restored"
    restored = srv.cli(tmp_path, "restore", str(backup), "--key", key, extra_env={"AMANAT_DATA_DIR": str(restored_dir)})
    assert restored.returncode == 0, restored.stderr

    assert find(backup.read_bytes(), wanted) == [], "the canary is in the backup file"
    assert [p.name for p in tree(backups)] == ["office.backup"]  # no partial file, no clear copy beside it
    assert scan_files(tree(tmp_path / "tmp"), wanted) == {}, "the canary is in the commands' TMPDIR"
    assert scan_files(tree(restored_dir), wanted) == {}, "the canary is in the restored data dir"
    assert find(server.log.read_bytes(), wanted) == [], "the canary is in the output"
    assert not any(p.name.endswith((".restoring", ".partial")) for p in tree(tmp_path))

    # The restored organisation holds the canary: found by name, opened with the passphrase.
    from amanat.cli.organisation import open_organisation

    settings = Settings(environment="test", data_dir=restored_dir, kdf_time_cost=1, kdf_memory_kib=64)
    database = open_organisation(settings, passphrase=srv.PASSPHRASE)
    try:
        with database.reading() as db:
            found = records_by_name(db, database.keys, canary["latin"])
            names = [db.get(Record, record_id).display_name for record_id in found]  # type: ignore[union-attr]
    finally:
        database.dispose()
    assert canary["dari"] in names or canary["latin"] in names, names

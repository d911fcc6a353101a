"""Exports: 10,000 cases to an encrypted XLSX and 100 case packets to encrypted PDFs, against a plain openpyxl write.

    .venv/bin/python bench/exports.py --quick              # 1,000 cases, 10 packets: to try things
    .venv/bin/python bench/exports.py                      # 10,000 cases, 100 packets
    .venv/bin/python bench/exports.py --out bench/results  # the figures to keep

A synthetic population (bench/synth.py) is stored as cases in a fresh SQLite database (records encrypted, as
the worker stores them). Then each measurement runs in a fresh process, so its peak memory (ru_maxrss) is its
own: Amanat's export of 12 fields of every case (rows read and decrypted, the in-memory XLSX writer, sealed
to a partner's X25519 key — and to a passphrase, argon2id at production cost), the same export as CSV, the
peer (the same rows written by openpyxl in write-only mode, unencrypted, to memory), and N case packets
rendered to PDF in Dari (HarfBuzz shaping) and sealed. Each process reports wall time, its peak RSS before the
measured step (imports, keys) and after it; the "rows only" process gives the cost every variant shares
(reading and decrypting the cases).
Writes exports.json to /tmp/amanat-bench/ unless --out names another folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from linkage_households import commit, machine  # noqa: E402

SCRATCH = Path("/tmp/amanat-bench")
PASSPHRASE = "bench passphrase, synthetic data only"
FIELDS = ("case_number", "status", "province_name", "channel", "opened_on", "full_name", "father_name",
          "date_of_birth", "phone", "whatsapp_phone", "country_of_refuge", "current_city")


def build(path: Path, cases: int) -> None:
    """A database with ``cases`` people, one record and one case each."""
    from synth import generate_population

    from amanat.cases.service import open_case
    from amanat.core import crypto, migrate
    from amanat.core.audit import SYSTEM
    from amanat.core.db import Database
    from amanat.core.keystore import save_keystore
    from amanat.normalize.record import normalize_record
    from amanat.records.models import Person, Record

    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    keystore = crypto.create_keystore(PASSPHRASE, time_cost=1, memory_kib=64)
    database = Database(url, crypto.KeyHolder(), synchronous="NORMAL")
    with database.transaction() as db:
        save_keystore(db, keystore, "Bench")
    database.keys.set(crypto.unlock(keystore, PASSPHRASE))
    rows = generate_population(cases, seed=18, dup_rate=0.0)[:cases]
    for start in range(0, len(rows), 1000):
        with database.transaction() as db:
            for fields in rows[start:start + 1000]:
                data = {k: v for k, v in fields.items() if k not in ("record_id", "person_id")}
                person = Person()
                db.add(person)
                db.flush()
                db.add(Record(person_id=person.id, channel="web", form_version="1", data=data,
                              normalized=normalize_record(data).to_dict(), provenance={}, province_pcode="AF01"))
                db.flush()
                open_case(db, SYSTEM, person.id)
    database.dispose()


# One measured process: opens the database, runs one mode, prints {"seconds", "peak_rss_mib", ...}.
_RUN = r"""
import io, json, os, resource, sys, time
sys.path.insert(0, os.environ["BENCH_ROOT"])
from sqlalchemy import select
from amanat.cases.models import Case
from amanat.core import crypto
from amanat.core.db import Database
from amanat.core.keystore import load_keystore
from amanat.export import service as ex
database = Database(os.environ["BENCH_URL"], crypto.KeyHolder(), synchronous="NORMAL")
with database.reading() as db:
    keystore = load_keystore(db)
database.keys.set(crypto.unlock(keystore, os.environ["BENCH_PASSPHRASE"]))
mode, fields = os.environ["BENCH_MODE"], tuple(os.environ["BENCH_FIELDS"].split(","))
public, _secret = crypto.generate_recipient_keypair()
out = {"rss_before_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
with database.reading() as db:
    ids = list(db.scalars(select(Case.id).order_by(Case.number)))
    start = time.perf_counter()
    if mode == "packets":
        from amanat.cases import pathways as pw
        from amanat.export.packet import case_packet
        from amanat.export.pdf import render_packet_pdf
        cat = pw.load_catalog()
        n, size = int(os.environ["BENCH_PACKETS"]), 0
        for cid in ids[:n]:
            pdf = render_packet_pdf(case_packet(db, db.get(Case, cid), cat, lang="fa_AF"), lang="fa_AF",
                                    gettext=str)
            size += len(crypto.seal_to_recipient(crypto.parse_public_key(public), pdf, content="p.pdf"))
        out.update(packets=n, bytes=size)
    else:
        sel = ex.Selection(tuple(ids), fields, "csv" if mode == "csv_sealed" else "xlsx", True)
        if mode == "rows_only":
            out["rows"] = sum(1 for _ in ex.iter_rows(db, sel))
        elif mode == "openpyxl_plain":
            import openpyxl
            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet("Export")
            ws.append(list(fields))
            for row in ex.iter_rows(db, sel):
                ws.append(row)
            buf = io.BytesIO()
            wb.save(buf)
            out["bytes"] = len(buf.getvalue())
        else:
            plain = ex.build_file(db, sel)
            if mode == "xlsx_passphrase":
                blob = crypto.seal_with_passphrase(os.environ["BENCH_PASSPHRASE"], plain, content="x.xlsx")
            else:
                blob = crypto.seal_to_recipient(crypto.parse_public_key(public), plain, content="x")
            out["bytes"] = len(blob)
    out["seconds"] = round(time.perf_counter() - start, 3)
out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""

MODES = {
    "rows_only": "reading and decrypting the rows (shared by every variant)",
    "xlsx_sealed": "Amanat: XLSX in memory, sealed to a partner's X25519 key",
    "xlsx_passphrase": "Amanat: XLSX in memory, sealed to a passphrase (argon2id 64 MiB, t=3)",
    "csv_sealed": "Amanat: CSV, sealed to a partner's X25519 key",
    "openpyxl_plain": "peer: openpyxl write-only workbook, unencrypted, to memory (its sheets spool via TMPDIR)",
    "packets": "Amanat: case packet PDFs in Dari (fpdf2 + HarfBuzz), each sealed",
}


def run(url: str, mode: str, packets: int) -> dict[str, Any]:
    env = {**os.environ, "BENCH_URL": url, "BENCH_PASSPHRASE": PASSPHRASE, "BENCH_MODE": mode,
           "BENCH_FIELDS": ",".join(FIELDS), "BENCH_PACKETS": str(packets), "BENCH_ROOT": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--packets", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="1,000 cases and 10 packets")
    ap.add_argument("--out", type=Path, default=SCRATCH)
    args = ap.parse_args()
    if args.quick:
        args.cases, args.packets = 1_000, 10
    with tempfile.TemporaryDirectory(prefix="amanat-bench-exports-") as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        build(path, args.cases)
        built = round(time.perf_counter() - t0, 1)
        results = {}
        for mode, what in MODES.items():
            res = run(f"sqlite:///{path}", mode, args.packets)
            res["what"] = what
            results[mode] = res
            print(f"{mode:16} {res['seconds']:8.2f} s  peak {res['peak_rss_mib']:7.1f} MiB  {what}")
    rows = results["rows_only"]["seconds"]
    summary = {
        "cases": args.cases, "fields": list(FIELDS), "packets": args.packets, "build_seconds": built,
        "results": results,
        "xlsx_sealed_vs_openpyxl_plain": round(results["xlsx_sealed"]["seconds"]
                                               / results["openpyxl_plain"]["seconds"], 2),
        "writer_only_seconds": {m: round(results[m]["seconds"] - rows, 2)
                                for m in ("xlsx_sealed", "csv_sealed", "openpyxl_plain")},
        "seconds_per_packet": round(results["packets"]["seconds"] / max(1, args.packets), 3),
        "machine": machine(), **commit(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "exports.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out / 'exports.json'}")


if __name__ == "__main__":
    main()

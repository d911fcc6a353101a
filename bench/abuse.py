"""Intake under attack: while N clients post the public form, a referrer uploads each bomb and an attacker
sprays failed sign-ins from 40 addresses. Intake's p99 is compared with a run without the attack on the same
server, every answer of 500 or more is counted (all clients, attackers included), and the server's memory
(its processes' resident sets, sampled every 0.2 s) is compared with a stated cap.

    .venv/bin/python bench/abuse.py                         # 10 clients, 15 s a phase; /tmp/amanat-bench/abuse.json
    .venv/bin/python bench/abuse.py --out bench/results     # the same, updating the committed figures
    .venv/bin/python bench/abuse.py --clients 50 --duration 30 --cap-mib 1024

Four phases of ``--duration`` each on one server: no attack, the bombs, the sign-in spray, both.

The bombs, each small on the wire: a WhatsApp zip of newlines (one message, then 120 MiB of newlines), a CSV
of 60,000 rows (over the row limit), an XLSX whose sheet unpacks to 70 MB (past the unpacked limit), and an
ODK zip whose photo unpacks to 100 MiB. They are uploaded in a loop (the per-account import quota answers 429 once it is
spent, as it would for a real attacker). The sign-in spray sends X-Forwarded-For from 40 addresses through
127.0.0.1, configured as the trusted proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
from intake import (
    Server,
    _children,
    amanat_command,
    amanat_env,
    free_port,
    make_bodies,
    percentile,
    run_load,
    wait_ready,
)
from provenance import add_out, result_path, write_json

REFERRER_PASSWORD = "Tulip-Kabul-9371-harbour"


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def bombs() -> list[tuple[str, str, str, bytes]]:
    """(route, form field, file name, bytes) of each bomb."""
    chat = b"28/04/2021, 10:00 - Ali: Name: Testa Bomb\n" + b"\n" * (120 << 20)
    rows = b"full_name,tazkira_number\n" + b"".join(b"Testa %d,1399-0000-%05d\n" % (i, i % 99999)
                                                     for i in range(60_000))
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b"<sheetData>" + b"<row><c><v>1</v></c></row>" * 2_600_000 + b"</sheetData></worksheet>")
    xlsx = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                 "xl/worksheets/sheet1.xml": sheet})
    odk = _zip({"i/submission.xml": b'<data id="x" version="1"><meta><instanceID>uuid:0</instanceID></meta></data>',
                "i/photo.jpg": b"\xff\xd8\xff" + bytes(100 << 20)})
    return [("/imports/whatsapp", "export", "chat.zip", _zip({"WhatsApp Chat with Bomb.txt": chat})),
            ("/imports/table", "table", "rows.csv", rows), ("/imports/table", "table", "sheet.xlsx", xlsx),
            ("/imports/odk", "instances", "photos.zip", odk)]


def start(root: Path, env: dict[str, str]) -> Server:
    """`amanat init` + `amanat serve` as bench/intake.py starts them, with this bench's environment."""
    init = subprocess.run([*amanat_command(), "init", "--organisation", "Bench"], env=env, capture_output=True,
                          timeout=120, check=False)
    if init.returncode != 0:
        raise RuntimeError(f"amanat init failed: {init.stderr.decode(errors='replace')[-2000:]}")
    port = free_port()
    log = root / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([*amanat_command(), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("amanat", port, proc, root, log)
    wait_ready(f"{server.url}/healthz", proc, log)
    return server


def rss_mib(server: Server) -> float:
    total = 0
    for pid in [server.proc.pid, *_children(server.proc.pid)]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def sample_memory(server: Server, until: float, peaks: list[float]) -> None:
    while time.monotonic() < until:
        peaks.append(rss_mib(server))
        await asyncio.sleep(0.2)


_BOMBS: list[tuple[str, str, str, bytes]] = []  # built once, before the clock starts (compressing takes seconds)


async def referrer(server: Server, until: float, statuses: dict[str, int], sizes: dict[str, int]) -> None:
    payloads = _BOMBS
    for _route, _field, name, data in payloads:
        sizes[name] = len(data)
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as s:
        await s.get("/login")
        r = await s.post("/login", data={"username": "bench-referrer", "password": REFERRER_PASSWORD,
                                          "csrf_token": s.cookies["amanat_csrf"], "next": "/"})
        statuses[f"login_{r.status_code}"] = statuses.get(f"login_{r.status_code}", 0) + 1
        await s.get("/imports")  # the form token of the signed-in session
        i = 0
        while time.monotonic() < until:
            route, field, name, data = payloads[i % len(payloads)]
            i += 1
            extra: dict[str, str] = {"consent_basis": "paper_intermediary"}  # a stated basis, as an importer must
            if route.endswith("whatsapp"):
                extra["intermediary"] = "Bench"
            try:
                r = await s.post(route, data={"csrf_token": s.cookies.get("amanat_csrf", ""), **extra},
                                 files={field: (name, data, "application/octet-stream")})
                key = f"{name}:{r.status_code}"
            except httpx.HTTPError as exc:
                key = f"{name}:{type(exc).__name__}"
            statuses[key] = statuses.get(key, 0) + 1


async def spray(server: Server, until: float, statuses: dict[str, int]) -> None:
    async def one(address: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=60,
                                     headers={"x-forwarded-for": f"203.0.113.{address + 1}"}) as s:
            await s.get("/login")
            n = 0
            while time.monotonic() < until:
                n += 1
                try:
                    r = await s.post("/login", data={"username": f"caseworker{n % 7}", "password": f"guess-{n}",
                                                      "csrf_token": s.cookies.get("amanat_csrf", ""), "next": "/"})
                    key = f"login:{r.status_code}"
                except httpx.HTTPError as exc:
                    key = f"login:{type(exc).__name__}"
                statuses[key] = statuses.get(key, 0) + 1

    await asyncio.gather(*(one(a) for a in range(40)))


def summary(samples: list[Any]) -> dict[str, Any]:
    lat = sorted(s.latency * 1000 for s in samples)
    return {"requests": len(lat), "created": sum(1 for s in samples if s.status == 201),
            "p50_ms": round(percentile(lat, 0.50), 1), "p99_ms": round(percentile(lat, 0.99), 1),
            "server_errors": sum(1 for s in samples if s.status >= 500)}


async def phase(server: Server, *, clients: int, duration: float, bombs_on: bool = False,
                spray_on: bool = False) -> dict[str, Any]:
    bodies = make_bodies(7, 200, 20, 60)
    until = time.monotonic() + duration + 1.0
    peaks: list[float] = []
    statuses: dict[str, int] = {}
    sizes: dict[str, int] = {}
    tasks = [sample_memory(server, until + 2, peaks)]
    if bombs_on:
        tasks.append(referrer(server, until, statuses, sizes))
    if spray_on:
        tasks.append(spray(server, until, statuses))
    load_task = run_load(server, bodies, clients=clients, duration=duration, warmup=1.0)
    load, *_ = await asyncio.gather(load_task, *tasks)
    out = {"intake": summary(load.samples), "intake_errors": load.errors, "rss_peak_mib": round(max(peaks), 1)}
    if bombs_on or spray_on:
        out["attack_answers"] = statuses
        out["bomb_sizes_bytes"] = sizes
        out["attack_server_errors"] = sum(n for k, n in statuses.items() if k.rsplit(":", 1)[-1].startswith("5"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--cap-mib", type=float, default=1024.0, help="the memory cap the server must stay under")
    add_out(parser, "abuse")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="amanat-abuse-"))
    env = amanat_env(root)
    env["AMANAT_TRUSTED_PROXIES"] = '["127.0.0.1"]'  # the spray's X-Forwarded-For names 40 addresses
    server = start(root, env)
    try:
        add = subprocess.run([*amanat_command(), "users", "add", "bench-referrer", "--role", "referrer"],
                             env={**env, "AMANAT_NEW_PASSWORD": REFERRER_PASSWORD}, capture_output=True, timeout=120,
                             check=False)
        if add.returncode != 0:
            print(add.stderr.decode(errors="replace")[-2000:], file=sys.stderr)
            return 1
        _BOMBS.extend(bombs())
        kw = {"clients": args.clients, "duration": args.duration}
        quiet = asyncio.run(phase(server, **kw))
        phases = {"bombs": asyncio.run(phase(server, **kw, bombs_on=True)),
                  "login_spray": asyncio.run(phase(server, **kw, spray_on=True)),
                  "both": asyncio.run(phase(server, **kw, bombs_on=True, spray_on=True))}
    finally:
        server.stop()
    base = quiet["intake"]["p99_ms"]
    report: dict[str, Any] = {"clients": args.clients, "duration_s": args.duration, "cap_mib": args.cap_mib,
                              "no_attack": quiet, **phases, "machine": {"cpus": os.cpu_count()}, "checks": {}}
    for name, result in phases.items():
        hit = result["intake"]["p99_ms"]
        result["p99_ratio"] = round(hit / base, 2) if base else None
        report["checks"][name] = {
            "p99_within_2x": bool(base and hit <= 2 * base),
            "zero_5xx": result["intake"]["server_errors"] + result["attack_server_errors"] == 0,
            "memory_under_cap": result["rss_peak_mib"] < args.cap_mib}
    path = write_json(result_path(args.out, "abuse.json"), report)
    print(path)
    print({"p99_no_attack_ms": base, **{n: (r["intake"]["p99_ms"], r["rss_peak_mib"]) for n, r in phases.items()}},
          report["checks"])
    return 0 if all(all(c.values()) for c in report["checks"].values()) else 2


if __name__ == "__main__":
    sys.exit(main())

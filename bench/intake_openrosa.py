"""OpenRosa submissions per second: concurrent ODK-Collect-like clients (Digest auth, multipart POST of an
XForm instance with a photo) against a real `amanat serve`, with acknowledged vs stored counts.

Peer in the same run: the same server answering `HEAD /submission` with Digest auth (routing + auth, no body,
no storage): the floor any submission pays, so the ratio survives a noisy machine.

    .venv/bin/python bench/intake_openrosa.py [--clients 20] [--duration 15]

Writes bench/results/intake_openrosa.json and .png. Synthetic data only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import intake as web_bench
from provenance import add_out, write_json


def device_login(server_root: Path) -> tuple[str, str]:
    env = web_bench.amanat_env(server_root)
    env["AMANAT_NEW_PASSWORD"] = "bench-referrer-password"
    cmd = web_bench.amanat_command()
    subprocess.run([*cmd, "users", "add", "collector", "--role", "referrer"], env=env, check=True,
                   capture_output=True, timeout=120)
    out = subprocess.run([*cmd, "users", "device-add", "collector"], env=env, check=True, capture_output=True,
                         timeout=120).stdout.decode()
    user = re.search(r"username: (\S+)", out)
    password = re.search(r"password: (\S+)", out)
    assert user and password, "device-add printed no login"
    return user.group(1), password.group(1)


def instance_xml(form_id: str, version: str, rng: random.Random) -> tuple[str, bytes]:
    iid = f"uuid:{uuid.UUID(int=rng.getrandbits(128))}"
    fields = {"full_name": rng.choice(["محمد نبی", "احمد شاه", "گل آغا", "نجیب‌الله"]),
              "father_name": rng.choice(["عبدالله", "غلام حیدر", "خان محمد"]), "service_branch": "ana",
              "date_of_birth": str(rng.randint(1340, 1380)), "consent": "yes", "doc_tazkira": "photo.jpg",
              "tazkira_number": f"{rng.randint(1390, 1402)}-{rng.randint(0, 9999):04d}-{rng.randint(0, 99999):05d}"}
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    xml = (f'<?xml version="1.0"?><data id="{form_id}" version="{version}">{body}'
           f"<meta><instanceID>{iid}</instanceID></meta></data>")
    return iid, xml.encode()


async def load(url: str, auth: httpx.DigestAuth, *, clients: int, duration: float, form_id: str, version: str,
               head_only: bool) -> dict[str, Any]:
    latencies: list[float] = []
    acknowledged: list[str] = []
    errors: dict[str, int] = {}
    stop_at = time.monotonic() + duration

    async def client(n: int) -> None:
        rng = random.Random(n)
        photo = b"\xff\xd8\xff\xe0" + rng.randbytes(60_000)
        async with httpx.AsyncClient(auth=auth, timeout=30.0, headers={"X-OpenRosa-Version": "1.0"}) as http:
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                if head_only:
                    r = await http.head(f"{url}/submission")
                    ok = r.status_code == 204
                else:
                    iid, xml = instance_xml(form_id, version, rng)
                    r = await http.post(f"{url}/submission", files={
                        "xml_submission_file": ("submission.xml", xml, "text/xml"),
                        "photo.jpg": ("photo.jpg", photo, "image/jpeg")})
                    ok = r.status_code == 201
                    if ok:
                        acknowledged.append(iid)
                latencies.append((time.perf_counter() - t0) * 1000)
                if not ok:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1

    start = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.monotonic() - start
    lat = sorted(latencies)

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else float("nan")

    return {"requests": len(lat), "per_second": round(len(lat) / elapsed, 1), "acknowledged": len(acknowledged),
            "acknowledged_ids": acknowledged, "latency_ms": {"p50": pct(0.5), "p99": pct(0.99)}, "errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=15.0)
    add_out(parser, "intake_openrosa")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="amanat-openrosa-bench-"))
    server = web_bench.start_amanat(root)
    try:
        user, password = device_login(root)
        auth = httpx.DigestAuth(user, password)
        form_list = httpx.get(f"{server.url}/formList", auth=auth, headers={"X-OpenRosa-Version": "1.0"})
        form_id = re.search(r"<formID>([^<]+)</formID>", form_list.text)
        version = re.search(r"<version>([^<]+)</version>", form_list.text)
        assert form_id and version, f"form list without a form: {form_list.status_code}"
        peer = asyncio.run(load(server.url, auth, clients=args.clients, duration=args.duration,
                                form_id=form_id.group(1), version=version.group(1), head_only=True))
        amanat = asyncio.run(load(server.url, auth, clients=args.clients, duration=args.duration,
                                  form_id=form_id.group(1), version=version.group(1), head_only=False))
    finally:
        server.stop()
    con = sqlite3.connect(root / "data" / "amanat.db")
    stored = {row[0] for row in con.execute("SELECT instance_id FROM submissions WHERE channel = 'openrosa'")}
    con.close()
    ids = set(amanat.pop("acknowledged_ids"))
    peer.pop("acknowledged_ids")
    report = {
        "bench": "intake_openrosa", "command": "python bench/intake_openrosa.py",
        "config": {"clients": args.clients, "duration_s": args.duration, "photo_bytes": 60_004,
                   "auth": "Digest (httpx.DigestAuth)", "server": "amanat serve, SQLite WAL synchronous=FULL"},
        "machine": {"cpus": 2, "python": platform.python_version(), "load_average": list(os.getloadavg())},
        "amanat_post_submission": amanat,
        "peer": {"name": "head_submission_digest", "what": "HEAD /submission with Digest auth on the same server",
                 **peer},
        "ratio_post_over_peer": round(amanat["per_second"] / peer["per_second"], 3) if peer["per_second"] else None,
        "acknowledged_equals_stored": ids <= stored, "acknowledged": len(ids), "stored_openrosa_rows": len(stored),
    }
    write_json(args.out / "intake_openrosa.json", report, ensure_ascii=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    names = ["HEAD /submission\n(peer: auth floor)", "POST /submission\n(form + photo)"]
    ax.bar(names, [peer["per_second"], amanat["per_second"]], color=["#9aa3b2", "#0f5c4d"])
    ax.set_ylabel("requests per second")
    ax.set_title(f"OpenRosa intake, {args.clients} clients (p99 POST {amanat['latency_ms']['p99']} ms)")
    fig.tight_layout()
    fig.savefig(args.out / "intake_openrosa.png", dpi=110)
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=1, ensure_ascii=False))
    return 0 if report["acknowledged_equals_stored"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Sealed web intake under load: many concurrent clients posting the form with a photo to a real server.

    .venv/bin/python bench/intake.py                 # 50 clients, 20 s; writes /tmp/amanat-bench/intake.{json,png}
    .venv/bin/python bench/intake.py --out bench/results   # the same, updating the committed figures
    .venv/bin/python bench/intake.py --clients 100 --duration 30
    .venv/bin/python bench/intake.py --workers 2 --out bench/results/intake_workers2   # amanat serve --workers 2

The bench starts `amanat init` + `amanat serve` in a subprocess on a free port with a fresh data dir
(the embedded default: SQLite WAL, synchronous=FULL, the worker thread inside the server), and drives it
with httpx async clients, each with its own cookie jar and CSRF token, each posting a synthetic form and a
50–200 KB JPEG. It reports submissions per second and latency, then waits for the worker to drain and
reports its rate separately, then stops the server and counts the submissions table: every receipt
handed out must be there, and the number of rows must equal the number of receipts.

The named peer, run on the same machine in the same run with the same clients and bodies, is a bare
Starlette app under uvicorn that accepts the same multipart POST (with the same double-submit cookie
check) and discards it: the cost of HTTP and multipart alone. The ratio amanat/peer survives a noisy
machine better than either number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from provenance import add_out, write_json

RECEIPT = re.compile(r"AM-[0-9A-Z]{4}-[0-9A-Z]{4}")
PASSPHRASE = "bench passphrase, synthetic data only"
HEALTH_TOKEN = "bench-monitor-token"  # /healthz/details (queue counts); /healthz says only "ok"
PEER_NAME = "starlette_multipart_sink"
GOAL_RPS = 300.0
GOAL_P99_MS = 250.0

# Synthetic applicants: common Afghan names in Dari script with a Latin spelling; no real person. Drawn at
# random with a year of birth, so that, as in real intake, some people share a name and most do not.
FIRST = [("احمد", "Ahmad"), ("محمود", "Mahmood"), ("عبدالله", "Abdullah"), ("نجیب", "Najib"), ("فرید", "Farid"),
         ("شفیق", "Shafiq"), ("حمید", "Hamid"), ("رحیم", "Rahim"), ("کریم", "Karim"), ("جاوید", "Javid"),
         ("ضیا", "Zia"), ("نصیر", "Nasir"), ("بشیر", "Bashir"), ("قدیر", "Qadir"), ("ولی", "Wali"),
         ("سمیع", "Sami"), ("رسول", "Rasul"), ("هارون", "Harun"), ("یوسف", "Yusuf"), ("ادریس", "Idris"),
         ("شریف", "Sharif"), ("لطیف", "Latif"), ("منصور", "Mansur"), ("ظاهر", "Zahir"), ("امین", "Amin"),
         ("عزیز", "Aziz"), ("حکیم", "Hakim"), ("رشید", "Rashid"), ("مجید", "Majid"), ("سلیم", "Salim")]
FAMILY = [("احمدزی", "Ahmadzai"), ("کاکړ", "Kakar"), ("صافی", "Safi"), ("پوپلزی", "Popalzai"), ("نورزی", "Noorzai"),
          ("محمدی", "Mohammadi"), ("هاشمی", "Hashimi"), ("رحیمی", "Rahimi"), ("کریمی", "Karimi"),
          ("عثمانی", "Usmani"), ("سادات", "Sadat"), ("وردک", "Wardak"), ("شینواری", "Shinwari"),
          ("مومند", "Mohmand"), ("ستانکزی", "Stanikzai"), ("جلالی", "Jalali")]
BRANCHES = ["ana", "ana_soc", "ksf", "anp", "aaf", "nds"]
PROVINCES = ["AF01", "AF02", "AF03", "AF04", "AF05", "AF06"]


# --- the servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def amanat_command() -> list[str]:
    script = Path(sys.executable).with_name("amanat")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from amanat.cli.main import app; app(prog_name='amanat')"]


@dataclass
class Server:
    """A server subprocess with its own data dir, TMPDIR and log file."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    root: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """utime + stime of the server process and its live children (serve --workers) so far (Linux /proc)."""
        total = 0.0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                if pid == self.proc.pid:
                    return float("nan")
        return total

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly, the worker thread stops
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def amanat_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMANAT_")}
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    env.update({"AMANAT_DATA_DIR": str(root / "data"), "AMANAT_INTAKE_POSTS_PER_MINUTE": "100000000",
                "AMANAT_INTAKE_BYTES_PER_DAY": "1000000000000", "AMANAT_PASSPHRASE": PASSPHRASE,
                "AMANAT_KDF_MEMORY_KIB": "64", "AMANAT_KDF_TIME_COST": "1", "TMPDIR": str(root / "tmp"),
                "AMANAT_HEALTH_TOKEN": HEALTH_TOKEN,
                "PYTHONUNBUFFERED": "1"})
    return env


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not come up:\n{log.read_text(errors='replace')[-3000:]}")


def start_amanat(root: Path, workers: int = 1) -> Server:
    env = amanat_env(root)
    init = subprocess.run([*amanat_command(), "init", "--organisation", "Bench"], env=env, capture_output=True,
                          timeout=120, check=False)
    if init.returncode != 0:
        raise RuntimeError(f"amanat init failed: {init.stderr.decode(errors='replace')[-2000:]}")
    port = free_port()
    log = root / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([*amanat_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server("amanat", port, proc, root, log)
    wait_ready(f"{server.url}/healthz", proc, log)
    return server


def start_peer(root: Path) -> Server:
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log = root / "peer.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve-peer", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(PEER_NAME, port, proc, root, log)
    wait_ready(f"{server.url}/intake", proc, log)
    return server


def serve_peer(port: int) -> None:
    """The peer: the same multipart POST, the same double-submit check, parsed, read and thrown away."""
    import secrets

    import uvicorn
    from starlette.applications import Starlette
    from starlette.datastructures import UploadFile
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def form_page(request: Request) -> HTMLResponse:
        response = HTMLResponse("<form method=post enctype=multipart/form-data></form>")
        if "amanat_csrf" not in request.cookies:
            response.set_cookie("amanat_csrf", secrets.token_urlsafe(24), httponly=True, samesite="strict")
        return response

    async def submit(request: Request) -> HTMLResponse:
        form = await request.form(max_files=20, max_fields=400)
        if form.get("csrf_token") != request.cookies.get("amanat_csrf"):
            return HTMLResponse("csrf", status_code=403)
        size = 0
        for _key, value in form.multi_items():
            if isinstance(value, UploadFile):
                size += len(await value.read())
        return HTMLResponse(f"<p>{'AM-PEER-' + secrets.token_hex(2).upper()}</p>", status_code=201)

    app = Starlette(routes=[Route("/intake", form_page, methods=["GET"]), Route("/intake", submit, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, proxy_headers=False)


# --- the bodies -------------------------------------------------------------------------------

def synthetic_jpeg(rng: random.Random, size: int) -> bytes:
    """A JPEG header (the server sniffs magic bytes) and random bytes to the given size."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return head + rng.randbytes(size - len(head) - 2) + b"\xff\xd9"


def multipart(boundary: str, fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> bytes:
    out: list[bytes] = []
    b = boundary.encode()
    for name, value in fields:
        out.append(b"--" + b + f'\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                   + value.encode("utf-8") + b"\r\n")
    for name, filename, data in files:
        out.append(b"--" + b + f'\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   "Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n")
    out.append(b"--" + b + b"--\r\n")
    return b"".join(out)


@dataclass
class Bodies:
    images: list[bytes]
    rng: random.Random
    serial: int = 0

    def next(self, csrf: str) -> tuple[bytes, str]:
        self.serial += 1
        n = self.serial
        rng = self.rng
        first, first_latin = rng.choice(FIRST)
        father, father_latin = rng.choice(FIRST)
        family, family_latin = rng.choice(FAMILY)
        fields = [("csrf_token", csrf), ("full_name", f"{first} {family}"),
                  ("full_name_latin", f"{first_latin} {family_latin}"), ("father_name", father),
                  ("father_name_latin", father_latin), ("gender", "male"),
                  ("date_of_birth", str(rng.randint(1340, 1380))),
                  ("province", rng.choice(PROVINCES)), ("service_branch", rng.choice(BRANCHES)),
                  ("rank", "Sergeant"), ("unit", "215th Corps"), ("country_of_refuge", "IR"),
                  ("tazkira_number", f"{1400 + n % 20}-{n // 100000 % 10000:04d}-{n % 100000:05d}"),
                  ("phone", f"+98 912 {n % 1000:03d} {n // 1000 % 10000:04d}"), ("consent", "yes")]
        boundary = f"amanatbench{n:012d}"
        body = multipart(boundary, fields, [("doc_tazkira", "tazkira.jpg", self.images[n % len(self.images)])])
        return body, f"multipart/form-data; boundary={boundary}"


def make_bodies(seed: int, count: int, min_kib: int, max_kib: int) -> Bodies:
    rng = random.Random(seed)
    images = [synthetic_jpeg(rng, rng.randint(min_kib * 1024, max_kib * 1024)) for _ in range(count)]
    return Bodies(images, rng)


# --- the load ---------------------------------------------------------------------------------

@dataclass
class Sample:
    started: float
    latency: float
    status: int
    receipt: str | None


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    window_start: float = 0.0
    window_end: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0


async def run_load(server: Server, bodies: Bodies, *, clients: int, duration: float, warmup: float) -> LoadResult:
    result = LoadResult()
    timeout = httpx.Timeout(60.0)
    sessions = [httpx.AsyncClient(base_url=server.url, timeout=timeout,
                                  limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
                for _ in range(clients)]
    try:
        for s in sessions:  # each client gets its own CSRF cookie, as a browser would
            r = await s.get("/intake")
            r.raise_for_status()
        tokens = [s.cookies["amanat_csrf"] for s in sessions]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        result.window_start = t0 + warmup
        result.window_end = result.window_start + duration
        cpu0, server_cpu0 = time.process_time(), None

        async def one_client(i: int) -> None:
            nonlocal server_cpu0
            s = sessions[i]
            while loop.time() < result.window_end:
                body, ctype = bodies.next(tokens[i])
                start = loop.time()
                try:
                    r = await s.post("/intake", content=body, headers={"content-type": ctype})
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                    result.errors[key] = result.errors.get(key, 0) + 1
                    continue
                end = loop.time()
                m = RECEIPT.search(r.text) if r.status_code == 201 else None
                result.samples.append(Sample(start, end - start, r.status_code, m.group(0) if m else None))
                if r.status_code != 201:
                    key = f"http_{r.status_code}"
                    result.errors[key] = result.errors.get(key, 0) + 1

        async def cpu_marks() -> None:
            nonlocal cpu0, server_cpu0
            await asyncio.sleep(max(0.0, result.window_start - loop.time()))
            cpu0, server_cpu0 = time.process_time(), server.cpu_seconds()
            await asyncio.sleep(max(0.0, result.window_end - loop.time()))
            result.client_cpu_s = time.process_time() - cpu0
            result.server_cpu_s = server.cpu_seconds() - server_cpu0

        await asyncio.gather(cpu_marks(), *(one_client(i) for i in range(clients)))
    finally:
        for s in sessions:
            await s.aclose()
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(load: LoadResult, duration: float) -> dict[str, Any]:
    """Throughput and latency of the requests that started inside the measurement window."""
    window = [s for s in load.samples if load.window_start <= s.started < load.window_end]
    ok = [s for s in window if s.status == 201 and s.receipt]
    lat = [s.latency * 1000 for s in ok]
    return {
        "window_s": duration,
        "requests": len(window),
        "acknowledged": len(ok),
        "per_second": round(len(ok) / duration, 1),
        "latency_ms": {"p50": round(percentile(lat, 0.50), 1), "p90": round(percentile(lat, 0.90), 1),
                       "p99": round(percentile(lat, 0.99), 1), "max": round(max(lat), 1) if lat else None,
                       "mean": round(statistics.fmean(lat), 1) if lat else None},
        "server_cpu_per_request_ms": round(load.server_cpu_s * 1000 / len(window), 2) if window else None,
        "server_cpu_cores": round(load.server_cpu_s / duration, 2),
        "client_cpu_cores": round(load.client_cpu_s / duration, 2),
    }


# --- draining and counting --------------------------------------------------------------------

def health(server: Server) -> dict[str, int]:
    r = httpx.get(f"{server.url}/healthz/details", timeout=30.0, headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    r.raise_for_status()
    return dict(r.json()["submissions"])


def wait_drained(server: Server, *, timeout: float, stall: float) -> dict[str, Any]:
    """Poll until nothing is sealed; give up after ``timeout`` or when nothing moved for ``stall`` seconds."""
    first = health(server)
    t0 = time.monotonic()
    last_change, last = t0, first
    trace: list[tuple[float, int]] = [(0.0, first.get("stored", 0) + first.get("failed", 0))]
    while True:
        counts = health(server)
        now = time.monotonic()
        done = counts.get("stored", 0) + counts.get("failed", 0)
        trace.append((round(now - t0, 2), done))
        if counts != last:
            last_change, last = now, counts
        if counts.get("sealed", 0) == 0:
            break
        if now - t0 > timeout or now - last_change > stall:
            break
        time.sleep(0.25)
    start_done = first.get("stored", 0) + first.get("failed", 0)
    end_done = last.get("stored", 0) + last.get("failed", 0)
    busy = (last_change - t0) or float("nan")
    processed = end_done - start_done
    return {"at_load_end": first, "at_drain_end": last, "processed_in_drain": processed,
            "drain_s": round(busy, 2), "drained": last.get("sealed", 0) == 0,
            "per_second": round(processed / busy, 1) if processed and busy == busy else 0.0,
            "trace": trace[:: max(1, len(trace) // 200)]}


def count_database(db_path: Path, receipts: set[str]) -> dict[str, Any]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        stored_receipts = {r[0] for r in con.execute("SELECT receipt FROM submissions")}
        by_status = dict(con.execute("SELECT status, count(*) FROM submissions GROUP BY status").fetchall())
        parts = con.execute("SELECT count(*) FROM submission_parts").fetchone()[0]
        records = con.execute("SELECT count(*) FROM records").fetchone()[0]
        events = dict(con.execute("SELECT action, count(*) FROM audit_events GROUP BY action").fetchall())
    finally:
        con.close()
    return {"rows": len(stored_receipts), "by_status": by_status, "parts": parts, "records": records,
            "receipts_returned": len(receipts), "receipts_missing": len(receipts - stored_receipts),
            "rows_without_receipt": len(stored_receipts - receipts),
            "submission_receive_events": events.get("submission:receive", 0),
            "equal": receipts == stored_receipts}


def disk_probe(folder: Path, blob_bytes: int, commits: int = 200) -> dict[str, Any]:
    """Bare sqlite3 on the same disk: one blob of the mean attachment size per transaction, WAL, one writer.

    This is the ceiling of one durable commit per submission on this machine, before any Python, HTTP or
    sealing: with synchronous=FULL each commit waits for an fsync of the WAL.
    """
    out: dict[str, Any] = {"blob_bytes": blob_bytes, "commits": commits}
    blob = os.urandom(blob_bytes)
    for sync in ("FULL", "NORMAL"):
        path = folder / f"probe-{sync}.db"
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(f"PRAGMA synchronous={sync}")
        con.execute("CREATE TABLE t (b BLOB)")
        times = []
        for _ in range(commits):
            t = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO t VALUES (?)", (blob,))
            con.execute("COMMIT")
            times.append(time.perf_counter() - t)
        con.close()
        ms = [x * 1000 for x in times]
        out[sync] = {"commits_per_second": round(len(times) / sum(times), 1), "p50_ms": round(percentile(ms, 0.5), 2),
                     "p99_ms": round(percentile(ms, 0.99), 2)}
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return out


# --- the run ----------------------------------------------------------------------------------

def plot(out: Path, amanat: LoadResult, peer: LoadResult, report: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for load, label, colour in ((amanat, "amanat POST /intake", "tab:blue"), (peer, PEER_NAME, "tab:grey")):
        lat = [s.latency * 1000 for s in load.samples
               if load.window_start <= s.started < load.window_end and s.status == 201]
        if lat:
            ax1.hist(lat, bins=60, alpha=0.6, label=label, color=colour)
    ax1.axvline(GOAL_P99_MS, color="tab:red", linestyle="--", label=f"goal p99 {GOAL_P99_MS:.0f} ms")
    ax1.set_xlabel("latency (ms)")
    ax1.set_ylabel("requests")
    ax1.set_title(f"Latency at {report['config']['clients']} concurrent clients")
    ax1.legend()
    bars = [("amanat intake", report["amanat"]["per_second"], "tab:blue"),
            (PEER_NAME, report["peer"]["per_second"], "tab:grey"),
            ("amanat worker (drain)", report["worker"]["per_second"], "tab:green")]
    ax2.bar([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars])
    ax2.axhline(GOAL_RPS, color="tab:red", linestyle="--", label=f"goal {GOAL_RPS:.0f}/s")
    for i, (_n, v, _c) in enumerate(bars):
        ax2.text(i, v, f"{v:.0f}/s", ha="center", va="bottom")
    ax2.set_ylabel("per second")
    ax2.set_title(f"Throughput ({report['machine']['cpus']} CPUs); ratio amanat/peer "
                  f"{report['ratio_to_peer']['throughput']:.2f}")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=1, help="amanat serve --workers (server processes)")
    ap.add_argument("--duration", type=float, default=20.0, help="measurement window, seconds")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of load before the window opens")
    ap.add_argument("--min-kib", type=int, default=50)
    ap.add_argument("--max-kib", type=int, default=200)
    ap.add_argument("--drain-timeout", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--no-peer", action="store_true", help="skip the peer (the ratio is then absent)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    add_out(ap, "intake")
    ap.add_argument("--serve-peer", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_peer:
        serve_peer(args.serve_peer)
        return 0

    root = Path(tempfile.mkdtemp(prefix="amanat-bench-"))
    bodies = make_bodies(args.seed, 32, args.min_kib, args.max_kib)
    sizes = [len(b) for b in bodies.images]
    report: dict[str, Any] = {
        "bench": "intake",
        "command": " ".join([".venv/bin/python", "bench/intake.py", *sys.argv[1:]]),
        "config": {"clients": args.clients, "duration_s": args.duration, "warmup_s": args.warmup,
                   "attachment_bytes": {"min": min(sizes), "max": max(sizes), "mean": int(statistics.fmean(sizes))},
                   "server": f"amanat serve --workers {args.workers} (uvicorn, {args.workers} process(es), worker "
                             "thread in the first, SQLite WAL synchronous=FULL)",
                   "client": "httpx.AsyncClient per client, one event loop"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "goal": {"per_second": GOAL_RPS, "p99_ms": GOAL_P99_MS},
    }
    report["disk_probe"] = disk_probe(root, int(statistics.fmean(sizes)))
    print(f"disk probe: bare SQLite, one {report['disk_probe']['blob_bytes']} B blob per commit: "
          f"FULL {report['disk_probe']['FULL']['commits_per_second']}/s, "
          f"NORMAL {report['disk_probe']['NORMAL']['commits_per_second']}/s", flush=True)
    server = start_amanat(root, args.workers)
    try:
        print(f"amanat on {server.url}: {args.clients} clients, {args.warmup:.0f}+{args.duration:.0f} s", flush=True)
        load = asyncio.run(run_load(server, bodies, clients=args.clients, duration=args.duration,
                                    warmup=args.warmup))
        report["amanat"] = summarise(load, args.duration)
        report["amanat"]["errors"] = load.errors
        print(f"  {report['amanat']['per_second']}/s, p50 {report['amanat']['latency_ms']['p50']} ms, "
              f"p99 {report['amanat']['latency_ms']['p99']} ms; draining…", flush=True)
        report["worker"] = wait_drained(server, timeout=args.drain_timeout, stall=15.0)
        # Processed while the load ran, from the first receipt to the end of the load.
        report["worker"]["processed_during_load"] = (report["worker"]["at_load_end"].get("stored", 0)
                                                     + report["worker"]["at_load_end"].get("failed", 0))
        if not report["worker"]["drained"]:
            report["worker"]["note"] = "the queue did not drain: see worker_log_tail"
            report["worker"]["worker_log_tail"] = [line for line in server.log_tail(4000).splitlines()
                                                   if "Error" in line or "error" in line][-5:]
    finally:
        server.stop()
    receipts = {s.receipt for s in load.samples if s.receipt}
    report["storage"] = count_database(root / "data" / "amanat.db", receipts)
    print(f"  acknowledged {report['storage']['receipts_returned']}, rows {report['storage']['rows']}, "
          f"equal={report['storage']['equal']}; worker {report['worker']['per_second']}/s", flush=True)

    peer_load = LoadResult()
    if not args.no_peer:
        peer = start_peer(root / "peer")
        try:
            print(f"{PEER_NAME} on {peer.url}", flush=True)
            peer_load = asyncio.run(run_load(peer, bodies, clients=args.clients, duration=args.duration,
                                             warmup=args.warmup))
        finally:
            peer.stop()
        report["peer"] = {"name": PEER_NAME,
                          "what": "bare Starlette app under uvicorn (same settings) that accepts the same multipart "
                                  "POST, checks the same double-submit cookie, reads the upload and discards it",
                          **summarise(peer_load, args.duration), "errors": peer_load.errors}
        report["ratio_to_peer"] = {
            "throughput": round(report["amanat"]["per_second"] / report["peer"]["per_second"], 3),
            "p99": round(report["amanat"]["latency_ms"]["p99"] / report["peer"]["latency_ms"]["p99"], 3)}
        print(f"  {report['peer']['per_second']}/s, p99 {report['peer']['latency_ms']['p99']} ms", flush=True)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["goal"]["met"] = (report["amanat"]["per_second"] >= GOAL_RPS
                             and report["amanat"]["latency_ms"]["p99"] <= GOAL_P99_MS)
    write_json(args.out / "intake.json", report, ensure_ascii=False)
    if not args.no_peer:
        plot(args.out / "intake.png", load, peer_load, report)
    print(json.dumps({k: report[k] for k in ("amanat", "storage", "goal")}, indent=2))
    if args.keep:
        print(f"data kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if report["storage"]["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""A real Amanat server in a subprocess: real process boundaries, real log output, real files on disk.

Each server gets a root folder holding its data dir (``data/``), its own TMPDIR (``tmp/``) and the file its
stdout and stderr go to (``server.log``); it is started the way an operator starts it (`amanat init`, then
`amanat serve`), on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PASSPHRASE = "functional test passphrase"
HEALTH_TOKEN = "functional-test-monitor-token"  # /healthz/details: key state and queue counts
RECEIPT = re.compile(r"AM-[0-9A-Z]{4}-[0-9A-Z]{4}")


def amanat_command() -> list[str]:
    script = Path(sys.executable).with_name("amanat")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from amanat.cli.main import app; app(prog_name='amanat')"]


def environment(root: Path) -> dict[str, str]:
    """The server's environment: nothing AMANAT_* inherited, cheap KDFs, TMPDIR inside ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMANAT_")}
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    env.update({
        "AMANAT_DATA_DIR": str(root / "data"), "AMANAT_INTAKE_POSTS_PER_MINUTE": "100000000",
        "AMANAT_INTAKE_BYTES_PER_DAY": "1000000000000", "AMANAT_PASSPHRASE": PASSPHRASE, "AMANAT_ENVIRONMENT": "test",
        "AMANAT_KDF_TIME_COST": "1", "AMANAT_KDF_MEMORY_KIB": "64",
        "AMANAT_ARGON2_TIME_COST": "1", "AMANAT_ARGON2_MEMORY_KIB": "64", "AMANAT_HEALTH_TOKEN": HEALTH_TOKEN,
        "TMPDIR": str(root / "tmp"), "TMP": str(root / "tmp"), "TEMP": str(root / "tmp"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def cli(root: Path, *args: str, extra_env: dict[str, str] | None = None,
        timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run an `amanat` command against ``root``; its output is appended to the server log file too."""
    env = {**environment(root), **(extra_env or {})}
    done = subprocess.run([*amanat_command(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    with (root / "server.log").open("a", encoding="utf-8") as log:
        log.write(done.stdout + done.stderr)
    return done


def init(root: Path) -> None:
    done = cli(root, "init", "--organisation", "Functional test")
    assert done.returncode == 0, done.stderr


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    root: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def database(self) -> Path:
        return self.root / "data" / "amanat.db"

    def health(self) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/healthz/details", timeout=10.0,
                      headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
        r.raise_for_status()
        return dict(r.json())

    def counts(self) -> dict[str, int]:
        return dict(self.health()["submissions"])

    def kill(self) -> None:
        """SIGKILL to every server process (`serve --workers` forks): no shutdown handler, no final checkpoint,
        no flush of anything."""
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session (start_new_session), so its group
        self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-n:] if self.log.exists() else ""


def start(root: Path, timeout: float = 60.0, workers: int = 1) -> Server:
    """`amanat serve` on a free port, worker thread inside; returns once /healthz answers."""
    port = free_port()
    with (root / "server.log").open("ab") as log:
        proc = subprocess.Popen([*amanat_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)],
                                env=environment(root), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(root, port, proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}:\n{server.tail()}")
        try:
            if server.health()["keys"] == "unlocked":
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise AssertionError(f"the server did not come up:\n{server.tail()}")


def wait_until(predicate: Callable[[], bool], timeout: float, message: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(message)


@contextmanager
def browser(server: Server) -> Iterator[httpx.Client]:
    """A client with the double-submit CSRF cookie already set (as a browser has after loading the form)."""
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        client.get("/intake").raise_for_status()
        yield client


def submit(client: httpx.Client, fields: dict[str, str],
           files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
    data = {**fields, "csrf_token": client.cookies["amanat_csrf"]}
    return client.post("/intake", data=data, files=files or {})


def synthetic_jpeg(seed: int, size: int) -> bytes:
    """A JPEG header (intake sniffs magic bytes) and pseudo-random bytes."""
    import random

    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return head + random.Random(seed).randbytes(size - len(head) - 2) + b"\xff\xd9"

"""Browser fixtures: a real `amanat serve` in a subprocess, and Debian's Chromium driven by Playwright.

Playwright's own browser download is not used; the tests drive /usr/bin/chromium. Where it (or the
playwright package) is missing they skip with a message; under CI (CI=true) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSPHRASE = "browser test passphrase"
PASSWORD = "browser-test-password-1"
HEALTH_TOKEN = "browser-test-monitor-token"  # /healthz/details; /healthz alone says only "ok"
USERS = {"caseworker": "caseworker", "auditor": "auditor"}  # username → role


def _missing(what: str) -> None:
    message = f"{what}; the browser tests need Debian's chromium and playwright (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + ": CI must run them", pytrace=False)
    pytest.skip(message + ": skipped")


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    users: dict[str, str]  # username → role
    password: str
    log: Path  # the server's stderr: codes and tracebacks, never record values

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _amanat() -> list[str]:
    script = Path(sys.executable).with_name("amanat")
    if script.exists():
        return [str(script)]
    found = shutil.which("amanat")
    if found is None:
        pytest.fail("the `amanat` command is not installed (pip install -e '.[test]')", pytrace=False)
    return [found]


def _env(data_dir: Path) -> dict[str, str]:
    # Only this server's settings: nothing AMANAT_* from the caller's shell may point it elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMANAT_")}
    env.update({
        "AMANAT_ENVIRONMENT": "test",
        "AMANAT_DATA_DIR": str(data_dir),
        "AMANAT_PASSPHRASE": PASSPHRASE,
        # Cheap key derivation and password hashing: test only (production refuses these).
        "AMANAT_KDF_MEMORY_KIB": "64",
        "AMANAT_KDF_TIME_COST": "1",
        "AMANAT_ARGON2_MEMORY_KIB": "64",
        "AMANAT_ARGON2_TIME_COST": "1",
        "AMANAT_SQLITE_SYNCHRONOUS": "NORMAL",
        "AMANAT_LOG_LEVEL": "WARNING",
        "AMANAT_HEALTH_TOKEN": HEALTH_TOKEN,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _run(args: list[str], env: dict[str, str], **extra_env: str) -> None:
    result = subprocess.run([*_amanat(), *args], env={**env, **extra_env}, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        pytest.fail(f"`amanat {args[0]} …` exited {result.returncode}:\n{result.stderr[-2000:]}", pytrace=False)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`amanat serve` exited {proc.returncode}:\n{log_path.read_text()[-2000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:  # local test server only
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"`amanat serve` did not answer within {timeout:.0f} s:\n{log_path.read_text()[-2000:]}",
                pytrace=False)


@contextmanager
def served_organisation(tmp_path_factory: pytest.TempPathFactory, users: dict[str, str], *,
                        name: str = "amanat-browser", timeout: float = 20.0) -> Iterator[Server]:
    """A fresh organisation (init, then ``users``: username → role) served by `amanat serve` on a free
    port, stopped when the block ends."""
    data_dir = tmp_path_factory.mktemp(name)
    env = _env(data_dir)
    _run(["init", "--organisation", "Browser test organisation"], env)
    for username, role in users.items():
        _run(["users", "add", username, "--role", role], env, AMANAT_NEW_PASSWORD=PASSWORD)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*_amanat(), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(url, proc, log_path, timeout=timeout)
        yield Server(url, data_dir, dict(users), PASSWORD, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh organisation (init, a caseworker and an auditor) served by `amanat serve` on a free port."""
    with served_organisation(tmp_path_factory, USERS) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()

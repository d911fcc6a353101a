"""Running the web app: one process (the default), or `amanat serve --workers N` processes on one socket.

One Python process uses one core for its requests (the GIL), so on a machine with more cores intake is
CPU-bound long before SQLite is. With ``--workers N`` the parent unlocks the keys and binds the socket,
then forks N children that share both: the kernel hands each new connection to whichever child accepts
it. Each child is a whole server with its own engine and its own group-commit intake writer, and each
still hands out a receipt only after its batch has committed. On SQLite the children's write transactions
take turns on a lock file beside the database (Database.share_write_turn), so one waiting for another is
woken at its commit instead of polling in SQLite's busy handler.
Only the first child runs the decrypting worker (there is one queue to drain, and two workers would
only contend for the write lock). The parent serves nothing: it forwards SIGINT/SIGTERM, starts a
child again if one dies, and if the parent itself is killed the children are sent SIGTERM and finish
what they hold.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import signal
import socket
import sys
import time
from types import FrameType

from amanat.config import Settings
from amanat.core.db import Database
from amanat.errors import AmanatError

log = logging.getLogger("amanat.web.processes")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def run_server(settings: Settings, database: Database, sockets: list[socket.socket] | None = None) -> None:
    """Serve the app in this process until SIGINT/SIGTERM."""
    import uvicorn

    from amanat.web.app import create_app

    app = create_app(settings, database)
    _tune_gc()
    # date_header=False: the app sets Date itself (web.security.ProtocolHeaders), so there is only one.
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", access_log=False,
                            proxy_headers=False, date_header=False)
    # uvicorn re-raises the signal that stopped it once it has shut down (the writer has stored what it held).
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=sockets)


def _tune_gc() -> None:
    """Fewer and cheaper garbage collections while serving. Everything built at start-up (the app, routes,
    SQLAlchemy's mappers, the parsed form) is moved out of the collector's view, and the youngest generation
    is collected less often: under load the full collections over those objects were stalls of 100 ms and
    more, the tail of intake's latency (p99 at 50 clients: about 255 ms before, 185 ms after)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def serve_processes(settings: Settings, database: Database, workers: int) -> None:
    """Fork ``workers`` server processes on one listening socket and look after them until told to stop."""
    if not hasattr(os, "fork"):
        raise AmanatError("--workers needs a system with fork(); run one process per port instead.",
                          code="workers_unsupported")
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(2048)
    parent = os.getpid()
    children: dict[int, int] = {}  # pid → index; index 0 runs the worker
    stopping = False

    def spawn(index: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child never returns into the parent's loop
            code = 1
            try:
                _child(settings, database, sock, index, parent)
                code = 0
            except KeyboardInterrupt:  # told to stop before uvicorn took over its signals
                code = 0
            except BaseException:
                log.exception("server process %d failed", index)
            finally:
                os._exit(code)
        children[pid] = index

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for i in range(workers):
        spawn(i)
    database.engine.dispose()  # the parent's own connections; each child opens its own
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index = children.pop(pid, None)
        if index is not None and not stopping:
            log.error("server process %d exited (status %d); starting it again", index, status)
            time.sleep(0.5)
            spawn(index)
    sock.close()


def _child(settings: Settings, database: Database, sock: socket.socket, index: int, parent: int) -> None:
    # Not the parent's forwarding handler: until uvicorn installs its own, and when it re-raises the signal
    # after a clean shutdown, either signal ends this process through KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    _terminate_with_parent(parent)
    database.engine.dispose(close=False)  # connections opened before the fork belong to the parent
    if database.is_sqlite:  # the processes' write transactions (intake batches, worker steps) take turns
        database.share_write_turn(settings.data_dir / "write-turn.lock")
    if index > 0:
        settings = settings.model_copy(update={"run_worker_in_process": False})
    run_server(settings, database, sockets=[sock])


def _terminate_with_parent(parent: int) -> None:
    """SIGTERM this child if the parent dies (Linux), so no orphan keeps the port and the keys."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)

"""Fixtures for the sync area: a real uvicorn serving a feed app on a free loopback port."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from visitplan.sync.server import loopback_socket, uvicorn_server


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields its base URL."""
    sock = loopback_socket()
    port = sock.getsockname()[1]
    server = uvicorn_server(app, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], str]]:
    """Call with an ASGI app; returns the base URL of a real server running it."""
    stack: list[Any] = []

    def start(app: Any) -> str:
        context = running(app)
        url = context.__enter__()
        stack.append(context)
        return url

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


@dataclass(frozen=True, slots=True)
class RadicaleServer:
    url: str  # the server's root, ending in /
    user: str
    password: str
    storage: Path
    stop: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)

    def calendar_url(self, name: str) -> str:
        return f"{self.url}{self.user}/{name}/"


@contextmanager
def radicale(
    tmp: Path, storage_options: str = "", port: int | None = None
) -> Iterator[RadicaleServer]:
    """A real Radicale on a free loopback port (or ``port``), with plain-text users in
    ``tmp``; ``stop()`` ends it early, like a server that goes down.

    ``storage_options``: extra lines for its [storage] section (the benchmark's tuning).
    """
    user, password = "desk", "correct horse"
    (tmp / "users").write_text(f"{user}:{password}\n", encoding="utf-8")
    storage = tmp / "collections"
    port = port or _free_port()
    config = tmp / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {tmp / 'users'}\n"
        "htpasswd_encryption = plain\ndelay = 0\n"
        f"[storage]\nfilesystem_folder = {storage}\n{storage_options}"
        "[rights]\ntype = owner_only\n"
        "[logging]\nlevel = warning\nmask_passwords = True\n",
        encoding="utf-8",
    )
    log = (tmp / "radicale.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            process.wait(10)

    try:
        _wait_for_port(port, process)
        yield RadicaleServer(f"http://127.0.0.1:{port}/", user, password, storage, stop)
    finally:
        stop()
        log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"radicale exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("radicale did not start listening")


@pytest.fixture
def radicale_server(tmp_path: Path) -> Iterator[RadicaleServer]:
    folder = tmp_path / "radicale"
    folder.mkdir()
    with radicale(folder) as server:
        yield server


@pytest.fixture
def clinic_desk(desk: Any) -> Any:
    """The records fixture's desk (SQLite, and PostgreSQL when configured) with two
    synthetic patients on a course from today: MRN-1 with Dr Kim, MRN-2 with Dr Lee."""
    today = desk.now().date()
    desk.add_patient("MRN-1", "Jin Park")
    desk.add_patient("MRN-2", "Ana Lima")
    desk.add_clinician("Dr Kim")
    desk.add_clinician("Dr Lee")
    desk.enroll("MRN-1", "prolotherapy-knee-oa", today, dt.time(9, 0), clinician="Dr Kim")
    desk.enroll("MRN-2", "prolotherapy-knee-oa", today, dt.time(14, 0), clinician="Dr Lee")
    return desk

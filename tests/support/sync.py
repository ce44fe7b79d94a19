"""Fixtures for the sync area: a real uvicorn serving a feed app on a free loopback port,
and real CalDAV servers (Radicale here, Xandikos in tests/support/xandikos.py)."""

from __future__ import annotations

import datetime as dt
import re
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

from visitplan.sync.server import ServerLimits, loopback_socket, uvicorn_server


@contextmanager
def running(app: Any, limits: ServerLimits | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields its base URL."""
    sock = loopback_socket()
    port = sock.getsockname()[1]
    server = uvicorn_server(app, log_level="warning", limits=limits)
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


@contextmanager
def serving(command: list[str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run a `visitplan serve` command (``--port 0``) until the block ends; yields the
    process and the base URL it printed."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "visitplan serve did not start"
            time.sleep(0.05)
        yield process, f"http://127.0.0.1:{found.group(1)}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def serve_app() -> Iterator[Callable[..., str]]:
    """Call with an ASGI app (and ``limits=``); returns the base URL of a real server
    running it."""
    stack: list[Any] = []

    def start(app: Any, limits: ServerLimits | None = None) -> str:
        context = running(app, limits)
        url = context.__enter__()
        stack.append(context)
        return url

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


@dataclass(frozen=True, slots=True)
class CalDAVServer:
    """A real CalDAV server for one test: Radicale or Xandikos (tests/support/xandikos.py)."""

    url: str  # the server's root, ending in /
    user: str
    password: str
    storage: Path
    stop: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)
    kind: str = "radicale"
    home: str = ""  # where the user's calendars live, under the root; default the user's name
    checks_passwords: bool = True  # Xandikos serves plain HTTP without authentication

    def calendar_url(self, name: str) -> str:
        return f"{self.url}{self.home or self.user}/{name}/"

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])


@contextmanager
def radicale(
    tmp: Path, storage_options: str = "", port: int | None = None
) -> Iterator[CalDAVServer]:
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
    with _process(
        [sys.executable, "-m", "radicale", "--config", str(config)], tmp / "radicale.log", port
    ) as stop:
        yield CalDAVServer(f"http://127.0.0.1:{port}/", user, password, storage, stop)


@contextmanager
def _process(command: list[str], log_path: Path, port: int) -> Iterator[Callable[[], None]]:
    """Run a server until the block ends (or ``stop()``); only this process is ended."""
    log = log_path.open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    try:
        _wait_for_port(port, process, log_path)
        yield stop
    finally:
        stop()
        log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
            raise RuntimeError(f"{process.args!r} exited with status {process.returncode}: {tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process.args!r} did not start listening")


SERVER_KINDS = ("radicale", "xandikos")


@contextmanager
def running_caldav(kind: str, tmp: Path, port: int | None = None) -> Iterator[CalDAVServer]:
    """A real CalDAV server of that kind storing under ``tmp`` (see ``SERVER_KINDS``)."""
    if kind == "radicale":
        with radicale(tmp, port=port) as server:
            yield server
        return
    from tests.support.xandikos import xandikos

    with xandikos(tmp, port=port) as server:
        yield server


@pytest.fixture(params=SERVER_KINDS)
def caldav_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CalDAVServer]:
    """Each test that asks for it runs once on Radicale and once on Xandikos."""
    folder = tmp_path / request.param
    folder.mkdir()
    with running_caldav(request.param, folder) as server:
        yield server


@pytest.fixture
def radicale_server(tmp_path: Path) -> Iterator[CalDAVServer]:
    """Radicale alone, for what only it does (passwords, a UID clash answered 409)."""
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

"""A real Xandikos CalDAV server for tests: free loopback port, temporary storage.

Xandikos authenticates only over HTTPS (``--htpasswd`` needs ``--autocert``), so
here it serves plain HTTP to anyone: user name and password are sent and ignored
(``checks_passwords`` is False; wrong-password tests run on Radicale). Its one
user's principal is ``/user/`` and calendars live under ``/user/calendars/``.

Use the ``xandikos_server`` fixture, or ``caldav_server`` (tests/support/sync.py),
which runs a test on Radicale and on Xandikos.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.sync import CalDAVServer, _free_port, _process


@contextmanager
def xandikos(tmp: Path, port: int | None = None) -> Iterator[CalDAVServer]:
    """Xandikos storing under ``tmp`` on a free loopback port (or ``port``, to start it
    again on the same storage); ``stop()`` ends it early, like a server that goes down."""
    port = port or _free_port()
    storage = tmp / "collections"
    command = [
        sys.executable, "-m", "xandikos", "serve",
        "--directory", str(storage), "--defaults",
        "--listen-address", "127.0.0.1", "--port", str(port),
        "--current-user-principal", "/user/",
        "--no-detect-systemd", "--state-dir", str(tmp / "state"),
    ]  # fmt: skip
    with _process(command, tmp / "xandikos.log", port) as stop:
        yield CalDAVServer(
            f"http://127.0.0.1:{port}/",
            "desk",
            "correct horse",
            storage,
            stop,
            kind="xandikos",
            home="user/calendars",
            checks_passwords=False,
        )


@pytest.fixture
def xandikos_server(tmp_path: Path) -> Iterator[CalDAVServer]:
    folder = tmp_path / "xandikos"
    folder.mkdir()
    with xandikos(folder) as server:
        yield server

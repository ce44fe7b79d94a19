"""A real Radicale CalDAV server for tests: free loopback port, temp storage, no auth.

Use the ``radicale`` fixture (one server per test) or ``running_radicale(folder)``
directly. Any user name and password are accepted; each user owns the collections
under their name, e.g. ``{server.url}/staff/visits/``. Point a CalDAV client at
``{server.url}/`` and let it discover the principal: Radicale creates a user's
principal collection on that user's first request to the root.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_START_SECONDS = 30


@dataclass(frozen=True)
class RadicaleServer:
    url: str  # base URL, no trailing slash
    storage: Path
    user: str = "staff"
    password: str = "unused"

    def principal_url(self) -> str:
        """Exists once the user has made a request (see the module docstring)."""
        return f"{self.url}/{self.user}/"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, port: int) -> Path:
    path = folder / "radicale.conf"
    path.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        "[auth]\ntype = none\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[rights]\ntype = owner_only\n"
        "[web]\ntype = none\n"
        "[logging]\nlevel = warning\n",
        encoding="utf-8",
    )
    return path


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means it is serving
    except OSError:
        return False


@contextlib.contextmanager
def running_radicale(folder: Path) -> Iterator[RadicaleServer]:
    """Start Radicale storing under ``folder``; stop it (and only it) on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _attempt in range(3):  # the free port may be taken between probe and bind
        port = _free_port()
        log = folder / f"radicale-{port}.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(_config(folder, port))],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={"HOME": str(folder), "PATH": "/usr/bin:/bin"},
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + _START_SECONDS
        while process.poll() is None and time.monotonic() < deadline and not _answers(url):
            time.sleep(0.05)
        if process.poll() is None and _answers(url):
            try:
                yield RadicaleServer(url, folder / "collections")
            finally:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            return
        process.kill()
        process.wait()
        last_error = log.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"Radicale did not start: {last_error}")


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[RadicaleServer]:
    """A fresh Radicale for one test."""
    with running_radicale(tmp_path / "radicale") as server:
        yield server

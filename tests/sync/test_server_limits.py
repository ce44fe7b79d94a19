"""The feed server under abuse: idle and slow sockets, huge headers, descriptor exhaustion.

Real sockets against a real uvicorn (in this process with short limits, and
`visitplan serve` as a process under a 1,024-descriptor limit); a normal client
polls through it all and must be served.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import VISITPLAN, assert_one_line_error, run_visitplan
from tests.support.sync import serving
from tests.sync.test_server_http import MemorySource
from visitplan.sync.server import ServerLimits, make_feed_app

HEADER_SECONDS = 2.0


def address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def gone(sock: socket.socket) -> bool:
    """Whether the server closed this connection (without blocking)."""
    sock.setblocking(False)
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def trickle(sock: socket.socket, line: bytes) -> bool:
    """Send one more header line; False once the server has closed the connection."""
    if gone(sock):
        return False
    try:
        sock.send(line)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def sockets(target: tuple[str, int], count: int) -> Iterator[list[socket.socket]]:
    opened = [socket.create_connection(target, timeout=5) for _ in range(count)]
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


@pytest.fixture
def feed(serve_app: Callable[..., str]) -> tuple[str, str]:
    """A feed on a real server with short limits: (base URL, feed URL)."""
    source = MemorySource()
    token = source.add("clinic")
    limits = ServerLimits(max_connections=1000, header_seconds=HEADER_SECONDS)
    base = serve_app(make_feed_app(source, recheck_seconds=0), limits=limits)
    return base, f"{base}/feeds/{token}.ics"


def test_idle_and_slow_sockets_are_cut_off_while_a_normal_client_is_served(
    feed: tuple[str, str],
) -> None:
    base, url = feed
    with sockets(address(base), 200) as idle, sockets(address(base), 200) as slow:
        for sock in slow:
            sock.send(b"GET /feeds/nothing.ics HTTP/1.1\r\nHost: x\r\n")
        began = time.monotonic()
        served = []
        alive = list(slow)
        while time.monotonic() - began < HEADER_SECONDS + 2:
            # One header line a second from every slow socket, a poll in between.
            alive = [s for s in alive if trickle(s, b"X-Slow: 1\r\n")]
            with httpx.Client() as client:
                served.append(client.get(url, timeout=5).status_code)
            time.sleep(1)
        assert set(served) == {200}
        assert alive == []
        assert all(gone(s) for s in idle)
    assert time.monotonic() - began >= HEADER_SECONDS


def test_a_client_within_the_header_time_is_not_cut_off(feed: tuple[str, str]) -> None:
    base, _url = feed
    with sockets(address(base), 1) as (sock,):
        sock.send(b"GET /nothing HTTP/1.1\r\n")
        time.sleep(HEADER_SECONDS / 2)
        sock.send(b"Host: x\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 404")


def test_headers_over_the_limit_get_431_and_a_normal_client_is_served(
    feed: tuple[str, str],
) -> None:
    base, url = feed
    with sockets(address(base), 1) as (sock,):
        sock.sendall(b"GET /feeds/x.ics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
        sock.settimeout(5)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 431 ")
    assert httpx.get(url).status_code == 200


def test_beyond_max_connections_the_longest_idle_is_closed(
    serve_app: Callable[..., str],
) -> None:
    source = MemorySource()
    token = source.add("clinic")
    base = serve_app(
        make_feed_app(source, recheck_seconds=0),
        limits=ServerLimits(max_connections=50, header_seconds=60),
    )
    with sockets(address(base), 50) as first, sockets(address(base), 50) as second:
        response = httpx.get(f"{base}/feeds/{token}.ics", timeout=5)
        time.sleep(0.5)
        assert response.status_code == 200
        assert all(gone(s) for s in first)
        assert sum(gone(s) for s in second) <= 2  # the poll's own connection made room too
        assert not gone(second[-1])


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def limited_server(
    tmp_path: Path, sqlite_url: str, seoul_clinic_file: Path
) -> Iterator[tuple[str, int, str]]:
    """`visitplan serve` with RLIMIT_NOFILE 1024 (soft and hard, a common default, so it
    cannot lift it), a feed, and a 2 s header time: (base URL, pid, feed URL)."""
    made = run_visitplan(
        "feed", "create", "clinic", "--db", sqlite_url, "--clinic", str(seoul_clinic_file)
    )
    assert made.status == 0, made.err
    log = tmp_path / "serve.log"

    # Set in a small Python that then becomes `visitplan serve` (no preexec_fn in a
    # threaded test process).
    limited = (
        "import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    command = [
        sys.executable, "-c", limited, str(VISITPLAN), "serve", "--port", "0",
        "--header-timeout", str(HEADER_SECONDS),
        "--db", sqlite_url, "--clinic", str(seoul_clinic_file),
    ]  # fmt: skip
    with serving(command, log) as (process, base):
        token = made.out.strip().rsplit("/", 1)[1]
        yield base, process.pid, f"{base}/feeds/{token}"


def test_1100_idle_sockets_do_not_exhaust_the_servers_descriptors(
    limited_server: tuple[str, int, str],
) -> None:
    base, pid, url = limited_server
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard >= 1300, f"this test opens 1,100 sockets; the hard limit is {hard}"
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        assert httpx.get(url).status_code == 200
        with sockets(address(base), 1100) as idle:
            time.sleep(0.5)
            assert open_descriptors(pid) < 1024
            for _ in range(5):
                assert httpx.get(url, timeout=5).status_code == 200
            time.sleep(HEADER_SECONDS + 1)
            assert all(gone(s) for s in idle)
        assert httpx.get(url, timeout=5).status_code == 200
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_serve_refuses_a_header_timeout_out_of_range(sqlite_url: str) -> None:
    for value in ("0", "nan", "1e9"):
        result = run_visitplan("serve", "--header-timeout", value, "--db", sqlite_url)
        assert_one_line_error(result, f"--header-timeout {float(value)}")


def test_serve_refuses_a_recheck_or_notify_interval_out_of_range(sqlite_url: str) -> None:
    for option, value in (
        ("--recheck-seconds", "nan"),
        ("--recheck-seconds", "inf"),
        ("--recheck-seconds", "-1"),
        ("--notify", "0"),
        ("--notify", "nan"),
    ):
        result = run_visitplan("serve", option, value, "--db", sqlite_url)
        assert_one_line_error(result, f"{option} {float(value)}")

"""A throwaway PostgreSQL server for the tests: initdb in a temporary directory, then
pg_ctl on a free loopback port, stopped and removed at the end of the session.

No plugin: pytest-postgresql runs initdb as the current user, and initdb refuses to
run as root, which is who runs the tests here and in CI. As root, the server's
programs run as the unprivileged ``postgres`` user (or ``nobody``) instead.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
DEBIAN_ROOT = Path("/usr/lib/postgresql")
# As root, the first of these that exists owns the data directory and runs the server.
UNPRIVILEGED_USERS = ("postgres", "nobody")
# A throwaway server need not survive a crash, so it need not wait for the disk.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def has_server_programs(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in SERVER_PROGRAMS)


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def _by_version(dirs: Iterable[Path]) -> list[Path]:
    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())

    return sorted(dirs, key=version, reverse=True)


def candidate_bindirs(pg_config_bindir: Path | None, debian_root: Path, path: str) -> list[Path]:
    """Where initdb and pg_ctl may be, in order: what pg_config says (the client
    package's pg_config names the server's directory even where no server is
    installed), Debian's /usr/lib/postgresql/<version>/bin from the newest, then PATH
    (through its symlinks: pg_ctl finds postgres beside its real self)."""
    found = [pg_config_bindir] if pg_config_bindir is not None else []
    found += _by_version(debian_root.glob("*/bin"))
    initdb = shutil.which("initdb", path=path)
    if initdb is not None:
        found.append(Path(initdb).resolve().parent)
    return found


def find_bindir(
    pg_config_bindir: Path | None = None,
    debian_root: Path = DEBIAN_ROOT,
    path: str | None = None,
    *,
    ask_pg_config: bool = True,
) -> Path | None:
    """The first directory that holds initdb, pg_ctl and postgres; None where
    PostgreSQL's server programs are not installed."""
    if pg_config_bindir is None and ask_pg_config:
        pg_config_bindir = _pg_config_bindir()
    path = os.environ.get("PATH", os.defpath) if path is None else path
    for bindir in candidate_bindirs(pg_config_bindir, debian_root, path):
        if has_server_programs(bindir):
            return bindir
    return None


@dataclass(frozen=True)
class RunAs:
    """Who runs the server's programs: None is this process's own user."""

    account: pwd.struct_passwd | None

    @classmethod
    def for_this_process(cls) -> RunAs:
        if os.geteuid() != 0:
            return cls(None)
        for name in UNPRIVILEGED_USERS:
            try:
                return cls(pwd.getpwnam(name))
            except KeyError:
                continue
        raise RuntimeError(
            "the tests run as root and initdb refuses root, but there is no "
            f"{' or '.join(UNPRIVILEGED_USERS)} user to run PostgreSQL as"
        )

    def own(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def run(self, command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        account = self.account
        env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C", "TZ": "UTC"}
        if account is not None:
            env["HOME"] = str(cwd)
        return subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            user=None if account is None else account.pw_uid,
            group=None if account is None else account.pw_gid,
            extra_groups=None if account is None else [],
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerFailed(RuntimeError):
    pass


def _checked(done: subprocess.CompletedProcess[str], what: str, log: Path | None = None) -> None:
    if done.returncode == 0:
        return
    tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
    raise ServerFailed(f"{what} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}")


def _initdb(bindir: Path, data: Path, as_user: RunAs, cwd: Path) -> None:
    base = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    # The machine's servers use C.UTF-8 (Unicode case mapping); a system without it gets C.
    done = as_user.run([*base, "--locale=C.UTF-8"], cwd)
    if done.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        done = as_user.run([*base, "--no-locale"], cwd)
    _checked(done, "initdb")


@contextmanager
def throwaway_server(bindir: Path, attempts: int = 3) -> Iterator[str]:
    """A fresh server on a free 127.0.0.1 port; yields the URL of its ``postgres``
    database (superuser ``postgres``, trust auth)."""
    as_user = RunAs.for_this_process()
    # Not pytest's tmp_path: its parents are private to root, out of the server's reach.
    home = Path(tempfile.mkdtemp(prefix="visitplan-pg-"))
    data, log = home / "data", home / "server.log"
    pg_ctl = str(bindir / "pg_ctl")
    started = False
    try:
        as_user.own(home)
        _initdb(bindir, data, as_user, home)
        for attempt in range(attempts):
            port = free_port()
            settings = {
                **THROWAWAY_SETTINGS,
                "listen_addresses": "127.0.0.1",
                "port": str(port),
                "unix_socket_directories": str(home),
            }
            options = " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in settings.items())
            done = as_user.run(
                [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"],
                home,
            )
            if done.returncode == 0:
                started = True
                break
            # Another process may have taken the port between the probe and the start.
            if attempt == attempts - 1:
                _checked(done, "pg_ctl start", log)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            as_user.run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], home)
        shutil.rmtree(home, ignore_errors=True)

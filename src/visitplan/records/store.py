"""Where the records live: the database URL, the engine, and the schema version.

SQLite gets WAL (readers never wait for a writer), foreign keys, a busy timeout
and a file only its owner can read. Writes on SQLite begin with BEGIN IMMEDIATE so
that two writers never both read and then deadlock on upgrading their lock.

A writer waits for another at most BUSY_TIMEOUT_MS (SQLite's busy timeout,
PostgreSQL's lock_timeout), then gets one line saying the records are busy: no
change holds the lock that long (an import plans before it takes it), so a longer
wait means something is stuck, and a person should hear so rather than watch a
frozen screen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from visitplan.errors import InputError
from visitplan.records.schema_heads import script_heads

BUSY_TIMEOUT_MS = 5_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Execution option that makes an SQLite transaction take the write lock at once.
WRITE = "visitplan_write"


def default_url(env: Mapping[str, str] | None = None) -> str:
    """$VISITPLAN_DB, else an SQLite file in the user's data directory."""
    env = os.environ if env is None else env
    if env.get("VISITPLAN_DB"):
        return env["VISITPLAN_DB"]
    import platformdirs

    path = Path(platformdirs.user_data_dir("visitplan")) / "visitplan.sqlite3"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{path.parent}: cannot create the data directory ({exc.strerror or exc}); "
            "set VISITPLAN_DB or --db to a database visitplan can write"
        ) from None
    return f"sqlite:///{path}"


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise InputError(f"database URL {url!r} is not a URL like sqlite:///FILE") from None


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite URL; None for other databases and in-memory ones."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url_text: str) -> Engine:
    url = parse_url(url_text)
    # postgres:// (Heroku's and libpq's spelling) and a bare postgresql:// mean psycopg 3.
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    path = sqlite_path(url)
    if path is not None:
        _create_private_file(path)
    try:
        engine = create_engine(url, **_engine_options(url))
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise InputError(f"database URL {safe(url)}: {exc}") from None
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


def safe(url: URL | str) -> str:
    """The URL without its password, for messages."""
    if isinstance(url, str):
        url = parse_url(url)
    return url.render_as_string(hide_password=True)


def _engine_options(url: URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    if url.get_backend_name() == "postgresql":
        return {"connect_args": {"connect_timeout": 5}, "pool_pre_ping": False}
    return {}


def _create_private_file(path: Path) -> None:
    if path.exists():
        # Every command may write (a change, the audit, a migration), and SQLite writes
        # its -wal and -shm files beside the database: say so at once, in one line.
        # (A read-only copy can still be read as sqlite:///file:PATH?mode=ro&uri=true.)
        if not path.is_file():
            raise InputError(f"{path}: not a database file")
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            raise InputError(
                f"{path}: the database file (or its directory) is read-only; visitplan "
                "needs to write both"
            )
        return
    if not path.parent.is_dir():
        raise InputError(f"{path}: cannot create the database file: no directory {path.parent}")
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    except OSError as exc:
        raise InputError(f"{path}: cannot create the database file: {exc}") from None


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _script_heads() -> set[str]:
    return set(script_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return {row[0] for row in rows}


def ensure_schema(engine: Engine) -> bool:
    """Create or migrate the schema if it is behind; True when something ran."""
    from_scripts = _script_heads()
    try:
        stored = current_revisions(engine)
        if stored == from_scripts:
            return False
        upgrade(engine)
    except DBAPIError as exc:
        raise unreachable(engine, exc) from None
    except Exception as exc:
        if type(exc).__module__.startswith("alembic"):
            raise InputError(
                f"database {safe(engine.url)} is at schema revision "
                f"{', '.join(sorted(stored)) or 'none'}, which this visitplan cannot "
                f"migrate to {', '.join(sorted(from_scripts))} ({exc})"
            ) from None
        raise
    return True


def upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


BUSY = (
    "the records are busy (another workstation has been saving for "
    f"{BUSY_TIMEOUT_MS // 1000} s); nothing was changed; try again in a moment"
)


def unreachable(engine: Engine, exc: DBAPIError) -> InputError:
    if is_busy(exc):
        return InputError(BUSY)
    first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    return InputError(f"database {safe(engine.url)} cannot be used: {first}")


def is_busy(exc: DBAPIError) -> bool:
    """A wait for another writer's lock that ran out: SQLite's SQLITE_BUSY ("database
    is locked"), PostgreSQL's lock_timeout (SQLSTATE 55P03)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "55P03":
        return True
    name = getattr(orig, "sqlite_errorname", "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(orig)

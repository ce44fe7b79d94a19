"""`visitplan backup PATH`: a consistent copy of the SQLite database.

SQLite's online backup API copies a consistent snapshot while other processes
keep reading and writing; copying the file (and its WAL) by hand would not be.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from visitplan.errors import InputError
from visitplan.records.store import sqlite_path


def backup(engine: Engine, target: Path) -> None:
    source = sqlite_path(engine.url)
    if source is None:
        raise InputError(
            f"backup copies SQLite database files; {engine.url.get_backend_name()} "
            "databases are backed up with their own tools (for PostgreSQL: pg_dump)"
        )
    if target.exists():
        raise InputError(f"{target}: already exists; give a new file name")
    if target.resolve() == source.resolve():
        raise InputError(f"{target}: is the database itself")
    try:
        # Created private before any patient data goes in.
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise InputError(f"{target}: cannot create the backup file: {exc}") from None
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
        src.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise InputError(f"{target}: backup failed: {exc}") from None

"""`visitplan.cli.main.main` in this process, as the fuzz suite and the CLI tests use it.

``VISITPLAN_DEBUG`` is set while it runs, so an internal error is raised with its
traceback (and fails the test) instead of being printed as one line with exit 1.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

from tests.support.cli import Result
from visitplan.cli.main import main


def run_main(argv: Sequence[str], env: dict[str, str] | None = None) -> Result:
    # Standard output with a byte buffer beneath, as a real one has (`plan --ics`
    # writes the calendar's bytes to it).
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
    err = io.StringIO()
    environment = {"VISITPLAN_DEBUG": "1", **(env or {})}
    with (
        mock.patch.dict(os.environ, environment),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse: --help, or a bad argument
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    out.flush()
    return Result(status, raw.getvalue().decode("utf-8"), err.getvalue())


def assert_ok_or_one_line(result: Result) -> None:
    """The promise for any input: exit 0, or exit 2 with exactly one line on stderr."""
    assert "Traceback" not in result.err, result
    assert result.status in (0, 2), result
    if result.status == 2:
        assert len(result.err.splitlines()) == 1, result
        assert result.err.startswith("visitplan"), result
        assert result.out == "", result


def db_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def dump(url: str) -> list[str]:
    """Every row of an SQLite database, as SQL: equal dumps, equal records."""
    connection = sqlite3.connect(db_path(url))
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@contextmanager
def database_copy(template: str, folder: Path) -> Iterator[str]:
    """A fresh copy of a closed SQLite database, under a name of its own, removed after.

    Never the same file twice: a command may leave its engine's connections open until
    the process ends (harmless in a real process), and SQLite in one process must not
    see a file it still has open replaced under it.
    """
    source = db_path(template)
    target = folder / f"copy-{uuid.uuid4().hex}.sqlite3"
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{target}-wal"))
    try:
        yield f"sqlite:///{target}"
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)


def seed_database(url: str, clinic: Path, start: str = "2026-04-06") -> None:
    """One synthetic patient with the seed course (visit ids 1 to 7, enrollment 1)."""
    common = ["--db", url, "--clinic", str(clinic), "--user", "tester"]
    for argv in (
        ["patient", "add", "P1", "--name", "Synthetic One"],
        ["enroll", "P1", "dextrose-prolotherapy", "--start", start],
    ):
        result = run_main([*argv, *common])
        assert result.status == 0, result

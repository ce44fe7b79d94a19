"""Files written whole or not at all: readers see the old file or the new one.

Light on purpose (no iCalendar, no database): the export writes through it, and so do
the short commands that keep validated files in the user's cache.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from visitplan.errors import InputError


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one: temp file, fsync, rename.

    A new file is readable by its owner only (it holds patient data); a file
    being replaced keeps the permissions it had.
    """
    directory = path.parent
    if not directory.is_dir():
        raise InputError(f"{path}: the directory {directory} does not exist")
    try:
        handle, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if path.is_file():
            os.chmod(temp_name, path.stat().st_mode & 0o777)
        os.replace(temp_name, path)
    except BaseException as exc:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write: {exc.strerror}") from None
        raise
    _sync_directory(directory)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

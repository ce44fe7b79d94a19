"""Writing the file: all of it or none of it, and never a temp file left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from visitplan.atomic_files import write_atomic
from visitplan.errors import InputError


def test_new_file_is_private_and_complete(tmp_path: Path) -> None:
    target = tmp_path / "visits.ics"
    write_atomic(target, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    assert target.read_bytes() == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["visits.ics"]


def test_replacing_keeps_the_old_permissions(tmp_path: Path) -> None:
    target = tmp_path / "visits.ics"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_rename_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_text("kept", encoding="utf-8")
    with pytest.raises(InputError, match="cannot write"):
        write_atomic(target, b"new")
    assert (target / "inside").read_text(encoding="utf-8") == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_atomic(tmp_path / "nowhere" / "visits.ics", b"x")

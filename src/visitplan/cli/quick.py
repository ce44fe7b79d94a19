"""The quick path of `agenda --json`, `visits MRN --json` and `patient show MRN --json`:
the same documents as the Desk's path, from ``visitplan.records.quick_reads``, in a
process that never imports SQLAlchemy, Alembic or pydantic.

Each function answers None whenever the Desk must answer instead (and the command
then takes the normal path, which says what is wrong in its words): no database yet,
another schema revision, a protocol directory that is not one, a MRN not on record.
The workstation's clinic file must agree with the database's clinic, as the Desk
requires; a file is validated with pydantic once, and what it validates to is kept in
the user's cache directory (``visitplan.parsed_files``), so the next reads compare
without validating it again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visitplan.locations import protocol_dirs, workstation_clinic_path

if TYPE_CHECKING:
    from visitplan.cli import documents as doc
    from visitplan.records.quick_reads import QuickReads


def agenda(args: argparse.Namespace) -> list[doc.Visit] | None:
    from visitplan.cli import json_out

    with _reads(args) as reads:
        if reads is None:
            return None
        today = reads.now().date()
        day = args.date.on(today) if args.date else today
        try:
            return json_out.visits(reads.agenda(day, args.days))
        except LookupError:
            return None


def visits(args: argparse.Namespace) -> list[doc.Visit] | None:
    from visitplan.cli import json_out

    with _reads(args) as reads:
        if reads is None:
            return None
        try:
            found = reads.patient_visits(args.mrn)
        except LookupError:
            return None
        return None if found is None else json_out.visits(found)


def patient(args: argparse.Namespace) -> doc.Patient | None:
    import dataclasses

    from visitplan.cli import json_out

    with _reads(args) as reads:
        if reads is None:
            return None
        found = reads.patient(args.mrn)
        if found is None:
            return None
        view, courses = found
        current = []
        for course, sha in courses:
            now = _current(args, course.protocol_id, sha, course.protocol_version)
            if now is None:
                return None
            newer, version = now
            current.append(
                dataclasses.replace(course, newer_version_available=newer, current_version=version)
            )
        assert reads.zone is not None
        return json_out.patient(view, current, reads.zone)


@contextmanager
def _reads(args: argparse.Namespace) -> Iterator[QuickReads | None]:
    from visitplan.records.quick_reads import quick_reads

    url = _db_url(args)
    if url is None or _protocol_paths(args) is None:
        yield None
        return
    with quick_reads(url) as reads:
        stored = reads.clinic if reads is not None else None
        yield reads if stored is not None and _clinic_agrees(args, stored) else None


def _db_url(args: argparse.Namespace) -> str | None:
    """--db, else $VISITPLAN_DB, else the user's SQLite file if it exists."""
    if args.db:
        return str(args.db)
    if os.environ.get("VISITPLAN_DB"):
        return os.environ["VISITPLAN_DB"]
    import platformdirs

    path = Path(platformdirs.user_data_dir("visitplan")) / "visitplan.sqlite3"
    return f"sqlite:///{path}" if path.is_file() else None


def _protocol_paths(args: argparse.Namespace) -> dict[str, Path] | None:
    """Each protocol file by id, as ``ProtocolCatalog`` finds them; None where the
    catalog would refuse (a directory that is not one, an id defined twice)."""
    paths: dict[str, Path] = {}
    for directory in protocol_dirs(args.protocols):
        if not directory.is_dir():
            return None
        for path in sorted(directory.glob("*.toml")):
            other = paths.get(path.stem)
            if other is not None and other.resolve() != path.resolve():
                return None
            paths[path.stem] = path
    return paths


def _current(
    args: argparse.Namespace, protocol_id: str, stored_sha: str, stored_version: str
) -> tuple[bool, str | None] | None:
    """(newer_version_available, current_version) as the Desk says them, without
    parsing the file; None when only parsing it would tell (it changed)."""
    paths = _protocol_paths(args) or {}
    path = paths.get(protocol_id)
    if path is None:
        return False, None
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != stored_sha:
        return None
    return False, stored_version


def _clinic_agrees(args: argparse.Namespace, stored: dict[str, Any]) -> bool:
    """The workstation's clinic file (if any) validates to the stored clinic (the
    Desk's own check is ``clinic_settings.first_difference``)."""
    path, _ = workstation_clinic_path(args.clinic)
    if path is None:
        return True
    try:
        data = path.read_bytes()
    except OSError:
        return False
    # Equal in every setting: then the Desk's comparison (of the stored clinic as
    # today's release reads it) agrees too; any difference is the Desk's to judge.
    return _validated(path, data) == stored


def _validated(path: Path, data: bytes) -> dict[str, Any] | None:
    from visitplan.parsed_files import cache_dir, cache_key, write_private

    cache = cache_dir("clinic-files") / f"{cache_key('clinic-json', data)}.json"
    try:
        found: dict[str, Any] = json.loads(cache.read_text(encoding="utf-8"))
        return found
    except (OSError, ValueError):
        pass
    from visitplan.catalog import read_text_file
    from visitplan.domain.clinic import clinic_json, parse_clinic
    from visitplan.errors import InputError

    try:
        clinic = parse_clinic(read_text_file(path, "the clinic file"), str(path))
    except InputError:
        return None  # the Desk's path says what is wrong with it
    text = clinic_json(clinic)
    write_private(cache, text.encode("utf-8"))
    checked: dict[str, Any] = json.loads(text)
    return checked

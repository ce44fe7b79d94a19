"""An import plans outside the write transaction, so others can work meanwhile; what
they save before it writes is checked again inside it, and the courses whose days
changed are planned again. Writers wait at most a few seconds, then get one line."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from tests.support.cli import run_visitplan
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError
from visitplan.records import import_ledger, importing, store
from visitplan.records.desk_base import WRITE_LOCK
from visitplan.records.operations import Desk, open_desk

MONDAYS = [f"M{n},Synthetic M{n},dextrose-prolotherapy,2026-04-06,10:00" for n in range(3)]
TUESDAYS = [f"T{n:02d},Synthetic T{n},dextrose-prolotherapy,2026-04-07,10:00" for n in range(20)]
TEXT = "mrn,name,protocol,start,time\n" + "\n".join(MONDAYS + TUESDAYS) + "\n"


def write(tmp_path: Path, text: str = TEXT) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text(text, encoding="utf-8")
    return path


def between(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]) -> dict[str, int]:
    """Run ``meanwhile`` after the import has planned and before it writes; count the
    courses the engine plans (first, and again)."""
    real_plan_courses = import_ledger.plan_courses
    real_plan_row = import_ledger._plan_row
    counts = {"calls": 0, "planned": 0}

    def plan_courses(*args: Any, **kwargs: Any) -> Any:
        counts["calls"] += 1
        result = real_plan_courses(*args, **kwargs)
        if counts["calls"] == 1:
            meanwhile()
        return result

    def plan_row(*args: Any, **kwargs: Any) -> Any:
        counts["planned"] += 1
        return real_plan_row(*args, **kwargs)

    monkeypatch.setattr(importing, "plan_courses", plan_courses)
    monkeypatch.setattr(import_ledger, "_plan_row", plan_row)
    return counts


@pytest.fixture
def other(db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> Iterator[Desk]:
    """Another workstation on the same records."""
    with open_desk(db_url, seoul_clinic, catalog, "other") as desk:
        yield desk


def visits_of(desk: Desk) -> list[tuple[str, str, dt.datetime, str | None]]:
    return sorted((v.mrn, v.key, v.start, v.reason) for v in desk.visits() if v.mrn != "X")


def as_if_first(
    tmp_path: Path, clinic: Clinic, catalog: ProtocolCatalog, meanwhile: Callable[[Desk], object]
) -> list[tuple[str, str, dt.datetime, str | None]]:
    """The visits the import gives when what was saved meanwhile was there before it."""
    with open_desk(f"sqlite:///{tmp_path / 'ref.db'}", clinic, catalog, "ref") as ref:
        meanwhile(ref)
        ref.import_csv(write(tmp_path))
        return visits_of(ref)


Visits = list[tuple[str, str, dt.datetime, str | None]]


@pytest.fixture
def reference(
    tmp_path: Path, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> Callable[[Callable[[Desk], object]], Visits]:
    return lambda meanwhile: as_if_first(tmp_path, seoul_clinic, catalog, meanwhile)


def enroll_x(desk: Desk) -> None:
    desk.add_patient("X", "Synthetic Intruder")
    desk.enroll("X", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(10))


@pytest.mark.parametrize("inside", [importing.INSIDE, 0])
def test_slots_taken_meanwhile_are_planned_again(
    desk: Desk,
    other: Desk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: Callable[[Callable[[Desk], object]], Visits],
    inside: int,
) -> None:
    """`inside` 0: every course to plan again sends the import out of its transaction
    to plan there, and back in."""
    monkeypatch.setattr(importing, "INSIDE", inside)
    counts = between(monkeypatch, lambda: enroll_x(other))
    report = desk.import_csv(write(tmp_path))
    assert (report.patients, report.enrollments) == (23, 23)
    # Only the Monday courses share days with the intruder's: only they were planned
    # again (the Tuesday ones kept their plans).
    assert counts["planned"] == 23 + 3
    assert counts["calls"] == (2 if inside else 3)
    assert visits_of(desk) == reference(enroll_x)
    first = {v.mrn: v for v in desk.agenda(dt.date(2026, 4, 6))}
    assert f"{first['X'].start:%H:%M}" == "10:00"
    assert f"{first['M0'].start:%H:%M}" != "10:00"


def test_with_nothing_saved_meanwhile_each_course_is_planned_once(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also on a new database, whose first write stores the clinic it plans with."""
    counts = between(monkeypatch, lambda: None)
    assert desk.import_csv(write(tmp_path)).enrollments == 23
    assert counts == {"calls": 1, "planned": 23}


def test_a_closure_added_meanwhile_plans_every_course_anew(
    desk: Desk,
    other: Desk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: Callable[[Callable[[Desk], object]], Visits],
) -> None:
    """The planning saw Monday 6 April open; by the time of writing it is closed."""
    counts = between(monkeypatch, lambda: other.add_closure(dt.date(2026, 4, 6)))
    report = desk.import_csv(write(tmp_path))
    assert report.enrollments == 23
    assert counts["planned"] == 23 + 23
    assert desk.agenda(dt.date(2026, 4, 6)) == []
    assert visits_of(desk) == reference(lambda ref: ref.add_closure(dt.date(2026, 4, 6)))


def test_a_patient_added_meanwhile_with_the_same_details_is_the_same_patient(
    desk: Desk, other: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    between(monkeypatch, lambda: other.add_patient("m1", "Synthetic M1"))
    report = desk.import_csv(write(tmp_path))
    assert (report.patients, report.enrollments) == (22, 23)
    assert [e.protocol_id for e in desk.enrollments("m1")] == ["dextrose-prolotherapy"]


@pytest.mark.parametrize(
    ("meanwhile", "fragment"),
    [
        (
            lambda o: o.add_patient("M1", "Synthetic Other"),
            "row 3, column name: MRN M1 is stored with another name",
        ),
        (
            lambda o: (
                o.add_patient("T05", "Synthetic T5"),
                o.enroll("T05", "dextrose-prolotherapy", dt.date(2026, 3, 2)),
            ),
            "row 10, column protocol: MRN T05's dextrose-prolotherapy course is running",
        ),
    ],
)
def test_what_was_saved_meanwhile_is_checked_again(
    desk: Desk,
    other: Desk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: Callable[[Desk], Any],
    fragment: str,
) -> None:
    between(monkeypatch, lambda: meanwhile(other))
    with pytest.raises(InputError, match=fragment):
        desk.import_csv(write(tmp_path))
    assert {p.mrn for p in desk.patients()} <= {"M1", "T05"}


def test_others_can_save_while_the_import_plans(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seoul_clinic: Clinic,
    catalog: ProtocolCatalog,
) -> None:
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 200)
    with (
        open_desk(db_url, seoul_clinic, catalog, "importer") as desk,
        open_desk(db_url, seoul_clinic, catalog, "front desk") as front,
    ):
        # Had the import a lock while it plans, this would wait 0.2 s and fail.
        between(monkeypatch, lambda: front.add_patient("W1", "Synthetic Walk-in"))
        desk.import_csv(write(tmp_path))
        assert len(desk.patients()) == 24


@contextmanager
def write_lock_held(db_url: str) -> Iterator[None]:
    """Another workstation in the middle of a save that does not end."""
    if db_url.startswith("sqlite"):
        lite = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        lite.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lite.rollback()
            lite.close()
        return
    engine = create_engine(db_url)
    try:
        with engine.connect() as holder:
            holder.execute(select(func.pg_advisory_lock(WRITE_LOCK)))
            try:
                yield
            finally:
                holder.execute(select(func.pg_advisory_unlock(WRITE_LOCK)))
    finally:
        engine.dispose()


def test_a_writer_kept_waiting_gets_one_line(
    db_url: str, monkeypatch: pytest.MonkeyPatch, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 300)
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        with write_lock_held(db_url), pytest.raises(InputError) as caught:
            desk.add_patient("P1", "Synthetic One")
        assert caught.value.message.startswith("the records are busy (another workstation")
        assert "locked" not in caught.value.message
        # The lock gone, the same desk saves at once.
        desk.add_patient("P1", "Synthetic One")
        assert [p.mrn for p in desk.patients()] == ["P1"]


def test_the_command_says_busy_not_database_is_locked(
    db_url: str, seoul_clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    env = {**visitplan_home, "VISITPLAN_DB": db_url, "VISITPLAN_CLINIC": str(seoul_clinic_file)}
    assert run_visitplan("db", "upgrade", env=env).status == 0
    with write_lock_held(db_url):
        result = run_visitplan("patient", "add", "P1", "--name", "Synthetic One", env=env)
    assert result.status == 2
    assert result.err.splitlines() == [f"visitplan: {store.BUSY}"]
    assert run_visitplan("patient", "add", "P1", "--name", "Synthetic One", env=env).status == 0

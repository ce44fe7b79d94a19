"""Visit changes and their cascade.

The cascade is the protocol's: when a visit happens on another day than planned
(done late or early, moved), the engine plans the course again from its stored
snapshot with every visit pinned except the changed visit's dependents that are
still open. A visit anchored on the course start never moves because an earlier
visit was late.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pendulum
from sqlalchemy import Connection, select, update

from visitplan.domain.engine import plan
from visitplan.domain.protocol import Offset, Protocol, Window, dependents
from visitplan.errors import InputError
from visitplan.records import outbox
from visitplan.records.reading import PATIENTS, VISITS, from_utc, to_utc, visit_query
from visitplan.records.views import SETTLED, VisitChange

if TYPE_CHECKING:
    from visitplan.records.operations import Desk


def complete(
    desk: Desk, visit_id: int, at: dt.datetime | None, expected: int | None, dry_run: bool
) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        _require(row, ("scheduled", "missed"), "marked done")
        seen = _seen(row, expected)
        tz = desk.calendar.tz
        actual = desk.now() if at is None else _local(at, tz)
        if actual > desk.now().add(minutes=1):
            raise InputError(f"visit {visit_id}: {actual:%Y-%m-%d %H:%M} is in the future")
        now = desk._stamp()
        old_day = from_utc(row.start_at, tz).date()
        duration = row.end_at - row.start_at
        desk.change_visit(
            c,
            row,
            seen,
            {
                "status": "completed",
                "actual_at": to_utc(actual),
                "start_at": to_utc(actual),
                "end_at": to_utc(actual) + duration,
            },
            now,
            action="done",
            mrn=row.mrn,
        )
        moved = _cascade(desk, c, row, actual, now) if actual.date() != old_day else []
        outbox.visits_changed(c, desk, [visit_id, *moved], now)
        return _result(desk, c, visit_id, moved, ())


def move(
    desk: Desk, visit_id: int, to: dt.datetime, force: bool, expected: int | None, dry_run: bool
) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        _require(row, ("scheduled", "missed"), "moved")
        seen = _seen(row, expected)
        tz = desk.calendar.tz
        asked = _local(to, tz)
        day = asked.date()
        problems = []
        if not row.earliest <= day <= row.latest:
            problems.append(f"{day} is outside its window {row.earliest} to {row.latest}")
        closed = desk.calendar.closed_because(day)
        if closed:
            problems.append(f"the clinic is closed on {day} ({closed})")
        if problems and not force:
            raise InputError(
                f"visit {visit_id} cannot move to {asked:%Y-%m-%d %H:%M}: "
                + "; ".join(problems)
                + " (--force books it anyway, as a deviation)"
            )
        duration = row.end_at - row.start_at
        warnings: tuple[str, ...] = ()
        if closed:
            begin, reason = asked, None
        else:
            begin, reason, warnings = _place(desk, c, row, asked, duration)
        now = desk._stamp()
        changes: dict[str, Any] = {
            "status": "scheduled",
            "start_at": to_utc(begin),
            "end_at": to_utc(begin) + duration,
            "reason": reason,
            "warnings": json.dumps(list(warnings), ensure_ascii=False),
            "deviation": "; ".join(problems) if problems else None,
        }
        desk.change_visit(c, row, seen, changes, now, action="moved", mrn=row.mrn)
        old_day = from_utc(row.start_at, tz).date()
        moved = _cascade(desk, c, row, begin, now) if begin.date() != old_day else []
        outbox.visits_changed(c, desk, [visit_id, *moved], now)
        return _result(desk, c, visit_id, moved, warnings)


def miss(desk: Desk, visit_id: int, expected: int | None, dry_run: bool) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        _require(row, ("scheduled",), "marked missed")
        now = desk._stamp()
        desk.change_visit(
            c, row, _seen(row, expected), {"status": "missed"}, now, action="missed", mrn=row.mrn
        )
        c.execute(
            update(PATIENTS)
            .where(PATIENTS.c.mrn == row.mrn)
            .values(
                no_shows=PATIENTS.c.no_shows + 1, revision=PATIENTS.c.revision + 1, updated_at=now
            )
        )
        outbox.visits_changed(c, desk, [visit_id], now)
        return _result(desk, c, visit_id, [], ())


def cancel(desk: Desk, visit_id: int, expected: int | None, dry_run: bool) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        _require(row, ("scheduled", "missed"), "cancelled")
        desk.change_visit(
            c,
            row,
            _seen(row, expected),
            {"status": "cancelled"},
            desk._stamp(),
            action="cancelled",
            mrn=row.mrn,
        )
        outbox.visits_changed(c, desk, [visit_id], desk._stamp())
        return _result(desk, c, visit_id, [], ())


def _require(row: Any, allowed: tuple[str, ...], what: str) -> None:
    if row.status not in allowed:
        raise InputError(
            f"visit {row.id} is {row.status}; only a {' or '.join(allowed)} visit can be {what}"
        )


def _seen(row: Any, expected: int | None) -> int:
    """The revision the change is based on; a stale one fails before anything runs."""
    from visitplan.records.operations import STALE

    if expected is not None and expected != row.revision:
        raise InputError(f"visit {row.id}: {STALE}")
    return int(row.revision) if expected is None else expected


def _local(moment: dt.datetime, tz: Any) -> pendulum.DateTime:
    if moment.tzinfo is None:
        return pendulum.instance(moment, tz=tz)
    return pendulum.instance(moment).in_timezone(tz)


def _place(
    desk: Desk, c: Connection, row: Any, asked: pendulum.DateTime, duration: dt.timedelta
) -> tuple[pendulum.DateTime, str | None, tuple[str, ...]]:
    """The engine's choice of time on the asked day: the asked time if the clinic
    has room, else the nearest free start within opening hours, else a warning."""
    snapshot = desk._snapshots.get(c, row.snapshot_id)
    definition = snapshot.steps[row.key].definition.model_copy(
        update={"anchor": "start", "offset": Offset(), "repeat": None, "window": Window()}
    )
    single = Protocol(title=snapshot.title, version=snapshot.version, visits=(definition,))
    day = asked.date()
    bookings = desk.bookings(c, {day}, exclude_visit=row.id)
    placed = plan(single, desk.calendar, day, asked.time(), bookings=bookings).visits[0]
    return placed.start, placed.reason, placed.warnings


def _cascade(
    desk: Desk, c: Connection, changed: Any, new_start: pendulum.DateTime, now: dt.datetime
) -> list[int]:
    """Plan the changed visit's open dependents again; the ids of those that moved."""
    snapshot = desk._snapshots.get(c, changed.snapshot_id)
    course = c.execute(select(VISITS).where(VISITS.c.enrollment_id == changed.enrollment_id)).all()
    follow = dependents(snapshot.protocol, changed.key)
    tz = desk.calendar.tz
    pinned: dict[str, dt.datetime] = {changed.key: new_start}
    for row in course:
        if row.key != changed.key and (row.key not in follow or row.status in SETTLED):
            pinned[row.key] = from_utc(row.start_at, tz)
    enrollment = desk._enrollment_row(c, changed.enrollment_id)
    result = desk.plan_course(
        c,
        snapshot.protocol,
        enrollment.start_date,
        dt.time.fromisoformat(enrollment.visit_time),
        pinned=pinned,
        exclude_enrollment=changed.enrollment_id,
    )
    planned = result.by_key()
    moved = []
    for row in course:
        if row.key in pinned:
            continue
        v = planned[row.key]
        changes = {
            "target": v.target,
            "earliest": v.earliest,
            "latest": v.latest,
            "start_at": to_utc(v.start),
            "end_at": to_utc(v.end),
            "reason": v.reason,
            "warnings": json.dumps(list(v.warnings), ensure_ascii=False),
        }
        changes = {k: value for k, value in changes.items() if getattr(row, k) != value}
        if changes:
            desk.change_visit(
                c, row, row.revision, changes, now, action="rescheduled", mrn=changed.mrn
            )
            moved.append(row.id)
    return moved


def _result(
    desk: Desk, c: Connection, visit_id: int, moved: list[int], warnings: tuple[str, ...]
) -> VisitChange:
    from visitplan.records.reading import visit_views

    rows = c.execute(
        visit_query().where(VISITS.c.id.in_([visit_id, *moved])).order_by(VISITS.c.start_at)
    ).all()
    views = visit_views(c, rows, desk._snapshots, desk.calendar.tz)
    main = next(v for v in views if v.id == visit_id)
    return VisitChange(main, tuple(v for v in views if v.id != visit_id), warnings)

"""The worklist: every open visit that needs a person, with what to do about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, select

from visitplan.domain.deviation import clinic_problem
from visitplan.records.reading import (
    ENROLLMENTS,
    VISITS,
    to_utc,
    utc_aware,
    visit_query,
    visit_views,
)
from visitplan.records.views import VisitView

if TYPE_CHECKING:
    from visitplan.records.messages import MessageRecords

Reason = Literal[
    "overdue",
    "owed",
    "out-of-window",
    "closed-day",
    "outside-hours",
    "pinned-far",
    "message-failed",
]
# In this order a visit's first matching reason is the one listed: an outcome comes
# before a better day, and a closed day before a window.
REASONS: tuple[Reason, ...] = (
    "owed",
    "overdue",
    "closed-day",
    "outside-hours",
    "pinned-far",
    "out-of-window",
    "message-failed",
)

TODO: dict[Reason, str] = {
    "owed": "a no-show: book it again (move) or cancel it",
    "overdue": "its time has passed: record it as done or as a no-show",
    "closed-day": "the clinic (or its clinician) is closed that day: move it to an open day",
    "outside-hours": "it runs outside opening hours: move it to another time",
    "pinned-far": "placed by hand, now outside its window: move it or keep it as a deviation",
    "out-of-window": "outside its window: move it into the window or keep it as a deviation",
    "message-failed": "an e-mail to the patient about it was refused: check their address "
    "(patient edit) or tell them another way",
}


@dataclass(frozen=True, slots=True)
class WorkItem:
    reason: Reason
    visit: VisitView
    # For a failed e-mail: what the mail server said (no address in it).
    detail: str | None = None

    @property
    def todo(self) -> str:
        return TODO[self.reason]


def worklist(desk: MessageRecords) -> list[WorkItem]:
    """Open visits of running courses that need someone, in time order; then the
    visits whose patient an e-mail failed to reach (any status: the patient may still
    think a cancelled visit stands)."""
    return worklist_head(desk, None).items


@dataclass(frozen=True, slots=True)
class WorklistHead:
    """The first items of the worklist, and how many it holds in all."""

    items: list[WorkItem]
    total: int


def worklist_head(desk: MessageRecords, limit: int | None) -> WorklistHead:
    """The worklist's first ``limit`` items (all of them for None), in its order; a
    failed e-mail is always among them, however many visits are overdue (the patient
    may not know of a change: that cannot wait behind a backlog of outcomes)."""
    now = desk.now()
    failed = desk.failed_messages()
    with desk._read() as c:
        # Each open visit is judged from a few columns; only those that need someone,
        # and are shown, are read whole (building a view costs far more than judging
        # a visit, and a clinic that enters courses late has tens of thousands).
        stored_now = to_utc(now)  # compared with the stored (naive UTC) times as they are
        flagged: list[tuple[int, Reason, str | None]] = [
            (row[0], reason, None)
            for row in c.execute(_OPEN).all()
            if (reason := _reason(row, stored_now, desk)) is not None
        ]
        told: list[tuple[int, Reason, str | None]] = [
            (m.visit_id, "message-failed", m.error) for m in failed
        ]
        room = len(flagged) if limit is None else max(limit - len(told), 0)
        entries = flagged[:room] + told
        views = _views(c, desk, {visit_id for visit_id, _, _ in entries})
    items = [WorkItem(reason, views[visit_id], detail) for visit_id, reason, detail in entries]
    return WorklistHead(items, len(flagged) + len(told))


_OPEN = (
    select(
        VISITS.c.id,
        VISITS.c.status,
        VISITS.c.start_at,
        VISITS.c.end_at,
        VISITS.c.earliest,
        VISITS.c.latest,
        VISITS.c.pinned,
        VISITS.c.clinician_id,
    )
    .select_from(VISITS.join(ENROLLMENTS, VISITS.c.enrollment_id == ENROLLMENTS.c.id))
    .where(VISITS.c.status.in_(("scheduled", "missed")), ENROLLMENTS.c.status == "active")
    .order_by(VISITS.c.start_at, VISITS.c.id)
)
# Ids per query: well inside every SQLite build's limit on bound parameters.
_CHUNK = 900


def _views(c: Connection, desk: MessageRecords, ids: set[int]) -> dict[int, VisitView]:
    found: dict[int, VisitView] = {}
    ordered = sorted(ids)
    for first in range(0, len(ordered), _CHUNK):
        query = visit_query().where(VISITS.c.id.in_(ordered[first : first + _CHUNK]))
        for view in visit_views(c, c.execute(query), desk._snapshots, desk.calendar.tz):
            found[view.id] = view
    return found


def _reason(row: Any, stored_now: dt.datetime, desk: MessageRecords) -> Reason | None:
    _, status, start_at, end_at, earliest, latest, pinned, clinician_id = row
    if status == "missed":
        return "owed"
    if start_at < stored_now:
        return "overdue"
    calendar = desk.calendar_for(clinician_id)
    start = utc_aware(start_at)
    problem = clinic_problem(calendar, start, utc_aware(end_at))
    if problem is not None:
        return problem[0]
    # The window is of clinic days: the visit's own day where the clinic is.
    if not earliest <= start.astimezone(calendar.zone).date() <= latest:
        return "pinned-far" if pinned else "out-of-window"
    return None

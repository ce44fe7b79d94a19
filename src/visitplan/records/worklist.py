"""The worklist: every open visit that needs a person, with what to do about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from visitplan.domain.clinic import ClinicCalendar
from visitplan.domain.deviation import clinic_problem
from visitplan.records.reading import ENROLLMENTS, VISITS, visit_query, visit_views
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
    now = desk.now()
    tz = desk.calendar.tz
    query = (
        visit_query()
        .where(VISITS.c.status.in_(("scheduled", "missed")), ENROLLMENTS.c.status == "active")
        .order_by(VISITS.c.start_at, VISITS.c.id)
    )
    failed = desk.failed_messages()
    with desk._read() as c:
        views = visit_views(c, c.execute(query), desk._snapshots, tz)
        ids = sorted({m.visit_id for m in failed})
        told = visit_views(
            c, c.execute(visit_query().where(VISITS.c.id.in_(ids))), desk._snapshots, tz
        )
    items = []
    for visit in views:
        reason = _reason(visit, now, desk.calendar_for(visit.clinician_id))
        if reason is not None:
            items.append(WorkItem(reason, visit))
    by_id = {v.id: v for v in told}
    for message in failed:
        items.append(WorkItem("message-failed", by_id[message.visit_id], message.error))
    return items


def _reason(visit: VisitView, now: dt.datetime, calendar: ClinicCalendar) -> Reason | None:
    if visit.status == "missed":
        return "owed"
    if visit.start < now:
        return "overdue"
    problem = clinic_problem(calendar, visit.start, visit.end)
    if problem is not None:
        return problem[0]
    if not visit.in_window:
        return "pinned-far" if visit.pinned else "out-of-window"
    return None

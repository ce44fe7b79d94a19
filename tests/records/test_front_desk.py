"""The front desk's rules, through the Desk, on both backends: what is refused with a
clear line, what is recorded as a deviation, and how every mistake is put right."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from tests.records.helpers import Clock, at, by_key, days, enrolled
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError, NeedsOverride
from visitplan.records.operations import Desk, open_desk

START = "2026-04-06"  # a Monday; the course runs to the follow-up in September


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-04-01", "08:00"))


@pytest.fixture
def desk_at(
    db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog, clock: Clock
) -> Iterator[Callable[[str, str], Desk]]:
    """A desk whose "now" is set by each call: desk_at("2026-04-08", "12:00")."""
    with open_desk(db_url, seoul_clinic, catalog, "tester", clock=clock) as opened:

        def at_time(day: str, time: str = "10:00") -> Desk:
            clock.set(day, time)
            return opened

        yield at_time


# -- one running course per patient and protocol ---------------------------------


def test_a_second_running_course_needs_another(desk: Desk) -> None:
    first = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    course = first["session-1"].enrollment_id
    with pytest.raises(NeedsOverride) as refused:
        desk.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 5, 4))
    assert refused.value.message == (
        f"P1 already has a running course of dextrose-prolotherapy: course {course} "
        "from Mon 2026-04-06"
    )
    assert refused.value.override == "another"
    assert len(desk.enrollments("P1")) == 1
    second = desk.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 5, 4), another=True)
    assert second.enrollment.id != course
    # Another protocol is another course: no question asked.
    desk.enroll("P1", "eswt-plantar-fasciitis", dt.date(2026, 4, 7))
    assert len(desk.enrollments("P1")) == 3


def test_a_withdrawn_course_does_not_block_a_new_one(desk: Desk) -> None:
    first = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    desk.withdraw(first["session-1"].enrollment_id)
    desk.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 5, 4))
    with pytest.raises(NeedsOverride, match="already has a running course"):
        desk.reinstate(first["session-1"].enrollment_id)


# -- outcomes happen in real time ------------------------------------------------


def test_done_without_a_time_is_as_booked_or_refused_when_long_past(
    desk_at: Callable[[str, str], Desk],
) -> None:
    desk = desk_at("2026-04-01", "08:00")
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    s1, s2 = visits["session-1"], visits["session-2"]
    # The afternoon of the visit: it happened as booked, not "now".
    done = desk_at("2026-04-06", "16:30").complete_visit(s1.id)
    assert done.visit.actual == s1.start
    # Session 2's window ends 2026-04-23; a week later nobody can say "just now".
    desk = desk_at("2026-04-30", "10:00")
    with pytest.raises(InputError) as refused:
        desk.complete_visit(s2.id)
    assert refused.value.message == (
        "Session 2 of 6 for P1 was due by Thu 2026-04-23, more than a day ago: say when it was done"
    )
    assert refused.value.cli_hint is not None
    assert "--at" in refused.value.cli_hint
    assert desk.visit(s2.id).status == "scheduled"
    # Early on the day itself, before its booked time: done now.
    desk = desk_at("2026-04-20", "09:10")
    assert desk.complete_visit(s2.id).visit.actual == at("2026-04-20", "09:10")


def test_done_times_must_have_happened_in_order(desk_at: Callable[[str, str], Desk]) -> None:
    desk = desk_at("2026-04-01", "08:00")
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    s1, s2 = visits["session-1"], visits["session-2"]
    desk = desk_at("2026-04-06", "12:00")
    with pytest.raises(InputError, match="Tue 2026-04-07 10:00 is in the future"):
        desk.complete_visit(s1.id, at("2026-04-07"))
    with pytest.raises(InputError, match=r"before its course started \(Mon 2026-04-06\)"):
        desk.complete_visit(s1.id, at("2026-04-05"))
    with pytest.raises(InputError, match="0001-01-01 is outside the years 1900 to 2200"):
        desk.complete_visit(s1.id, dt.datetime(1, 1, 1, 0, 0))
    desk.complete_visit(s1.id, at("2026-04-06", "10:05"))
    desk = desk_at("2026-04-21", "12:00")
    with pytest.raises(
        InputError, match=r"before Session 1 of 6 was done \(Mon 2026-04-06 10:05\)"
    ):
        desk.complete_visit(s2.id, at("2026-04-06", "09:00"))
    assert desk.visit(s2.id).status == "scheduled"


def test_a_done_time_on_a_closed_day_or_after_hours_is_a_deviation(
    desk_at: Callable[[str, str], Desk],
) -> None:
    desk = desk_at("2026-04-01", "08:00")
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    desk = desk_at("2026-04-30", "12:00")
    # A Saturday: recorded, and labelled for what it is.
    on_saturday = desk.complete_visit(visits["session-1"].id, at("2026-04-11", "11:00"))
    assert on_saturday.visit.status == "completed"
    assert on_saturday.visit.deviation == (
        # The first session's window starts at the course start, never before it.
        "2 days after its window (Mon 2026-04-06 to Thu 2026-04-09); "
        "on a day the clinic is closed (closed on Saturdays)"
    )
    late = desk.complete_visit(visits["session-2"].id, at("2026-04-24", "17:30"))
    assert late.visit.deviation is not None
    assert "17:30-18:15 is outside opening hours (09:00-18:00)" in late.visit.deviation


def test_a_no_show_only_once_its_time_has_passed(desk_at: Callable[[str, str], Desk]) -> None:
    desk = desk_at("2026-04-01", "08:00")
    s1 = enrolled(desk, "P1", "dextrose-prolotherapy", START)["session-1"]
    desk = desk_at("2026-04-06", "09:59")
    with pytest.raises(
        InputError, match="booked for Mon 2026-04-06 10:00: a no-show can be recorded once"
    ):
        desk.miss_visit(s1.id)
    assert desk_at("2026-04-06", "10:01").miss_visit(s1.id).visit.status == "missed"


# -- hand placement sticks -------------------------------------------------------


def test_a_visit_moved_by_hand_is_left_by_later_cascades(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    # Session 3 placed by hand on its window's last day.
    by_hand = desk.move_visit(visits["session-3"].id, at("2026-05-07", "15:00"))
    assert by_hand.visit.pinned
    assert days(by_hand.moved) == {
        "session-4": "2026-05-21",
        "session-5": "2026-06-04",
        "session-6": "2026-06-18",
        "follow-up": "2026-09-18",
    }
    # Session 1 done a week late would carry session 3 along; it stays, and says so.
    change = desk.complete_visit(visits["session-1"].id, at("2026-04-09", "10:00"))
    assert "session-3" not in {v.key for v in change.moved}
    assert [v.key for v in change.left] == ["session-3"]
    left = change.left[0]
    assert left.start == at("2026-05-07", "15:00")
    assert left.target.isoformat() == "2026-05-07"  # session 2 moved to 04-23
    assert days(change.moved)["session-2"] == "2026-04-23"
    # Session 1 four more days late moves the target past the pinned day: the label
    # describes the visit where it is now, against its new window.
    again = desk.reopen_visit(visits["session-1"].id)
    assert days(again.moved)["session-2"] == "2026-04-20"
    assert again.left[0].key == "session-3"
    assert again.left[0].deviation is None  # 05-04 target, 05-07 still inside
    later = desk.complete_visit(visits["session-1"].id, at("2026-04-13", "10:00"))
    pinned = later.left[0]
    assert pinned.target.isoformat() == "2026-05-11"
    assert pinned.deviation == "1 day before its window (Fri 2026-05-08 to Thu 2026-05-14)"


def test_deviation_labels_follow_the_visit_back_into_its_window(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    forced = desk.move_visit(visits["session-2"].id, at("2026-04-27"), force=True)
    assert forced.visit.deviation is not None
    back = desk.move_visit(visits["session-2"].id, at("2026-04-21"))
    assert back.visit.deviation is None


def test_a_no_show_is_rebooked_after_its_window_without_force(
    desk_at: Callable[[str, str], Desk],
) -> None:
    desk = desk_at("2026-04-01", "08:00")
    s2 = enrolled(desk, "P1", "dextrose-prolotherapy", START)["session-2"]
    desk = desk_at("2026-04-20", "11:00")
    desk.miss_visit(s2.id)
    desk = desk_at("2026-04-27", "09:00")
    rebooked = desk.move_visit(s2.id, at("2026-04-28", "10:00"))
    assert rebooked.visit.status == "scheduled"
    assert rebooked.visit.reason == "rebooked after the no-show of Mon 2026-04-20"
    assert rebooked.visit.deviation == (
        "5 days after its window (Fri 2026-04-17 to Thu 2026-04-23)"
    )
    # A closed day is still refused.
    with pytest.raises(NeedsOverride, match="closed"):
        desk.move_visit(s2.id, at("2026-05-05"))


# -- undo -------------------------------------------------------------------------


def test_reopen_undoes_a_wrong_done_and_its_cascade(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    before = days(desk.visits(mrn="P1"))
    done = desk.complete_visit(visits["session-1"].id, at("2026-04-08", "11:00"))
    assert days(done.moved)["session-2"] == "2026-04-22"
    reopened = desk.reopen_visit(visits["session-1"].id, expected_revision=done.visit.revision)
    assert reopened.visit.status == "scheduled"
    assert reopened.visit.actual is None
    assert reopened.visit.start == visits["session-1"].start
    assert days(desk.visits(mrn="P1")) == before
    assert desk.history("P1")[-len(reopened.moved) - 1].action == "reopened"


def test_reopen_a_no_show_and_a_cancellation(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    desk.miss_visit(visits["session-1"].id)
    assert desk.patient("P1").no_shows == 1
    assert desk.reopen_visit(visits["session-1"].id).visit.status == "scheduled"
    assert desk.patient("P1").no_shows == 0
    desk.cancel_visit(visits["session-2"].id)
    reopened = desk.reopen_visit(visits["session-2"].id)
    assert (reopened.visit.status, reopened.visit.cancelled_by) == ("scheduled", None)
    with pytest.raises(InputError, match="is scheduled; only a completed, missed or cancelled"):
        desk.reopen_visit(visits["session-2"].id)
    cancelled = desk.cancel_visit(visits["session-3"].id).visit
    with pytest.raises(
        InputError, match=f"at revision {cancelled.revision}; there is no revision 9"
    ):
        desk.reopen_visit(visits["session-3"].id, expected_revision=9)


def test_reinstate_brings_back_what_the_withdrawal_cancelled(
    desk_at: Callable[[str, str], Desk],
) -> None:
    desk = desk_at("2026-04-01", "08:00")  # the whole course still ahead
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", START)
    desk.cancel_visit(visits["session-6"].id)  # cancelled by staff before the withdrawal
    course = visits["session-1"].enrollment_id
    desk.withdraw(course)
    with pytest.raises(InputError, match="reinstate the course first"):
        desk.reopen_visit(visits["session-2"].id)
    # Meanwhile another patient takes session 2's hour (the clinic has one room).
    other = enrolled(desk, "P2", "eswt-plantar-fasciitis", "2026-04-20")
    assert other["application-1"].start == visits["session-2"].start
    back = desk.reinstate(course)
    assert back.enrollment.status == "active"
    statuses = {v.key: v.status for v in back.visits}
    assert statuses["session-6"] == "cancelled"
    assert {k for k, s in statuses.items() if s == "scheduled"} == set(visits) - {"session-6"}
    s2 = by_key(back.visits)["session-2"]
    assert s2.start == at("2026-04-20", "10:30")  # the nearest free time that day
    assert any("Session 2 of 6 for P1: 10:00 was fully booked" in w for w in back.warnings)
    with pytest.raises(InputError, match="only a withdrawn course can be reinstated"):
        desk.reinstate(course)


# -- courses entered after the fact -------------------------------------------------


def test_a_course_entered_late_has_overdue_visits_or_done_ones(
    desk_at: Callable[[str, str], Desk],
) -> None:
    desk = desk_at("2026-05-06", "12:00")
    desk.add_patient("P1", "Synthetic Patient P1")
    late = desk.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(10, 0))
    assert [v.status for v in late.visits][:3] == ["scheduled"] * 3
    assert late.warnings[-1].startswith("3 visits are already past with no outcome: overdue")
    desk.add_patient("P2", "Synthetic Patient P2")
    moved_in = desk.enroll(
        "P2",
        "dextrose-prolotherapy",
        dt.date(2026, 4, 6),
        dt.time(11, 0),
        done_through=dt.date(2026, 4, 30),
    )
    done = [v for v in moved_in.visits if v.status == "completed"]
    assert [v.key for v in done] == ["session-1", "session-2"]
    assert all(v.actual == v.start for v in done)
    assert moved_in.warnings[-1].startswith("1 visit is already past")
    with pytest.raises(InputError, match="between the course start"):
        desk.enroll(
            "P2",
            "eswt-plantar-fasciitis",
            dt.date(2026, 4, 6),
            done_through=dt.date(2026, 6, 1),
        )


# -- patients ----------------------------------------------------------------------


def test_mrns_are_one_patient_whatever_the_case(desk: Desk) -> None:
    desk.add_patient("DEMO-001", "Synthetic Person")
    with pytest.raises(InputError, match="MRN 'demo-001' already exists as 'DEMO-001'"):
        desk.add_patient("demo-001", "Another Person")
    assert desk.patient(" demo-001 ").mrn == "DEMO-001"
    edited = desk.update_patient("demo-001", name="Synthetic Renamed", expected_revision=1)
    assert (edited.mrn, edited.name, edited.revision) == ("DEMO-001", "Synthetic Renamed", 2)
    assert [h.action for h in desk.history("Demo-001")] == ["patient added", "patient changed"]

"""The cascade rules: late, early, moved, missed, cancelled; anchors on the previous
visit against anchors on the start. Runs on SQLite and (when set up) PostgreSQL."""

from __future__ import annotations

import pytest

from tests.records.helpers import at, days, enrolled
from visitplan.errors import InputError
from visitplan.records.operations import Desk

SESSIONS = {
    "session-1": "2026-04-06",
    "session-2": "2026-04-20",
    "session-3": "2026-05-04",
    "session-4": "2026-05-18",
    "session-5": "2026-06-01",
    "session-6": "2026-06-15",
    "follow-up": "2026-09-15",
}


def test_enrolled_course_follows_the_protocol(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    assert days(list(visits.values())) == SESSIONS


def test_late_visit_carries_its_chain_and_skips_a_closed_day(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    change = desk.complete_visit(visits["session-1"].id, at("2026-04-08"))
    assert change.visit.status == "completed"
    assert change.visit.actual == at("2026-04-08")
    after = days(desk.visits(mrn="P1"))
    assert after["session-1"] == "2026-04-08"
    assert after["session-2"] == "2026-04-22"
    assert after["session-4"] == "2026-05-20"
    # 2026-06-03 is Local Election Day in Korea: the nearest open day in the window.
    assert after["session-5"] == "2026-06-04"
    assert after["session-6"] == "2026-06-18"
    assert after["follow-up"] == "2026-09-18"
    assert {v.key for v in change.moved} == set(SESSIONS) - {"session-1"}
    moved_5 = next(v for v in change.moved if v.key == "session-5")
    assert moved_5.target.isoformat() == "2026-06-03"
    # What it followed first, then why it is not on its target day.
    assert moved_5.reason == "moved with Session 1 of 6: done 2 days late; Local Election Day"


def test_early_visit_pulls_its_chain_forward(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    desk.complete_visit(visits["session-2"].id, at("2026-04-17", "16:00"))
    after = days(desk.visits(mrn="P1"))
    assert after["session-1"] == "2026-04-06"
    assert after["session-2"] == "2026-04-17"
    # The target 2026-05-01 is Labor Day and 05-02 a Saturday: the nearest open day.
    assert after["session-3"] == "2026-04-30"
    assert after["session-4"] == "2026-05-14"


def test_on_time_visit_moves_nothing(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    change = desk.complete_visit(visits["session-1"].id, at("2026-04-06", "10:20"))
    assert change.moved == ()
    assert days(desk.visits(mrn="P1")) == SESSIONS


def test_anchor_on_the_start_does_not_move_when_an_earlier_visit_is_late(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "prolotherapy-knee-oa", "2026-04-06")
    before = days(list(visits.values()))
    desk.complete_visit(visits["injection-1"].id, at("2026-04-15"))
    after = days(desk.visits(mrn="P1"))
    assert after["injection-2"] == "2026-05-13"
    assert after["injection-3"] == "2026-06-10"
    # Assessments hang on the baseline visit, not on the injections.
    for key in ("baseline", "week-12", "week-26", "week-52"):
        assert after[key] == before[key]


def test_late_baseline_moves_everything_anchored_on_it(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "prolotherapy-knee-oa", "2026-04-06")
    desk.complete_visit(visits["baseline"].id, at("2026-04-08"))
    after = days(desk.visits(mrn="P1"))
    assert after["injection-1"] == "2026-04-15"
    assert after["week-12"] == "2026-07-01"


def test_fixed_grid_second_injection_late_does_not_push_the_third(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "prolotherapy-knee-bimonthly", "2026-04-06")
    before = days(list(visits.values()))
    change = desk.complete_visit(visits["injection-2"].id, at("2026-06-10"))
    assert change.moved == ()
    after = days(desk.visits(mrn="P1"))
    assert after["injection-3"] == before["injection-3"]
    assert after["evaluation"] == before["evaluation"]


def test_move_within_window_cascades_and_keeps_the_uid(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    old = visits["session-2"]
    change = desk.move_visit(old.id, at("2026-04-22", "14:00"))
    assert change.visit.uid == old.uid
    assert change.visit.revision == old.revision + 1
    assert change.visit.sequence == old.sequence + 1
    assert change.visit.start == at("2026-04-22", "14:00")
    assert change.visit.deviation is None
    after = days(desk.visits(mrn="P1"))
    assert after["session-3"] == "2026-05-06"
    # The dependents keep the course's own visit time, not the moved visit's.
    session_3 = next(v for v in change.moved if v.key == "session-3")
    assert f"{session_3.start:%H:%M}" == "10:00"


def test_move_outside_window_is_refused_and_changes_nothing(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    version = desk.data_version()
    with pytest.raises(
        InputError, match=r"outside its window Fri 2026-04-17 to Thu 2026-04-23"
    ) as refused:
        desk.move_visit(visits["session-2"].id, at("2026-04-27"))
    # The Desk names the visit in the clinic's words; the command line adds its option.
    assert refused.value.message.startswith("Session 2 of 6 for P1 cannot move")
    assert refused.value.cli_hint == "--force books it anyway, as a deviation"
    assert desk.data_version() == version
    assert desk.visit(visits["session-2"].id).revision == 1


def test_move_to_closed_day_is_refused(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    with pytest.raises(InputError, match=r"closed on Tue 2026-05-05 \(Children's Day\)"):
        desk.move_visit(visits["session-3"].id, at("2026-05-05"))


def test_forced_move_is_a_recorded_deviation(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    change = desk.move_visit(visits["session-2"].id, at("2026-04-27"), force=True)
    assert change.visit.deviation == "4 days after its window (Fri 2026-04-17 to Thu 2026-04-23)"
    assert not change.visit.in_window
    assert days(desk.visits(mrn="P1"))["session-3"] == "2026-05-11"
    last = desk.history("P1")[-len(change.moved) - 1]
    assert last.action == "moved"
    assert last.after is not None
    assert last.after["deviation"] == change.visit.deviation


def test_missed_visit_stays_owed_and_is_counted(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    change = desk.miss_visit(visits["session-2"].id)
    assert change.visit.status == "missed"
    assert change.moved == ()
    assert desk.patient("P1").no_shows == 1
    assert days(desk.visits(mrn="P1")) == SESSIONS
    rebooked = desk.move_visit(visits["session-2"].id, at("2026-04-22"))
    assert rebooked.visit.status == "scheduled"
    assert days(desk.visits(mrn="P1"))["session-3"] == "2026-05-06"
    assert desk.patient("P1").no_shows == 1
    actions = [h.action for h in desk.history("P1") if h.entity_id == str(visits["session-2"].id)]
    assert actions == ["missed", "moved"]


def test_settled_visits_are_pinned_in_a_cascade(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    desk.miss_visit(visits["session-2"].id)
    desk.cancel_visit(visits["session-4"].id)
    desk.complete_visit(visits["session-1"].id, at("2026-04-08"))
    after = days(desk.visits(mrn="P1"))
    # The missed session keeps its day, so its own chain stays where it was.
    assert after["session-2"] == "2026-04-20"
    assert after["session-3"] == "2026-05-04"
    assert after["session-4"] == "2026-05-18"
    assert desk.visit(visits["session-4"].id).status == "cancelled"


def test_done_cancelled_or_completed_visit_is_refused(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    desk.cancel_visit(visits["session-3"].id)
    with pytest.raises(InputError, match="is cancelled; only a scheduled or missed visit"):
        desk.complete_visit(visits["session-3"].id, at("2026-05-04"))
    desk.complete_visit(visits["session-1"].id, at("2026-04-06"))
    with pytest.raises(InputError, match="is completed"):
        desk.move_visit(visits["session-1"].id, at("2026-04-07"))


def test_done_in_the_future_is_refused(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    with pytest.raises(InputError, match="is in the future"):
        desk.complete_visit(visits["session-1"].id, at("2099-01-05"))

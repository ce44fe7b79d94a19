"""The enroll form's choices: the clinician from the clinician records (the preview
plans with their hours), and a second running course of one protocol only when
the person ticks it, as the records' own refusal asks."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Select

from tests.support.tui import TuiClinic, settle
from visitplan.tui.screens.enroll import EnrollScreen
from visitplan.tui.screens.patient import PatientScreen
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.wording import ENROLL_ANOTHER

pytestmark = pytest.mark.anyio


def shown(app: object, selector: str) -> str:
    return str(app.screen.query_one(selector).content)  # type: ignore[attr-defined]


async def test_a_second_running_course_needs_the_tick(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        app.push_screen(EnrollScreen(mrn="P-1003", protocol_id="eswt-plantar-fasciitis"))
        await settle(pilot)
        tick = app.screen.query_one("#another", Checkbox)
        assert tick.display
        assert shown(app, "#enroll-problems") == (
            "✗ P-1003 already has a running course of eswt-plantar-fasciitis, started "
            f"Mon 2026-12-07: tick '{ENROLL_ANOTHER}' to start a second one beside it"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EnrollScreen)  # refused: nothing saved
        # Another protocol is no second course: the tick is not offered.
        app.screen.query_one("#protocol", Select).value = "dextrose-prolotherapy"
        await settle(pilot)
        assert not tick.display
        assert shown(app, "#enroll-problems") == "✓ ready: ctrl+s enrolls"
        app.screen.query_one("#protocol", Select).value = "eswt-plantar-fasciitis"
        await settle(pilot)
        tick.value = True
        await settle(pilot)
        assert shown(app, "#enroll-problems") == "✓ ready: ctrl+s enrolls"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
    with tui_clinic.desk() as desk:
        courses = [e for e in desk.enrollments("P-1003") if e.status == "active"]
        assert [e.protocol_id for e in courses] == ["eswt-plantar-fasciitis"] * 2


async def test_the_preview_plans_with_the_chosen_clinician(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        desk.add_clinician("Dr Kim", hours="wed=09:00-12:00")
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(EnrollScreen(mrn="P-1004", protocol_id="eswt-plantar-fasciitis"))
        await settle(pilot)
        chosen = app.screen.query_one("#clinician", Select)
        assert chosen.is_blank()
        # The clinician records, not names typed on courses.
        assert [str(o[0]) for o in chosen._options[1:]] == ["Dr Kim", "Dr Lee"]
        dates = app.screen.query_one("#preview", RowList)
        assert dates.rows[0][1] == "Mon 2026-12-14"  # no clinician: the clinic's hours
        chosen.value = "Dr Kim"
        await settle(pilot)
        # Dr Kim works on Wednesdays only: every ESWT lands on one.
        assert [row[1][:3] for row in dates.rows[:3]] == ["Wed"] * 3
        assert dates.rows[0][1] == "Wed 2026-12-16"
        assert shown(app, "#enroll-problems") == "✓ ready: ctrl+s enrolls"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, EnrollScreen)
    with tui_clinic.desk() as desk:
        (course,) = desk.enrollments("P-1004")
        assert course.clinician == "Dr Kim"
        visits = desk.visits(mrn="P-1004")
        assert f"{visits[0].start:%a %Y-%m-%d}" == "Wed 2026-12-16"
        assert {v.clinician for v in visits} == {"Dr Kim"}

"""Make the README's TUI screenshots (run by hand from the repository root):

    python docs/screenshots.py

A made-up clinic (`visitplan demo`'s patients and a few more, synthetic names only)
seen on a fixed day, so the pictures only change when the screens do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.support.clinics import SEOUL_CLINIC  # noqa: E402
from tests.support.tui import COURSES, NOW, TODAY, settle  # noqa: E402

from visitplan.catalog import ProtocolCatalog, protocol_dirs  # noqa: E402
from visitplan.domain.clinic import parse_clinic  # noqa: E402
from visitplan.records.demo import fill  # noqa: E402
from visitplan.records.operations import open_desk  # noqa: E402
from visitplan.tui.app import make_app  # noqa: E402
from visitplan.tui.records_adapter import RecordsData  # noqa: E402
from visitplan.tui.screens.enroll import EnrollScreen  # noqa: E402

SMALL = (80, 24)  # the smallest terminal the TUI is made for
SIZE = (110, 30)
# More synthetic people, so the week has a clinic's worth of visits.
MORE = (
    ("P-1005", "Gil Example", "eswt-plantar-fasciitis", TODAY, dt.time(11, 30)),
    ("P-1006", "Hana Sample", "prolotherapy-knee-oa", TODAY + dt.timedelta(days=1), dt.time(9, 30)),
    (
        "P-1007",
        "Ian Fictional",
        "dextrose-prolotherapy",
        TODAY + dt.timedelta(days=2),
        dt.time(15, 0),
    ),
    (
        "P-1008",
        "Jo Placeholder",
        "eswt-plantar-fasciitis",
        TODAY - dt.timedelta(days=14),
        dt.time(16, 0),
    ),
    (
        "P-1009",
        "Kim Testcase",
        "prolotherapy-knee-bimonthly",
        TODAY + dt.timedelta(days=4),
        dt.time(10, 0),
    ),
)


async def shoot(url: str) -> None:
    clinic = parse_clinic(SEOUL_CLINIC.replace("\n[hours]", "\ncapacity = 2\n[hours]"), "demo")
    catalog = ProtocolCatalog(protocol_dirs(env={}))
    desk = open_desk(url, clinic, catalog, "docs", clock=lambda: NOW)
    app = make_app(RecordsData(desk), clinic, catalog, today=TODAY, refresh_seconds=3600)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.save_screenshot("tui-agenda.svg", str(HERE))
    desk.close()
    desk = open_desk(url, clinic, catalog, "docs", clock=lambda: NOW)
    app = make_app(RecordsData(desk), clinic, catalog, today=TODAY, refresh_seconds=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_patient("DEMO-002")
        await settle(pilot)
        app.save_screenshot("tui-patient.svg", str(HERE))
        await pilot.press("escape")
        await settle(pilot)
        app.push_screen(EnrollScreen(mrn="DEMO-006", protocol_id="dextrose-prolotherapy"))
        await settle(pilot)
        for field in app.screen.query("Input"):
            field.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.press("tab", "tab", "tab", "tab")
        await settle(pilot)
        app.save_screenshot("tui-enroll-preview.svg", str(HERE))
    desk.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        clinic = parse_clinic(SEOUL_CLINIC.replace("\n[hours]", "\ncapacity = 2\n[hours]"), "demo")
        catalog = ProtocolCatalog(protocol_dirs(env={}))
        with open_desk(url, clinic, catalog, "docs", clock=lambda: NOW) as desk:
            fill(desk)
            for mrn, name, protocol, start, time in (*COURSES, *MORE):
                desk.add_patient(mrn, name)
                desk.enroll(mrn, protocol, start, time, "Dr Lee")
            # A no-show this morning: the agenda marks it and the step stays owed.
            missed = next(v for v in desk.agenda(TODAY) if v.mrn == "P-1005")
            desk.miss_visit(missed.id)
            # A session booked late by hand: the ones after it move along.
            late = [v for v in desk.visits(mrn="DEMO-002") if v.status == "scheduled"][0]
            desk.move_visit(late.id, late.start.add(days=2), force=True)
        asyncio.run(shoot(url))
    names = ("tui-agenda.svg", "tui-patient.svg", "tui-enroll-preview.svg")
    print("wrote " + ", ".join(str(HERE / name) for name in names))


if __name__ == "__main__":
    main()

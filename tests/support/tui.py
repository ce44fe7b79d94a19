"""TUI test helpers: a real SQLite database with a fixed clinic, and the screen as text."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic

if TYPE_CHECKING:
    from visitplan.records.operations import Desk
    from visitplan.tui.app import VisitplanApp


def screen_text(app: App[Any]) -> str:
    """What a person would read on the terminal right now, without colours."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False
    )
    # Textual has no public text export; this is how its own SVG export starts.
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


# A Monday in the Seoul test clinic; every TUI test and snapshot is seen from it.
TODAY = dt.date(2026, 12, 14)
# 18:00 in Seoul on TODAY: the day's visits have happened (or not).
NOW = dt.datetime(2026, 12, 14, 9, 0, tzinfo=dt.UTC)

# (MRN, name, protocol, start, time); synthetic people only.
COURSES = (
    ("P-1001", "Ada Example", "dextrose-prolotherapy", TODAY, dt.time(9, 0)),
    ("P-1002", "Ben Sample", "eswt-plantar-fasciitis", TODAY, dt.time(10, 30)),
    (
        "P-1003",
        "Chloe Test",
        "eswt-plantar-fasciitis",
        TODAY - dt.timedelta(days=7),
        dt.time(14, 0),
    ),
)
UNENROLLED = ("P-1004", "Dan Placeholder")


def open_test_desk(path: Path, clinic: Clinic, catalog: ProtocolCatalog) -> Desk:
    from visitplan.records.operations import open_desk

    return open_desk(f"sqlite:///{path}", clinic, catalog, "tester", clock=lambda: NOW)


def build_clinic_db(path: Path, clinic: Clinic, catalog: ProtocolCatalog) -> None:
    """A small clinic: three courses under way around TODAY, one patient not enrolled."""
    with open_test_desk(path, clinic, catalog) as desk:
        desk.add_clinician("Dr Lee")
        for mrn, name, protocol, start, time in COURSES:
            desk.add_patient(mrn, name, phone="010-0000-0000")
            desk.enroll(mrn, protocol, start, time, clinician="Dr Lee")
        desk.add_patient(*UNENROLLED)
        first = desk.visits(mrn="P-1003")[0]
        desk.complete_visit(first.id, first.start)


def mail_ada(desk: Desk) -> None:
    """Ada agrees to e-mail and the sender runs once: her invitations go, but the mail
    server refuses the first (for Session 2 of 6; Session 1 is over and skipped)."""
    from visitplan.records import sending

    desk.update_patient("P-1001", email="ada@example.org", notify="email")
    now = NOW.replace(tzinfo=None)  # the outbox keeps naive UTC
    claimed = sending.claim(desk, now, 100)
    first, *others = claimed.messages
    sending.refused(desk, first.id, now, "550 5.1.1 <address>: Recipient address rejected")
    for message in others:
        sending.delivered(desk, message.id, now)


@dataclass
class TuiClinic:
    """A database file and what is needed to open the TUI (or a desk) on it."""

    path: Path
    clinic: Clinic
    catalog: ProtocolCatalog

    def desk(self) -> Desk:
        return open_test_desk(self.path, self.clinic, self.catalog)

    def app(self, today: dt.date = TODAY, refresh_seconds: float = 3600) -> VisitplanApp:
        from visitplan.tui.app import make_app
        from visitplan.tui.records_adapter import RecordsData

        return make_app(
            RecordsData(self.desk()),
            self.clinic,
            self.catalog,
            today=today,
            refresh_seconds=refresh_seconds,
        )


@pytest.fixture
def tui_clinic(tmp_path: Path, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> TuiClinic:
    path = tmp_path / "clinic.sqlite3"
    build_clinic_db(path, seoul_clinic, catalog)
    return TuiClinic(path, seoul_clinic, catalog)


@pytest.fixture
def empty_tui_clinic(tmp_path: Path, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> TuiClinic:
    path = tmp_path / "empty.sqlite3"
    open_test_desk(path, seoul_clinic, catalog).close()
    return TuiClinic(path, seoul_clinic, catalog)


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and their results paint: a worker's result may start another
    (a change, then the re-read it asks for), so until a round starts none."""
    quiet = 0
    for _ in range(50):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        quiet = quiet + 1 if len(pilot.app.workers) == 0 else 0
        if quiet >= 2:
            return


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio, like the app itself."""
    return "asyncio"


def build_demo_db(path: Path, clinic: Clinic, catalog: ProtocolCatalog) -> None:
    """`visitplan demo`'s clinic, as a new user first sees it, around TODAY."""
    from visitplan.records.demo import fill

    with open_test_desk(path, clinic, catalog) as desk:
        fill(desk)


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database for the session; tests copy it before changing anything."""
    from tests.support.clinics import SEOUL_CLINIC
    from visitplan.catalog import protocol_dirs
    from visitplan.domain.clinic import parse_clinic

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    build_demo_db(
        path, parse_clinic(SEOUL_CLINIC, "seoul.toml"), ProtocolCatalog(protocol_dirs(env={}))
    )
    return path

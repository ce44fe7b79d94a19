"""A form's ✓ is never followed by a refusal: the check is the change run as a dry
run, so for any date, time and choice a person can type, the check and the save
agree (accepted or refused, and where the visit and those that follow it go)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.tui import TODAY, TuiClinic
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError
from visitplan.records.views import VisitChange
from visitplan.tui.records_adapter import RecordsData
from visitplan.tui.wording import BOOK_ANYWAY

MRNS = ("P-1001", "P-1002", "P-1003")


def outcome(change: VisitChange) -> tuple[object, ...]:
    moved = tuple((v.key, v.start, v.reason) for v in change.moved)
    visit = change.visit
    return (visit.status, visit.start, visit.warnings, visit.deviation, moved)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    mrn=st.sampled_from(MRNS),
    which=st.integers(0, 3),
    action=st.sampled_from(["move", "done"]),
    days=st.integers(-12, 12),
    minutes=st.integers(6 * 60, 20 * 60),
    force=st.booleans(),
)
def test_the_check_and_the_save_always_agree(
    tui_clinic: TuiClinic,
    tmp_path_factory: object,
    seoul_clinic: Clinic,
    catalog: ProtocolCatalog,
    mrn: str,
    which: int,
    action: str,
    days: int,
    minutes: int,
    force: bool,
) -> None:
    folder = Path(tmp_path_factory.mktemp("check"))  # type: ignore[attr-defined]
    path = folder / "copy.sqlite3"
    shutil.copyfile(tui_clinic.path, path)
    clinic = TuiClinic(path, seoul_clinic, catalog)
    with clinic.desk() as desk:
        data = RecordsData(desk)
        visits = desk.visits(mrn=mrn)
        visit = visits[which % len(visits)]
        when = dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time()) + dt.timedelta(
            minutes=minutes
        )

        def run(dry_run: bool) -> tuple[object, ...]:
            try:
                if action == "move":
                    return ("ok", *outcome(data.move(visit, when, force, dry_run=dry_run)))
                return ("ok", *outcome(data.done(visit, when, dry_run=dry_run)))
            except InputError as exc:
                return ("refused", exc.message)

        checked = run(dry_run=True)
        assert desk.visits(mrn=mrn) == visits  # the check wrote nothing
        saved = run(dry_run=False)
    assert checked == saved
    if checked[0] == "refused":
        said = str(checked[1])
        assert "--" not in said  # the TUI's words, not the command line's
        assert f"visit {visit.id}" not in said
        if action == "move" and not force and BOOK_ANYWAY in said:
            # What the message says lifts the refusal does.
            with clinic.desk() as desk:
                RecordsData(desk).move(visit, when, True, dry_run=True)

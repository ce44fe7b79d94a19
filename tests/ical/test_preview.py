"""`visitplan plan ... --ics`: a calendar preview with no database at all."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path

import icalendar

from tests.ical.parsers import READERS
from tests.support.cli import run_visitplan
from visitplan.domain.ical import PREVIEW_NAMESPACE


def preview(env: dict[str, str], clinic: Path, start: str = "2026-03-02") -> str:
    result = run_visitplan(
        "plan", "prolotherapy-knee-oa", "--start", start, "--ics", "--clinic", str(clinic), env=env
    )
    assert result.status == 0, result.err
    return result.out


def test_preview_is_a_calendar_every_parser_reads(
    visitplan_home: dict[str, str], seoul_clinic_file: Path
) -> None:
    text = preview(visitplan_home, seoul_clinic_file)
    data = text.replace("\n", "\r\n").encode()
    planned = run_visitplan(
        "plan",
        "prolotherapy-knee-oa",
        "--start",
        "2026-03-02",
        "--json",
        "--clinic",
        str(seoul_clinic_file),
        env=visitplan_home,
    )
    starts = [v["start"] for v in json.loads(planned.out)["visits"]]
    in_utc = sorted(dt.datetime.fromisoformat(s).astimezone(dt.UTC) for s in starts)
    for reader in READERS.values():
        assert sorted(seen.start for seen in reader(data)) == in_utc
    cal = icalendar.Calendar.from_ical(data)
    assert [e.decoded("DTSTART").isoformat() for e in cal.walk("VEVENT")] == starts
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Asia/Seoul"


def test_preview_uids_are_derived_and_stable(
    visitplan_home: dict[str, str], seoul_clinic_file: Path
) -> None:
    first = preview(visitplan_home, seoul_clinic_file)
    assert preview(visitplan_home, seoul_clinic_file) == first
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(first).walk("VEVENT")]
    baseline = uuid.uuid5(PREVIEW_NAMESPACE, "prolotherapy-knee-oa/2026-03-02/baseline")
    assert f"{baseline}@visitplan.invalid" in uids
    assert len(set(uids)) == len(uids)
    other_start = preview(visitplan_home, seoul_clinic_file, "2026-03-03")
    assert not set(uids) & {
        str(e["UID"]) for e in icalendar.Calendar.from_ical(other_start).walk("VEVENT")
    }


def test_preview_touches_no_database(
    visitplan_home: dict[str, str], seoul_clinic_file: Path
) -> None:
    preview(visitplan_home, seoul_clinic_file)
    assert not list(Path(visitplan_home["HOME"]).rglob("*.sqlite*"))
    code = (
        "import contextlib, io, sys\n"
        "from visitplan.cli.main import main\n"
        "with contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO())):\n"
        f"    main(['plan', 'prolotherapy-knee-oa', '--start', '2026-03-02', '--ics',"
        f" '--clinic', {str(seoul_clinic_file)!r}])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('sqlalchemy', 'textual', 'alembic') or m.startswith('visitplan.records')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"

"""Dates and times as people write them, and every value past a limit refused in one
line: through `main()` in process for the many cases, the real `visitplan` for some."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli.harness import dump, run_main, seed_database
from tests.support.cli import VISITPLAN, assert_one_line_error, run_visitplan
from visitplan.cli.args import WEEKDAY_NAMES, day_arg, moment_arg, time_arg
from visitplan.domain.limits import FIRST_DAY, LAST_DAY
from visitplan.errors import InputError
from visitplan.records.operations import Desk

MONDAY = dt.date(2026, 12, 7)
THIRTY_DIGITS = "1" * 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", MONDAY),
        ("Tomorrow", MONDAY + dt.timedelta(days=1)),
        ("mon", MONDAY + dt.timedelta(days=7)),  # today's weekday: a week from today
        ("Monday", MONDAY + dt.timedelta(days=7)),
        ("tue", MONDAY + dt.timedelta(days=1)),
        ("SUNDAY", MONDAY + dt.timedelta(days=6)),
        ("2026-12-25", dt.date(2026, 12, 25)),
        (" 1900-01-01 ", FIRST_DAY),
        ("2200-12-31", LAST_DAY),
    ],
)
def test_day_words(text: str, expected: dt.date) -> None:
    assert day_arg(text).on(MONDAY) == expected


@given(
    today=st.dates(min_value=FIRST_DAY, max_value=LAST_DAY - dt.timedelta(days=7)),
    index=st.integers(0, 6),
    short=st.booleans(),
)
def test_a_weekday_is_the_next_one_after_today(today: dt.date, index: int, short: bool) -> None:
    name = WEEKDAY_NAMES[index][:3] if short else WEEKDAY_NAMES[index]
    day = day_arg(name).on(today)
    assert day.weekday() == index
    assert 1 <= (day - today).days <= 7


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0001-01-01", "outside the years 1900 to 2200"),
        ("9999-12-31", "outside the years 1900 to 2200"),
        ("1899-12-31", "outside the years 1900 to 2200"),
        ("2026-02-30", "is not a real date"),
        ("yesterday", "is not a date: write YYYY-MM-DD, today, tomorrow or a weekday"),
        ("2026-1-5", "is not a date"),
        ("mo", "is not a date"),
        ("x" * 10_000, "'xxxxxxxx"),
    ],
)
def test_bad_days(text: str, fragment: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        day_arg(text)
    assert fragment in str(caught.value)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9:00", dt.time(9)), ("09:00", dt.time(9)), ("0:05", dt.time(0, 5)), ("23:59", None)],
)
def test_times(text: str, expected: dt.time | None) -> None:
    assert time_arg(text) == (expected or dt.time(23, 59))


@pytest.mark.parametrize("text", ["24:00", "9:60", "9", "09:00:00", "9:00am", "\uff19:00", "-1:00"])
def test_bad_times(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not a time like 9:00 or 14:30"):
        time_arg(text)


SEOUL = dt.timezone(dt.timedelta(hours=9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03 10:20", dt.datetime(2026, 12, 3, 10, 20)),
        ("2026-12-03 9:05", dt.datetime(2026, 12, 3, 9, 5)),
        ("today 9:00", dt.datetime(2026, 12, 7, 9, 0)),
        ("fri 14:30", dt.datetime(2026, 12, 11, 14, 30)),
        ("2026-12-03T10:20", dt.datetime(2026, 12, 3, 10, 20)),
        ("2026-12-03 10:20:00+09:00", dt.datetime(2026, 12, 3, 10, 20, tzinfo=SEOUL)),
        ("2026-12-03", dt.date(2026, 12, 3)),  # a date alone: the visit's own time
        ("tomorrow", dt.date(2026, 12, 8)),
        ("wed", dt.date(2026, 12, 9)),
    ],
)
def test_moments(text: str, expected: dt.datetime | dt.date) -> None:
    moment = moment_arg(text).on(MONDAY)
    assert moment == expected
    assert type(moment) is type(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0001-01-01 00:00", "outside the years 1900 to 2200"),
        ("9999-12-31T23:59", "outside the years 1900 to 2200"),
        ("9999-12-31 23:59:00+14:00", "outside the years 1900 to 2200"),
        ("soon", "is not a date and time like '2026-03-02 14:30' or 'today 9:00'"),
        ("2026-12-03 25:00", "is not a date and time"),
        ("today at 9", "is not a date and time"),
    ],
)
def test_bad_moments(text: str, fragment: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        moment_arg(text)
    assert fragment in str(caught.value)


# -- the commands ---------------------------------------------------------------------


@pytest.fixture
def seeded(tmp_path: Path, seoul_clinic_file: Path) -> list[str]:
    """The common options of a database with one patient and one course (visits 1-7)."""
    url = f"sqlite:///{tmp_path / 'seeded.sqlite3'}"
    seed_database(url, seoul_clinic_file)
    return ["--db", url, "--clinic", str(seoul_clinic_file), "--user", "tester"]


BAD_VALUES = [
    (["plan", "dextrose-prolotherapy", "--start", "0001-01-01"], "outside the years"),
    (["plan", "dextrose-prolotherapy", "--start", "9999-12-01"], "outside the years"),
    (["plan", "dextrose-prolotherapy", "--start", "today", "--time", "25:00"], "not a time"),
    (["enroll", "P1", "dextrose-prolotherapy", "--start", "9999-12-31"], "outside the years"),
    (["enroll", "P1", "dextrose-prolotherapy", "--start", "0001-01-01"], "outside the years"),
    (["agenda", "--date", "9999-12-31"], "outside the years"),
    (["agenda", "--days", "1000000000"], "from 1 to 366"),
    (["agenda", "--days", "0"], "from 1 to 366"),
    (["visit", "done", "1", "--at", "0001-01-01 00:00"], "outside the years"),
    (["visit", "move", "1", "--to", "9999-12-31", "--force"], "outside the years"),
    (["visit", "done", THIRTY_DIGITS], "is not an id"),
    (["visit", "done", "1", "--if-revision", THIRTY_DIGITS], "is not a revision"),
    (["visit", "cancel", "-5"], "argument ID"),
    (["enrollment", "withdraw", THIRTY_DIGITS], "is not an id"),
    (["enrollment", "show", THIRTY_DIGITS], "is not an id"),
    (["feed", "revoke", THIRTY_DIGITS], "is not an id"),
    (["visit", "done", "9223372036854775807"], "unknown visit id 9223372036854775807"),
]


@pytest.mark.parametrize(("argv", "fragment"), BAD_VALUES)
def test_bad_values_are_one_line_and_change_nothing(
    argv: list[str], fragment: str, seeded: list[str]
) -> None:
    url = seeded[1]
    before = dump(url)
    result = run_main([*argv, *seeded])
    assert_one_line_error(result, fragment)
    assert dump(url) == before


def test_lookback_days_is_bounded() -> None:
    for command in ("serve", "publish"):
        for value in (THIRTY_DIGITS, "3661", "0"):
            result = run_main([command, "--lookback-days", value, "--caldav", "http://x.invalid"])
            assert_one_line_error(result, "--lookback-days", "from 1 to 3,660")


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "dextrose-prolotherapy", "--start", "0001-01-01"],
        ["agenda", "--date", "9999-12-31"],
        ["agenda", "--days", "1000000000"],
        ["visit", "done", "1", "--at", "0001-01-01 00:00"],
        ["feed", "revoke", THIRTY_DIGITS],
        ["serve", "--lookback-days", THIRTY_DIGITS],
        ["protocols", "check", "/dev/zero"],
    ],
)
def test_bad_values_through_the_real_entry_point(
    argv: list[str], seeded: list[str], visitplan_home: dict[str, str]
) -> None:
    before = dump(seeded[1])
    result = run_visitplan(*argv, *seeded, env=visitplan_home)
    assert_one_line_error(result)
    assert dump(seeded[1]) == before


def test_enroll_tomorrow_is_the_clinic_s_tomorrow(seeded: list[str]) -> None:
    result = run_main(
        ["patient", "add", "P2", "--name", "Synthetic Two", *seeded],
    )
    assert result.status == 0, result
    result = run_main(
        ["enroll", "P2", "dextrose-prolotherapy", "--start", "tomorrow", "--json", *seeded]
    )
    assert result.status == 0, result
    seoul_today = dt.datetime.now(ZoneInfo("Asia/Seoul")).date()
    start = dt.date.fromisoformat(json.loads(result.out)["course"]["start"])
    # Read the clock on both sides: the test may run across the clinic's midnight.
    assert start - dt.timedelta(days=1) in {
        seoul_today,
        dt.datetime.now(ZoneInfo("Asia/Seoul")).date(),
    }


@pytest.mark.slow
def test_today_is_the_clinic_s_today_not_the_machine_s(
    tmp_path: Path, visitplan_home: dict[str, str]
) -> None:
    # UTC+14 and UTC-11: 25 hours apart, so the two dates differ at every moment.
    clinic = tmp_path / "kiritimati.toml"
    clinic.write_text(
        'timezone = "Pacific/Kiritimati"\n[hours]\n'
        + "".join(f'{d} = "08:00-18:00"\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat"))
        + 'sun = "08:00-18:00"\n',
        encoding="utf-8",
    )
    env = {**visitplan_home, "TZ": "Pacific/Pago_Pago"}
    before = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    result = run_visitplan(
        "plan", "dextrose-prolotherapy", "--start", "today", "--json", "--clinic", str(clinic),
        env=env,
    )  # fmt: skip
    after = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert result.status == 0, result.err
    target = dt.date.fromisoformat(json.loads(result.out)["visits"][0]["target"])
    assert target in {before, after}
    assert target != dt.datetime.now(ZoneInfo("Pacific/Pago_Pago")).date()


def test_help_documents_the_forms() -> None:
    for argv, fragments in (
        (["plan", "--help"], ["today, tomorrow", "monday..sunday", "H:MM or HH:MM"]),
        (["enroll", "--help"], ["today, tomorrow", "in 7 days"]),
        (["agenda", "--help"], ["today, tomorrow", "at most 366"]),
        (["visit", "done", "--help"], ["today 9:00", "a date alone for the visit's own time"]),
        (["visit", "move", "--help"], ["today 9:00", "a date alone"]),
    ):
        result = run_main(argv)
        assert result.status == 0
        text = " ".join(result.out.split())
        for fragment in fragments:
            assert fragment in text, (argv, fragment)


# -- the Desk: the same limits and the date-alone convention through Python -------------


def _course(desk: Desk, days_ago: int) -> list[int]:
    desk.add_patient("P9", "Synthetic Nine")
    start = desk.now().date() - dt.timedelta(days=days_ago)
    detail = desk.enroll("P9", "dextrose-prolotherapy", start, dt.time(10, 30))
    return [v.id for v in detail.visits]


def test_a_plain_date_means_the_visit_s_own_time_that_day(desk: Desk) -> None:
    first, second, *_ = _course(desk, days_ago=60)
    booked = desk.visit(first)
    day = booked.start.date() + dt.timedelta(days=1)
    done = desk.complete_visit(first, day).visit
    assert done.actual is not None
    assert (done.actual.date(), done.actual.time()) == (day, booked.start.time())

    visit = desk.visit(second)
    open_days = [
        visit.earliest + dt.timedelta(days=n)
        for n in range((visit.latest - visit.earliest).days + 1)
        if desk.calendar.is_open(visit.earliest + dt.timedelta(days=n))
        and visit.earliest + dt.timedelta(days=n) != visit.start.date()
    ]
    moved = desk.move_visit(second, open_days[0]).visit
    assert (moved.start.date(), moved.start.time()) == (open_days[0], visit.start.time())


@pytest.mark.parametrize(
    "when", [dt.datetime(1, 1, 1), dt.date(1, 1, 1), dt.datetime(1899, 12, 31, 23, 59)]
)
def test_the_desk_refuses_a_done_time_outside_the_served_years(desk: Desk, when: dt.date) -> None:
    first = _course(desk, days_ago=10)[0]
    before = desk.visit(first)
    with pytest.raises(InputError, match="outside the years 1900 to 2200"):
        desk.complete_visit(first, when)
    with pytest.raises(InputError, match="outside the years 1900 to 2200"):
        desk.move_visit(first, dt.date(9999, 12, 31), force=True)
    assert desk.visit(first) == before


def test_the_desk_refuses_a_course_start_outside_the_served_years(desk: Desk) -> None:
    desk.add_patient("P8", "Synthetic Eight")
    with pytest.raises(InputError, match="course start: 9999-01-04 is outside the years"):
        desk.enroll("P8", "dextrose-prolotherapy", dt.date(9999, 1, 4), dt.time(9))
    assert desk.patient("P8").enrollments == 0


# -- the database and the data directory ---------------------------------------------


def test_a_data_directory_that_cannot_be_made_is_one_line(
    tmp_path: Path, seoul_clinic_file: Path
) -> None:
    # Tests run as root, whom permissions do not stop: a path under a regular file
    # cannot be created by anyone.
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = run_main(
        ["agenda", "--clinic", str(seoul_clinic_file)],
        env={"XDG_DATA_HOME": str(blocker / "data"), "VISITPLAN_DB": ""},
    )
    assert_one_line_error(result, f"{blocker}/data/visitplan: cannot create the data directory")
    for url in ("sqlite:////proc/visitplan.sqlite3", f"sqlite:///{blocker}/x.sqlite3"):
        result = run_main(["agenda", "--clinic", str(seoul_clinic_file), "--db", url])
        assert_one_line_error(result, "cannot create the database file")


def _can_mount_read_only(folder: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f'mount --bind -o ro "{folder}" "{folder}"'],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.slow
def test_a_read_only_database_is_one_line_for_reads_and_writes(
    tmp_path: Path, seoul_clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    if not _can_mount_read_only(folder):
        pytest.skip("needs `unshare -m` and a read-only bind mount (CAP_SYS_ADMIN)")
    url = f"sqlite:///{folder / 'visitplan.sqlite3'}"
    seed_database(url, seoul_clinic_file)
    before = dump(url)
    env = {**visitplan_home, "VISITPLAN_DB": url, "VISITPLAN_CLINIC": str(seoul_clinic_file)}
    # The folder is mounted read-only for one process at a time: a real EROFS, as on a
    # read-only share or medium (root, who runs the tests, ignores file permissions).
    script = f'mount --bind -o ro "{folder}" "{folder}" && exec "{VISITPLAN}" "$@"'
    for argv in (
        ["agenda", "--date", "2026-04-06"],
        ["patient", "add", "P2", "--name", "Synthetic Two"],
        ["feed", "create", "clinic"],
        ["export", "--all"],
    ):
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", script, "sh", *argv],
            capture_output=True,
            text=True,
            env={**env, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done
        assert done.stderr.splitlines() == [
            f"visitplan: {folder / 'visitplan.sqlite3'}: the database file (or its directory) "
            "is read-only; visitplan needs to write both"
        ]
        assert done.stdout == ""
    assert dump(url) == before

"""The text the records commands print, through the real `visitplan`: every line fits
the terminal (COLUMNS 80 and 120), the agenda names patient and clinician, a
patient's visits come course by course, and an empty answer is a sentence."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.cli import Result, assert_one_line_error, run_visitplan
from tests.support.clinics import SEOUL_CLINIC
from visitplan.cli.tables import Column, cells, render, wrap

ROOT = Path(__file__).resolve().parents[2]
LONG_NAME = "Hypothetical Patient With A Rather Long Synthetic Name Indeed"
UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
STATUS_AND_TIME = re.compile(r"\d\d:\d\d-\d\d:\d\d  (scheduled|completed|missed|cancelled)!?\b")


class Clinic:
    """A synthetic clinic database and the environment that points at it."""

    def __init__(self, path: Path, home: dict[str, str], clinic_file: Path) -> None:
        self.path, self.home, self.clinic_file = path, home, clinic_file
        self.env = {
            **home,
            "VISITPLAN_DB": f"sqlite:///{path}",
            "VISITPLAN_CLINIC": str(clinic_file),
            "VISITPLAN_USER": "tester",
        }

    def __call__(self, *args: str, columns: int = 80, env: dict[str, str] | None = None) -> Result:
        return run_visitplan(*args, env={**self.env, "COLUMNS": str(columns), **(env or {})})

    def ok(self, *args: str, columns: int = 80) -> str:
        result = self(*args, columns=columns)
        assert result.status == 0, result
        assert result.err == "", result
        return result.out


def assert_fits(text: str, columns: int) -> None:
    too_long = [line for line in text.splitlines() if cells(line) > columns]
    assert too_long == [], (columns, too_long)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    """The synthetic clinic, built once for the module (each command is a process)."""
    folder = tmp_path_factory.mktemp("text-tables")
    home = folder / "home"
    home.mkdir()
    clinic_file = folder / "clinic.toml"
    clinic_file.write_text(SEOUL_CLINIC, encoding="utf-8")
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "TZ": "Asia/Seoul",
    }
    c = Clinic(folder / "clinic.sqlite3", env, clinic_file)
    c.ok("clinician", "add", "Dr Kim")
    c.ok("patient", "add", "P1", "--name", "Synthetic One")
    c.ok("patient", "add", "P2", "--name", LONG_NAME)
    c.ok("enroll", "P1", "dextrose-prolotherapy", "--start", "2026-12-07", "--clinician", "dr kim")
    c.ok("enroll", "P2", "dextrose-prolotherapy", "--start", "2026-12-07", "--time", "9:30")
    c.ok("enroll", "P1", "eswt-plantar-fasciitis", "--start", "2026-12-08", "--another")
    return c


@pytest.fixture
def clinic(built: Clinic, tmp_path: Path) -> Clinic:
    """A copy of the built clinic of the test's own: what one test writes, no other sees."""
    copy = tmp_path / "clinic.sqlite3"
    shutil.copyfile(built.path, copy)
    return Clinic(copy, built.home, built.clinic_file)


COMMANDS = (
    ("agenda", "--date", "2026-12-07", "--days", "7"),
    ("agenda", "--date", "2026-12-07", "--names"),
    ("visits", "P1"),
    ("visits", "P2"),
    ("history", "P1"),
    ("patient", "list"),
    ("patient", "show", "P2"),
    ("protocols", "list"),
    ("protocols", "show", "dextrose-prolotherapy"),
    ("plan", "dextrose-prolotherapy", "--start", "2026-12-11"),
    ("worklist",),
    ("slots", "1"),
    ("enrollment", "show", "1"),
)


@pytest.mark.parametrize("columns", [80, 120])
def test_every_line_fits_the_terminal(clinic: Clinic, columns: int) -> None:
    for command in COMMANDS:
        assert_fits(clinic.ok(*command, columns=columns), columns)


def test_a_narrower_terminal_still_gets_80_columns(clinic: Clinic) -> None:
    out = clinic.ok("agenda", "--date", "2026-12-07", columns=40)
    assert_fits(out, 80)
    assert max(cells(line) for line in out.splitlines()) > 40


def test_the_agenda_names_patient_and_clinician_but_no_uid(clinic: Clinic) -> None:
    out = clinic.ok("agenda", "--date", "2026-12-07")
    lines = out.splitlines()
    assert lines[0] == "Mon 2026-12-07: 2 visits"
    assert lines[1].split() == ["ID", "TIME", "STATUS", "PATIENT", "CLINICIAN", "VISIT"]
    assert re.search(r"09:00-09:45  scheduled  S\.O\. MRN P1 +Dr Kim +Session 1 of 6", out)
    assert "MRN P2" in out
    assert LONG_NAME.split(maxsplit=1)[0] not in out  # initials by default, as the staff export
    assert not UID.search(out)
    assert "REV" not in lines[1]
    wider = clinic.ok("agenda", "--date", "2026-12-07", columns=120)
    assert "WINDOW" in wider.splitlines()[1]  # room for it at 120 columns


def test_names_and_wide(clinic: Clinic) -> None:
    named = clinic.ok("agenda", "--date", "2026-12-07", "--names")
    assert "Synthetic One MRN P1" in named
    assert "Hypothetical" in named
    assert "Indeed" in named
    wide = clinic.ok("agenda", "--date", "2026-12-07", "--wide")
    head = wide.splitlines()[1].split()
    assert head[-2:] == ["REV", "UID"]
    visits = json.loads(clinic.ok("agenda", "--date", "2026-12-07", "--json"))
    assert all(v["uid"] in wide for v in visits)
    assert visits[0]["uid"] in clinic.ok("visits", "P1", "--wide")


def test_statuses_and_times_are_never_cut(clinic: Clinic) -> None:
    for columns in (80, 120):
        out = clinic.ok("agenda", "--date", "2026-12-07", "--names", columns=columns)
        assert len(STATUS_AND_TIME.findall(out)) == 2, out


def test_a_patients_visits_come_course_by_course(clinic: Clinic) -> None:
    out = clinic.ok("visits", "P1")
    blocks = out.split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].startswith("course 1: Ultrasound-guided dextrose prolotherapy")
    assert "Dr Kim" in blocks[0].split("\nID")[0]
    assert blocks[1].startswith("course 3: Focused shock wave therapy")
    assert "Session 1 of 6" in blocks[0]
    assert "ESWT" not in blocks[0]
    assert "ESWT 1 of 3" in blocks[1]
    assert "Session" not in blocks[1]
    # The two tables share their layout: one header line, identical.
    heads = [line for line in out.splitlines() if line.startswith("ID ")]
    assert len(heads) == 2
    assert heads[0] == heads[1]


def test_empty_answers_are_sentences(clinic: Clinic) -> None:
    assert clinic.ok("agenda", "--date", "2026-12-06") == "No visits on Sun 2026-12-06.\n"
    assert (
        clinic.ok("agenda", "--date", "2026-12-05", "--days", "2")
        == "No visits from Sat 2026-12-05 to Sun 2026-12-06.\n"
    )
    assert (
        clinic.ok("agenda", "--date", "2026-12-06", "--clinician", "DR KIM")
        == "No visits for Dr Kim on Sun 2026-12-06.\n"
    )
    clinic.ok("patient", "add", "P3", "--name", "Synthetic Three")
    assert clinic.ok("visits", "P3") == "No visits for patient P3.\n"
    assert clinic.ok("patient", "list", "--search", "nobody") == "No patients match 'nobody'.\n"


def test_the_clinician_is_matched_whatever_the_case(clinic: Clinic) -> None:
    out = clinic.ok("agenda", "--date", "2026-12-07", "--clinician", "  dr   KIM ")
    assert out.splitlines()[0] == "Mon 2026-12-07 for Dr Kim: 1 visit"
    assert "MRN P1" in out
    assert "MRN P2" not in out
    unknown = clinic("agenda", "--clinician", "Dr Nobody")
    assert_one_line_error(unknown, "unknown clinician 'Dr Nobody'", "Dr Kim")


def test_a_revision_not_reached_yet_is_not_someone_elses_change(clinic: Clinic) -> None:
    result = clinic("visit", "cancel", "1", "--if-revision", "5")
    assert_one_line_error(result, "revision 1", "no revision 5 yet")
    assert "someone else" not in result.err
    stale = clinic("patient", "edit", "P1", "--notes", "x", "--if-revision", "7")
    assert_one_line_error(stale, "no revision 7 yet")


def test_protocols_list_names_a_bad_file_and_lists_the_good(
    tmp_path: Path, visitplan_home: dict[str, str]
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    good = (ROOT / "protocols" / "eswt-plantar-fasciitis.toml").read_text(encoding="utf-8")
    (extra / "weekly.toml").write_text(good, encoding="utf-8")
    bad = extra / "broken.toml"
    bad.write_text('title = "T"\nversion = \n', encoding="utf-8")
    result = run_visitplan(
        "protocols", "list", env={**visitplan_home, "VISITPLAN_PROTOCOLS": str(extra)}
    )
    # Exit 2, as `protocols check`: a script learns that a file is broken; a person
    # still sees every protocol that can be used.
    assert result.status == 2
    assert [line.split()[0] for line in result.out.splitlines()[1:] if line[:1] != " "] == [
        "dextrose-prolotherapy",
        "eswt-plantar-fasciitis",
        "prolotherapy-knee-bimonthly",
        "prolotherapy-knee-oa",
        "weekly",
    ]
    errors = result.err.splitlines()
    assert len(errors) == 1, result.err
    assert str(bad) in errors[0]
    assert "Traceback" not in result.err


def test_counts_say_one_in_the_singular(clinic: Clinic, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "mrn,name,protocol,start\nP9,Synthetic Nine,eswt-plantar-fasciitis,2026-12-14\n",
        encoding="utf-8",
    )
    assert "1 new patient, 1 course, 4 visits" in clinic.ok("import", str(path))
    assert clinic.ok("agenda", "--date", "2026-12-08").splitlines()[0] == "Tue 2026-12-08: 1 visit"


# Text as a cell can hold it: no line breaks, controls or unassigned code points.
CHARACTERS = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"))

# -- any name, any label ---------------------------------------------------------------

WORDS = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'-김민준ßé"),
    min_size=1,
    max_size=40,
)
NAMES = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
SERIAL = itertools.count(100)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=NAMES, clinician=NAMES, label=NAMES, title=NAMES, columns=st.sampled_from([80, 120]))
def test_any_name_or_label_fits(
    clinic: Clinic, tmp_path: Path, name: str, clinician: str, label: str, title: str, columns: int
) -> None:
    folder = tmp_path / f"protocols-{abs(hash((name, label, title)))}"
    folder.mkdir(exist_ok=True)
    text = (ROOT / "protocols" / "eswt-plantar-fasciitis.toml").read_text(encoding="utf-8")
    text = text.replace('"ESWT {n} of {total}"', json.dumps(f"{label} {{n}}"))
    text = text.replace(
        '"Focused shock wave therapy for chronic plantar fasciitis"', json.dumps(title)
    )
    (folder / "random-one.toml").write_text(text, encoding="utf-8")
    mrn = f"H{next(SERIAL)}"
    env = {"VISITPLAN_PROTOCOLS": str(folder)}
    for argv in (
        ("patient", "add", mrn, "--name", name),
        ("clinician", "add", clinician),
        ("enroll", mrn, "random-one", "--start", "2026-12-07", "--clinician", clinician),
    ):
        done = clinic(*argv, env=env)
        # Only the clinician may be refused: the same one twice (hypothesis shrinks).
        assert done.status == 0 or (argv[0] == "clinician" and done.status == 2), done
    for command in (
        ("agenda", "--date", "2026-12-07", "--days", "3", "--names"),
        ("visits", mrn),
        ("protocols", "show", "random-one"),
        ("plan", "random-one", "--start", "2026-12-07"),
        ("history", mrn),
    ):
        result = clinic(*command, columns=columns, env=env)
        assert result.status == 0, (command, result)
        assert_fits(result.out, columns)
        if command[0] == "agenda":
            assert len(STATUS_AND_TIME.findall(result.out)) >= 1, result.out


@given(
    rows=st.lists(st.lists(st.text(CHARACTERS, max_size=60), min_size=4, max_size=4), max_size=6),
    width=st.integers(80, 160),
)
def test_a_table_fits_whatever_its_cells(rows: list[list[str]], width: int) -> None:
    columns = [Column("WHEN", keep=True), Column("WHO"), Column("WHAT"), Column("NOTE", gives=True)]
    kept = [["2026-12-07 09:00", *row[1:]] for row in rows]
    out = render(columns, kept, width=width)
    assert_fits(out, width)
    for row in kept:
        assert row[0] in out  # a kept column is never wrapped


@given(text=st.text(CHARACTERS, max_size=200), width=st.integers(1, 60))
def test_wrapping_keeps_every_word(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert all(cells(line) <= max(width, 2) for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())

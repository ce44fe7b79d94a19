"""The records commands. Happy paths run `main()` in this process (fast); bad input
runs the real `visitplan` entry point, which must answer with one line and exit 2."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run_visitplan
from visitplan.catalog import ProtocolCatalog
from visitplan.cli.main import main
from visitplan.domain.clinic import Clinic
from visitplan.records.operations import open_desk


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], db: str, clinic: Path) -> None:
        self.capsys = capsys
        self.common = ["--db", db, "--clinic", str(clinic), "--user", "cli-tester"]

    def __call__(self, *args: str) -> str:
        status = main([*args, *self.common])
        out, err = self.capsys.readouterr()
        assert status == 0, err
        return out

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json"))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], db_url: str, seoul_clinic_file: Path) -> Cli:
    return Cli(capsys, db_url, seoul_clinic_file)


def test_every_records_command(cli: Cli, tmp_path: Path) -> None:
    assert cli("patient", "add", "P1", "--name", "Synthetic One", "--phone", "010") == (
        "patient P1 added\n"
    )
    assert [p["mrn"] for p in cli.json("patient", "list")] == ["P1"]  # type: ignore[index,union-attr]
    cli("clinician", "add", "Dr A")
    course = cli.json(
        "enroll",
        "P1",
        "dextrose-prolotherapy",
        "--start",
        "2026-04-06",
        "--time",
        "10:00",
        "--clinician",
        "Dr A",
    )
    assert isinstance(course, dict)
    visits = course["visits"]
    assert [v["key"] for v in visits][:2] == ["session-1", "session-2"]
    first, second = visits[0]["id"], visits[1]["id"]

    listing = cli("visits", "P1")
    assert listing.splitlines()[0].startswith("course 1: ")
    heads = [line.split()[:4] for line in listing.splitlines() if line.startswith("ID ")]
    assert heads == [["ID", "DATE", "TIME", "STATUS"]]
    assert visits[0]["uid"] not in listing
    assert visits[0]["uid"] in cli("visits", "P1", "--wide")

    done = cli.json("visit", "done", str(first), "--at", "2026-04-08 10:00")
    assert isinstance(done, dict)
    assert done["visit"]["status"] == "completed"
    assert [m["key"] for m in done["moved"]][:1] == ["session-2"]

    moved = cli("visit", "move", str(second), "--to", "2026-04-23 11:00")
    assert "Session 2 of 6" in moved
    assert "2026-04-23 11:00" in moved
    assert "missed" in cli("visit", "missed", str(second))
    assert "cancelled" in cli("visit", "cancel", str(second))

    agenda = cli.json("agenda", "--date", "2026-04-06", "--days", "35", "--clinician", "Dr A")
    assert isinstance(agenda, list)
    assert [(v["key"], v["status"]) for v in agenda] == [
        ("session-1", "completed"),
        ("session-3", "scheduled"),
    ]
    shown = cli.json("patient", "show", "P1")
    assert isinstance(shown, dict)
    assert shown["no_shows"] == 1
    enrollment = shown["courses"][0]["id"]
    assert "withdrawn" in cli("enrollment", "withdraw", str(enrollment))

    course_text = cli("enrollment", "show", str(enrollment))
    assert course_text.startswith(f"course {enrollment}: P1 in ")
    assert "cancelled" in course_text
    assert "P1" in cli("agenda", "--date", "2026-04-06", "--days", "7")
    assert "patient added patient P1" in cli("history", "P1")
    assert cli("patient", "list", "--search", "nobody").splitlines() == [
        "No patients match 'nobody'."
    ]
    history = cli.json("history", "P1")
    assert isinstance(history, list)
    assert [h["action"] for h in history][:3] == ["patient added", "enrolled", "done"]
    assert {h["who"] for h in history} == {"cli-tester"}


def test_import_demo_and_upgrade(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "mrn,name,protocol,start\nP1,Synthetic One,eswt-plantar-fasciitis,2026-04-06\n",
        encoding="utf-8",
    )
    assert "1 new patient, 1 course, 4 visits" in cli("import", str(path))
    assert "already at" in cli("db", "upgrade")
    assert "6 made-up patients" in cli("demo")
    assert len(cli.json("patient", "list")) == 7  # type: ignore[arg-type]


def test_backup_is_a_working_copy(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, seoul_clinic_file: Path, tmp_path: Path
) -> None:
    cli = Cli(capsys, sqlite_url, seoul_clinic_file)
    cli("patient", "add", "P1", "--name", "Synthetic One")
    target = tmp_path / "copy.sqlite3"
    assert cli("backup", str(target)) == f"backup written to {target}\n"
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT mrn FROM patients").fetchall() == [("P1",)]
    copy.close()
    assert (target.stat().st_mode & 0o777) == 0o600


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["patient", "show", "NOPE"], ["unknown MRN 'NOPE'"]),
        (["patient", "add", "P1", "--name", "Twice"], ["MRN 'P1' already exists"]),
        (["enroll", "P1", "no-such", "--start", "2026-04-06"], ["unknown protocol 'no-such'"]),
        (["enroll", "P1", "dextrose-prolotherapy", "--start", "2026-02-30"], ["not a real date"]),
        (["visit", "done", "999"], ["unknown visit id 999"]),
        (["visit", "move", "1", "--to", "soon"], ["is not a date and time"]),
        (["visit", "move", "1", "--to", "2026-09-01 10:00"], ["outside its window"]),
        (["visit", "cancel", "1", "--if-revision", "7"], ["at revision 1; there is no revision 7"]),
        (["enrollment", "withdraw", "42"], ["unknown enrollment id 42"]),
        (["import", "bad.csv"], ["row 2, column start"]),
        (
            ["backup", "copy.db", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/x"],
            ["cannot be used"],
        ),
        (
            ["agenda", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/x"],
            ["postgresql+psycopg://nobody@127.0.0.1:1/x cannot be used"],
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str],
    fragments: list[str],
    tmp_path: Path,
    seoul_clinic_file: Path,
    visitplan_home: dict[str, str],
    seeded_db: str,
) -> None:
    (tmp_path / "bad.csv").write_text(
        "mrn,name,protocol,start\nP5,Synthetic Five,dextrose-prolotherapy,someday\n",
        encoding="utf-8",
    )
    env = {**visitplan_home, "VISITPLAN_DB": seeded_db, "VISITPLAN_CLINIC": str(seoul_clinic_file)}
    before = _dump(seeded_db)
    result = run_visitplan(*args, env=env, cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert _dump(seeded_db) == before


@pytest.mark.postgres
def test_postgres_backup_is_refused(
    capsys: pytest.CaptureFixture[str], pg_schema_url: str, seoul_clinic_file: Path, tmp_path: Path
) -> None:
    cli = Cli(capsys, pg_schema_url, seoul_clinic_file)
    status = main(["backup", str(tmp_path / "x"), *cli.common])
    assert status == 2
    assert "pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.fixture
def seeded_db(tmp_path: Path, seoul_clinic_file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'seeded.sqlite3'}"
    cli = Cli(capsys, url, seoul_clinic_file)
    cli("patient", "add", "P1", "--name", "Synthetic One")
    cli("enroll", "P1", "dextrose-prolotherapy", "--start", "2026-04-06")
    return url


def _dump(url: str) -> list[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        rows = list(connection.iterdump())
    connection.close()
    return rows


@pytest.mark.slow
def test_default_database_is_private_in_the_user_data_dir(
    visitplan_home: dict[str, str], seoul_clinic_file: Path, tmp_path: Path
) -> None:
    env = {**visitplan_home, "VISITPLAN_CLINIC": str(seoul_clinic_file)}
    added = run_visitplan("patient", "add", "P1", "--name", "Synthetic One", env=env, cwd=tmp_path)
    assert added.status == 0, added.err
    path = Path(visitplan_home["XDG_DATA_HOME"]) / "visitplan" / "visitplan.sqlite3"
    assert (path.stat().st_mode & 0o777) == 0o600
    listed = run_visitplan("patient", "list", "--json", env=env, cwd=tmp_path)
    assert [p["mrn"] for p in json.loads(listed.out)] == ["P1"]


def test_backup_while_another_writer_is_mid_transaction(
    sqlite_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog, tmp_path: Path
) -> None:
    with open_desk(sqlite_url, seoul_clinic, catalog, "tester") as desk:
        desk.add_patient("P1", "Synthetic One")
        writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute(
                "UPDATE patients SET name = 'Not Yet Committed', revision = revision + 1"
            )
            desk.backup(tmp_path / "copy.sqlite3")
            writer.execute("COMMIT")
        finally:
            writer.close()
    with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
        assert copy.execute("SELECT name FROM patients").fetchall() == [("Synthetic One",)]
    copy.close()

"""One JSON vocabulary: every command that prints, run with --json on a database that
holds something of everything, and its output validated strictly against the schema
of its documents (docs/visitplan-json.schema.json, made from the same definitions).
Every time printed carries the clinic's offset, whatever the machine's zone."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from pydantic import ValidationError

from tests.cli.harness import run_main
from tests.support.cli import run_visitplan
from tests.support.clinics import SEOUL_CLINIC
from tests.support.sync import CalDAVServer
from visitplan.cli.documents import OUTPUTS
from visitplan.cli.json_schema import adapter, schema_text
from visitplan.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "visitplan-json.schema.json"
PAST = "2026-04-06"  # a Monday long gone
MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
CLINIC = SEOUL_CLINIC.replace(
    'address = "1 Example-ro, Seoul"\n',
    'address = "1 Example-ro, Seoul"\nemail = "desk@clinic.example"\n',
)


def _monday_in_a_month() -> str:
    day = pendulum.now("Asia/Seoul").date() + dt.timedelta(days=28)
    return (day + dt.timedelta(days=(7 - day.weekday()) % 7)).isoformat()


class Session:
    """visitplan in this process on one database; remembers each command it ran."""

    def __init__(self, db: str, clinic: Path) -> None:
        self.common = ["--db", db, "--clinic", str(clinic), "--user", "json-tester"]
        self.ran: dict[str, Any] = {}

    def json(self, command: str, *args: str, status: int = 0, **env: str) -> Any:
        result = run_main([*command.split(), *args, "--json", *self.common], env=env)
        assert result.status == status, result
        document = adapter(command).validate_json(result.out, strict=True)
        assert json.loads(result.out) == document  # validation kept every field as it was
        self.ran[command] = document
        return document


def _moments(document: Any) -> Iterator[str]:
    if isinstance(document, dict):
        for value in document.values():
            yield from _moments(value)
    elif isinstance(document, list):
        for value in document:
            yield from _moments(value)
    elif isinstance(document, str) and MOMENT.match(document):
        yield document


def scenario(s: Session, tmp_path: Path, backend: str) -> None:
    """Every command of OUTPUTS, each on records that make its document non-trivial."""
    later = _monday_in_a_month()
    s.json("patient add", "P1", "--name", "Synthetic One")
    s.json("patient add", "P2", "--name", "Synthetic Two", "--email", "p2@example.org",
           "--notify", "email")  # fmt: skip
    s.json("clinician add", "Dr Kim", "--hours", "mon-fri=09:00-17:00")
    past = s.json("enroll", "P1", "dextrose-prolotherapy", "--start", PAST)
    ahead = s.json("enroll", "P2", "dextrose-prolotherapy", "--start", later,
                   "--clinician", "Dr Kim")  # fmt: skip
    first, second = (v["id"] for v in past["visits"][:2])
    upcoming = [v["id"] for v in ahead["visits"]]
    s.json("visit done", str(first), "--at", f"{PAST} 09:30")
    s.json("visit missed", str(second))
    s.json("visit reopen", str(second))
    s.json("slots", str(upcoming[1]), "--count", "3")
    moved = s.json("visit move", str(upcoming[0]), "--to", "first")
    assert moved["visit"]["protocol"]["id"] == "dextrose-prolotherapy"
    s.json("visit cancel", str(upcoming[-1]))
    s.json("patient edit", "P1", "--phone", "+82 2 000 0001")
    s.json("enrollment show", str(past["course"]["id"]))
    s.json("enrollment withdraw", str(ahead["course"]["id"]))
    s.json("enrollment reinstate", str(ahead["course"]["id"]))
    reads_and_clinic(s, tmp_path, later)
    others(s, tmp_path, later, backend)


def reads_and_clinic(s: Session, tmp_path: Path, later: str) -> None:
    """The reads, and the clinic's own commands."""
    s.json("visits", "P1")
    s.json("agenda", "--date", PAST)
    s.json("worklist")
    s.json("history", "P1")
    s.json("closure add", later, "--reason", "staff training", "--clinician", "Dr Kim")
    closures = s.json("closure list")
    s.json("closure remove", str(closures[0]["id"]))
    s.json("clinician list")
    s.json("clinician edit", "Dr Kim", "--capacity", "2")
    s.json("clinic show")
    clinic_file = tmp_path / "clinic.toml"
    s.json("clinic load", str(clinic_file))


def others(s: Session, tmp_path: Path, later: str, backend: str) -> None:
    """Feeds, e-mail, lists, protocols, plans and the database's own commands."""
    s.json("feed create", "clinic")
    s.json("feed list")
    s.json("feed revoke", "1")
    s.json("notify list")
    # No mail server on port 9: the run stops (exit 2) and still says what it did.
    s.json("notify send", status=2, VISITPLAN_SMTP_URL="smtp://127.0.0.1:9")
    s.json("patient list")
    s.json("patient show", "P2")
    s.json("protocols list")
    s.json("protocols show", "dextrose-prolotherapy")
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n', encoding="utf-8")
    checked = s.json("protocols check", str(bad), status=2)
    assert checked[0]["problem"]
    assert s.json("protocols check")
    s.json("plan", "dextrose-prolotherapy", "--start", later)
    rows = tmp_path / "patients.csv"
    rows.write_text(
        f"mrn,name,protocol,start\nP3,Synthetic Three,eswt-plantar-fasciitis,{later}\n",
        encoding="utf-8",
    )
    s.json("import", str(rows))
    s.json("db upgrade")
    s.json("demo")
    if backend == "sqlite":
        s.json("backup", str(tmp_path / "copy.sqlite3"))
    else:
        s.ran["backup"] = None  # an SQLite copy; PostgreSQL has pg_dump


def publish(s: Session, server: CalDAVServer, tmp_path: Path) -> None:
    secret = tmp_path / "caldav-password"
    secret.write_text(server.password + "\n", encoding="utf-8")
    url = server.calendar_url("clinic")
    run_main(["patient", "add", "P9", "--name", "Synthetic Nine", *s.common])
    run_main(["enroll", "P9", "dextrose-prolotherapy", "--start", _monday_in_a_month(),
              *s.common])  # fmt: skip
    # --user is the CalDAV login too.
    saved, s.common = s.common, [*s.common[:-1], server.user]
    try:
        published = s.json("publish", "--caldav", url, "--create", "--password-file", str(secret))
    finally:
        s.common = saved
    assert published["created"]
    assert published["url"].startswith(server.url)


@pytest.fixture
def session(db_url: str, tmp_path: Path) -> Session:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(CLINIC, encoding="utf-8")
    return Session(db_url, clinic)


def test_every_command_prints_documents_of_the_schema(
    session: Session, tmp_path: Path, db_url: str, radicale_server: CalDAVServer
) -> None:
    scenario(session, tmp_path, "sqlite" if db_url.startswith("sqlite") else "postgresql")
    publish(session, radicale_server, tmp_path)
    assert set(session.ran) == set(OUTPUTS)
    shown = list(_moments([d for d in session.ran.values() if d is not None]))
    assert len(shown) > 100
    # Seoul keeps +09:00 all year: every time, audit, feed and outbox ones too.
    assert {m[-6:] for m in shown} == {"+09:00"}, shown
    # The vocabulary's own rules, beyond the schema's types.
    patient = session.ran["patient show"]
    assert [c["protocol"]["id"] for c in patient["courses"]] == ["dextrose-prolotherapy"]
    assert patient["courses"][0]["clinician"] == "Dr Kim"
    everyone = session.ran["patient list"]
    assert all(isinstance(p["courses"], list) for p in everyone)
    history = session.ran["history"]
    changed = {k for h in history for k in {**(h["before"] or {}), **(h["after"] or {})}}
    assert {"start", "actual"} <= changed
    assert not {"start_at", "actual_at"} & changed
    assert {h["entity"] for h in history} >= {"patient", "course", "visit"}
    enrolled = next(h for h in history if h["action"] == "enrolled")
    assert enrolled["after"]["protocol"] == session.ran["enrollment show"]["course"]["protocol"]


def test_every_printing_command_takes_json() -> None:
    """Each command line that takes --json has its document, and each document its
    command: the schema names exactly what can be printed."""
    taking = set()
    parser = build_parser()
    for words, sub in _commands(parser, ()):
        if any("--json" in a.option_strings for a in sub._actions):
            taking.add(" ".join(words))
    assert taking == set(OUTPUTS)


def _commands(parser: Any, words: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*words, name), sub
                yield from _commands(sub, (*words, name))


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "regenerate it: python -m visitplan.cli.json_schema docs/visitplan-json.schema.json"
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda v: v.update(enrollment_id=v.pop("course_id")), "an enrollment"),
        (lambda v: v.update(protocol="dextrose-prolotherapy"), "a protocol as a string"),
        (lambda v: v.update(start="2026-04-06T01:00:00"), "a time without its offset"),
        (lambda v: v.update(start_at=v["start"]), "a field of another vocabulary"),
        (lambda v: v.update(revision="1"), "a number as text"),
    ],
)
def test_the_schema_refuses_the_old_shapes(change: Any, why: str) -> None:
    visit = {
        "id": 1, "uid": "u", "course_id": 1, "mrn": "P1", "clinician": None,
        "protocol": {"id": "p", "version": "1.0", "title": "T"}, "key": "session-1",
        "label": "Session 1 of 6", "kind": "treatment", "status": "scheduled",
        "start": "2026-04-06T10:00:00+09:00", "end": "2026-04-06T10:45:00+09:00",
        "target": "2026-04-06", "window": {"earliest": "2026-04-03", "latest": "2026-04-09"},
        "actual": None, "revision": 1, "sequence": 0, "reason": None, "deviation": None,
        "warnings": [], "pinned": False,
    }  # fmt: skip
    adapter("agenda").validate_json(json.dumps([visit]), strict=True)
    change(visit)
    with pytest.raises(ValidationError):
        adapter("agenda").validate_json(json.dumps([visit]), strict=True)


READS = (
    ("agenda", "--date", PAST),
    ("visits", "P1"),
    ("patient", "show", "P1"),
    ("history", "P1"),
    ("worklist",),
    ("feed", "list"),
    ("closure", "list"),
    ("clinic", "show"),
)


def test_no_time_depends_on_the_machines_zone(tmp_path: Path, sqlite_url: str) -> None:
    """The same records read from a machine in Kiritimati (UTC+14) and one in UTC, as
    real processes: the same documents, every time at Seoul's offset."""
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(CLINIC, encoding="utf-8")
    s = Session(sqlite_url, clinic)
    s.json("patient add", "P1", "--name", "Synthetic One")
    course = s.json("enroll", "P1", "dextrose-prolotherapy", "--start", PAST)
    s.json("visit done", str(course["visits"][0]["id"]), "--at", f"{PAST} 09:30")
    s.json("closure add", _monday_in_a_month())
    s.json("feed create", "clinic")
    outputs = {}
    for zone in ("Pacific/Kiritimati", "UTC"):
        home = tmp_path / zone.replace("/", "-")
        home.mkdir()
        env = {"TZ": zone, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")}
        for argv in READS:
            result = run_visitplan(*argv, "--json", *s.common, env=env)
            assert result.status == 0, result
            command = " ".join(argv[:2]) if argv[0] in ("patient", "feed", "closure", "clinic")\
                else argv[0]  # fmt: skip
            adapter(command).validate_json(result.out, strict=True)
            outputs[zone, argv] = result.out
    for argv in READS:
        assert outputs["Pacific/Kiritimati", argv] == outputs["UTC", argv], argv
    shown = [m for out in outputs.values() for m in _moments(json.loads(out))]
    assert len(shown) > 20
    assert {m[-6:] for m in shown} == {"+09:00"}


def test_a_history_entry_speaks_the_documents_words() -> None:
    """Stored audit fields renamed as the visit document names them, times (even one
    written in UTC) at the clinic's offset, a clinician's id as their name."""
    from zoneinfo import ZoneInfo

    from visitplan.cli import json_out
    from visitplan.records.views import HistoryEntry

    stored = HistoryEntry(
        id=7, at=dt.datetime(2026, 4, 6, 0, 30, tzinfo=dt.UTC), who="desk", action="moved",
        entity="visit", entity_id="3", mrn="P1",
        before={"start_at": "2026-04-06T09:00:00+09:00", "clinician_id": 1, "pinned": False},
        after={"start_at": "2026-04-07T01:00:00+00:00", "clinician_id": 2, "pinned": True,
               "actual_at": None, "enrollment_id": 4},
    )  # fmt: skip
    shown = json_out.history_entry(stored, ZoneInfo("Asia/Seoul"), {}, {1: "Dr Kim", 2: "Dr Lee"})
    adapter("history").validate_python([shown], strict=True)
    assert shown["at"] == "2026-04-06T09:30:00+09:00"
    assert shown["before"] == {"start": "2026-04-06T09:00:00+09:00", "clinician": "Dr Kim",
                               "pinned": False}  # fmt: skip
    assert shown["after"] == {"start": "2026-04-07T10:00:00+09:00", "clinician": "Dr Lee",
                              "pinned": True, "actual": None, "course_id": 4}  # fmt: skip
    course = HistoryEntry(
        id=8, at=stored.at, who="desk", action="enrolled", entity="enrollment", entity_id="4",
        mrn="P1", after={"protocol": "p", "version": "1.0", "start": "2026-04-06"},
    )  # fmt: skip
    ref: Any = {"id": "p", "version": "1.0", "title": "A protocol"}
    shown = json_out.history_entry(course, ZoneInfo("Asia/Seoul"), {"4": ref})
    assert shown["entity"] == "course"
    assert shown["after"] == {"protocol": ref, "start": "2026-04-06"}

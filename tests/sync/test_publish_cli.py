"""`visitplan publish` as a process, against a real Radicale and a real Xandikos, with the
ledger in the database."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import icalendar
import pytest
from sqlalchemy import create_engine, select

from tests.support.cli import Result, assert_one_line_error, run_visitplan
from tests.support.sync import CalDAVServer
from visitplan.records.operations import Desk
from visitplan.records.schema import PUBLISHED
from visitplan.sync.feeds import FeedSettings
from visitplan.sync.publish import Published, connect
from visitplan.sync.publish import publish as publish_objects
from visitplan.sync.source import calendar_objects
from visitplan.sync.store import SqlLedger

PROPFIND = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "caldav-password"
    path.write_text("correct horse\n", encoding="utf-8")  # both servers' (see tests/support)
    return path


def on_server(server: CalDAVServer, calendar_url: str) -> dict[str, str]:
    """href -> ETag of every object in the calendar, read with a plain PROPFIND."""
    response = httpx.request(
        "PROPFIND",
        calendar_url,
        content=PROPFIND,
        headers={"Depth": "1", "Content-Type": "application/xml"},
        auth=(server.user, server.password),
    )
    assert response.status_code == 207
    found = re.findall(
        r"<(?:\w+:)?href>([^<]+\.ics)</(?:\w+:)?href>.*?<(?:\w+:)?getetag>([^<]+)<",
        response.text,
        re.S | re.I,
    )
    return dict(found)


def publish(
    db_url: str, clinic_file: Path, server: CalDAVServer, password_file: Path, *extra: str
) -> Result:
    return run_visitplan(
        "publish", "--caldav", server.calendar_url("clinic"), "--user", server.user,
        "--password-file", str(password_file), "--db", db_url, "--clinic", str(clinic_file),
        *extra,
    )  # fmt: skip


def test_publish_is_idempotent_and_incremental(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    caldav_server: CalDAVServer,
    password_file: Path,
) -> None:
    args = (db_url, seoul_clinic_file, caldav_server, password_file)
    url = caldav_server.calendar_url("clinic")
    visits = clinic_desk.visits()
    first = publish(*args, "--create")
    assert first.status == 0, first.err
    assert f"{len(visits)} created, 0 updated, 0 unchanged" in first.out
    before = on_server(caldav_server, url)
    assert len(before) == len(visits)

    second = publish(*args)
    assert f"0 created, 0 updated, {len(visits)} unchanged" in second.out
    assert on_server(caldav_server, url) == before

    moved, cancelled = visits[2], visits[5]
    later = dt.datetime.combine(moved.start.date(), dt.time(16, 0))
    clinic_desk.move_visit(moved.id, later)
    clinic_desk.cancel_visit(cancelled.id)
    third = publish(*args)
    assert third.status == 0, third.err
    assert f"0 created, 2 updated, {len(visits) - 2} unchanged" in third.out
    after = on_server(caldav_server, url)
    assert set(after) == set(before)
    changed = {href for href in after if after[href] != before[href]}
    assert len(changed) == 2
    texts = [
        httpx.get(f"{caldav_server.url.rstrip('/')}{href}",
                  auth=(caldav_server.user, caldav_server.password)).text
        for href in changed
    ]  # fmt: skip
    by_uid = {
        str(e["UID"]): e for t in texts for e in icalendar.Calendar.from_ical(t).walk("VEVENT")
    }
    assert set(by_uid) == {moved.uid, cancelled.uid}
    assert not any("METHOD:" in t for t in texts)  # RFC 4791 section 4.1
    assert by_uid[moved.uid].decoded("DTSTART").replace(tzinfo=None) == later
    assert str(by_uid[cancelled.uid]["STATUS"]) == "CANCELLED"


def test_a_calendar_deleted_on_the_server_is_an_error_until_create(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    caldav_server: CalDAVServer,
    password_file: Path,
) -> None:
    args = (db_url, seoul_clinic_file, caldav_server, password_file)
    url = caldav_server.calendar_url("clinic")
    assert publish(*args, "--create").status == 0
    deleted = httpx.delete(url, auth=(caldav_server.user, caldav_server.password))
    assert deleted.status_code in (200, 204)

    refused = publish(*args)
    assert_one_line_error(refused, "does not exist", "--create")
    again = publish(*args, "--create")
    assert again.status == 0, again.err
    assert f"{len(clinic_desk.visits())} created" in again.out
    assert len(on_server(caldav_server, url)) == len(clinic_desk.visits())


def test_wrong_password_and_dead_server_are_one_line_errors(
    sqlite_url: str,
    seoul_clinic_file: Path,
    radicale_server: CalDAVServer,
    tmp_path: Path,
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n", encoding="utf-8")
    result = publish(sqlite_url, seoul_clinic_file, radicale_server, wrong, "--create")
    assert_one_line_error(result, "refused the user name or password")
    assert "not it" not in result.err

    dead = CalDAVServer("http://127.0.0.1:9/", "desk", "x", tmp_path)
    result = publish(sqlite_url, seoul_clinic_file, dead, wrong)
    assert_one_line_error(result, "cannot reach the CalDAV server at http://127.0.0.1:9/")


def test_publish_a_patient_scope_to_a_named_calendar(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    caldav_server: CalDAVServer,
    password_file: Path,
) -> None:
    s = caldav_server
    result = run_visitplan(
        "publish", "patient:MRN-1", "--caldav", s.url, "--calendar", "Jin's visits",
        "--create", "--user", s.user, "--password-file", str(password_file),
        "--db", db_url, "--clinic", str(seoul_clinic_file),
    )  # fmt: skip
    assert result.status == 0, result.err
    assert f"{len(clinic_desk.visits(mrn='MRN-1'))} created" in result.out


def test_an_object_edited_on_the_server_is_left_alone_unless_overwrite(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    caldav_server: CalDAVServer,
    password_file: Path,
) -> None:
    args = (db_url, seoul_clinic_file, caldav_server, password_file)
    auth = (caldav_server.user, caldav_server.password)
    assert publish(*args, "--create").status == 0
    visit = clinic_desk.visits()[0]
    href = next(
        h for h in on_server(caldav_server, caldav_server.calendar_url("clinic"))
        if visit.uid.split("@")[0] in h
    )  # fmt: skip
    url = f"{caldav_server.url.rstrip('/')}{href}"
    edited = httpx.get(url, auth=auth).text.replace("SUMMARY:", "SUMMARY:Edited in the app ")
    assert httpx.put(url, content=edited.encode(), auth=auth).status_code in (201, 204)

    clinic_desk.cancel_visit(visit.id)
    refused = publish(*args)
    assert refused.status == 1
    assert "1 changed on the server since the last publish" in refused.out
    assert visit.uid in refused.err
    assert "Edited in the app" in httpx.get(url, auth=auth).text

    forced = publish(*args, "--overwrite")
    assert forced.status == 0, forced.err
    assert "0 created, 1 updated" in forced.out
    assert "STATUS:CANCELLED" in httpx.get(url, auth=auth).text


def test_a_renamed_patient_republishes_that_patients_visits_only(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    caldav_server: CalDAVServer,
    password_file: Path,
) -> None:
    args = (db_url, seoul_clinic_file, caldav_server, password_file)
    assert publish(*args, "--create", "--privacy", "full").status == 0
    clinic_desk.update_patient("MRN-2", name="Ana Souza")
    again = publish(*args, "--privacy", "full")
    assert again.status == 0, again.err
    ana, jin = len(clinic_desk.visits(mrn="MRN-2")), len(clinic_desk.visits(mrn="MRN-1"))
    assert f"0 created, {ana} updated, {jin} unchanged" in again.out
    url = caldav_server.calendar_url("clinic")
    auth = (caldav_server.user, caldav_server.password)
    texts = [
        httpx.get(f"{caldav_server.url.rstrip('/')}{href}", auth=auth).text
        for href in on_server(caldav_server, url)
    ]
    assert sum("Ana Souza" in t for t in texts) == ana
    assert not any("Ana Lima" in t for t in texts)


def ledger_urls(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(select(PUBLISHED.c.calendar_url)).scalars())
    finally:
        engine.dispose()


def test_a_password_in_the_url_is_refused_never_printed_nor_stored(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    radicale_server: CalDAVServer,
) -> None:
    s = radicale_server
    clean = s.calendar_url("clinic")
    with_secret = clean.replace("http://", "http://desk:correct%20horse@")
    result = run_visitplan(
        "publish", "--caldav", with_secret, "--create", "--db", db_url,
        "--clinic", str(seoul_clinic_file),
    )  # fmt: skip
    assert_one_line_error(result, f"--caldav {clean}:", "--user", "--password-file")
    assert "correct" not in result.err
    assert ledger_urls(db_url) == set()
    assert not (s.storage / "collection-root" / "desk" / "clinic").exists()


def test_a_user_name_in_the_url_is_the_login_and_the_ledger_is_the_same(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    radicale_server: CalDAVServer,
    password_file: Path,
) -> None:
    s = radicale_server
    clean = s.calendar_url("clinic")
    named = clean.replace("http://", f"http://{s.user}@")
    common = ("--password-file", str(password_file), "--db", db_url,
              "--clinic", str(seoul_clinic_file))  # fmt: skip
    first = run_visitplan("publish", "--caldav", named, "--create", *common)
    assert first.status == 0, first.err
    assert f"to {clean}:" in first.out
    assert f"{s.user}@" not in first.out
    assert ledger_urls(db_url) == {clean}

    again = run_visitplan("publish", "--caldav", clean, "--user", s.user, *common)
    assert again.status == 0, again.err
    assert f"0 created, 0 updated, {len(clinic_desk.visits())} unchanged" in again.out

    other = run_visitplan("publish", "--caldav", named, "--user", "someone", *common)
    assert_one_line_error(other, "names the user 'desk'", "--user says 'someone'")


class KilledLedger(SqlLedger):
    """The database ledger of a process killed right after its ``survives``-th update."""

    def __init__(self, engine: object, url: str, survives: int) -> None:
        super().__init__(engine, url)  # type: ignore[arg-type]
        self.survives = survives

    def record(self, entry: Published) -> None:
        if self.survives == 0:
            raise KeyboardInterrupt  # nothing after the PUT is done, as with SIGKILL
        self.survives -= 1
        super().record(entry)


def test_a_publisher_killed_during_updates_leaves_no_false_conflicts(
    clinic_desk: Desk,
    db_url: str,
    seoul_clinic_file: Path,
    caldav_server: CalDAVServer,
    password_file: Path,
) -> None:
    args = (db_url, seoul_clinic_file, caldav_server, password_file)
    assert publish(*args, "--create").status == 0
    visits = [v for v in clinic_desk.visits() if v.status == "scheduled"]
    for visit in visits[:4]:
        clinic_desk.move_visit(visit.id, visit.start.replace(hour=16))

    # The same objects as the command publishes, with a ledger that dies after 2 updates.
    s = caldav_server
    target = connect(s.calendar_url("clinic"), user=s.user, password=s.password)
    since = clinic_desk.now().date() - dt.timedelta(days=30)
    objects = calendar_objects(clinic_desk, FeedSettings.parse("clinic"), since)
    with pytest.raises(KeyboardInterrupt):
        publish_objects(target, objects, KilledLedger(clinic_desk.engine, target.url, 2))

    resumed = publish(*args)
    assert resumed.status == 0, resumed
    assert "changed on the server" not in resumed.out + resumed.err
    assert "1 found already written by an interrupted run" in resumed.out
    assert "0 created, 1 updated" in resumed.out
    settled = publish(*args)
    assert f"0 created, 0 updated, {len(clinic_desk.visits())} unchanged" in settled.out

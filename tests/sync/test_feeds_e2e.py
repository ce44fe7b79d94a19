"""Feeds end to end: real records, `visitplan feed` and `visitplan serve` as processes,
polled with httpx the way a calendar app subscribes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from sqlalchemy import text

from tests.support.cli import VISITPLAN, run_visitplan
from tests.support.sync import serving
from visitplan.records.operations import Desk
from visitplan.sync.feeds import FeedScope, FeedSettings
from visitplan.sync.server import make_feed_app
from visitplan.sync.source import DeskFeedSource
from visitplan.sync.store import FeedStore

PROTOCOL = "prolotherapy-knee-oa"


def events(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def server(
    tmp_path: Path, db_url: str, seoul_clinic_file: Path, clinic_desk: Desk
) -> Iterator[tuple[str, Path]]:
    """`visitplan serve` on a free port; yields its base URL and its log file."""
    log = tmp_path / "serve.log"
    command = [
        str(VISITPLAN), "serve", "--port", "0", "--recheck-seconds", "0",
        "--db", db_url, "--clinic", str(seoul_clinic_file),
    ]  # fmt: skip
    with serving(command, log) as (_process, base):
        yield base, log


def assert_kept_as_hash_and_listed(desk: Desk, token: str, common: list[str]) -> None:
    """The database holds the token's hash only; `feed list` shows the feed, not the token."""
    with desk.engine.connect() as connection:
        stored = [str(v) for row in connection.execute(text("SELECT * FROM feeds")) for v in row]
    assert token not in " ".join(stored)
    assert hashlib.sha256(token.encode()).hexdigest() in stored

    as_json = json.loads(run_visitplan("feed", "list", "--json", *common).out)
    assert [(f["scope"], f["audience"]) for f in as_json] == [("clinician:Dr Kim", "staff")]
    assert as_json[0]["revoked_at"] is not None
    listed = run_visitplan("feed", "list", *common)
    assert re.search(r"clinician:Dr Kim\s+staff\s+initials.*revoked", listed.out)
    assert token not in listed.out


def test_subscribe_move_poll_revoke(
    server: tuple[str, Path], clinic_desk: Desk, db_url: str, seoul_clinic_file: Path
) -> None:
    base, log = server
    common = ["--db", db_url, "--clinic", str(seoul_clinic_file)]
    made = run_visitplan("feed", "create", "clinician:Dr Kim", "--base-url", base, *common)
    assert made.status == 0, made.err
    url = made.out.strip()
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 22

    first = httpx.get(url)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/calendar")
    subscribed = events(first.content)
    dr_kim = clinic_desk.visits(clinician="Dr Kim")
    assert set(subscribed) == {v.uid for v in dr_kim}
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in first.content
    assert b"X-PUBLISHED-TTL:PT1H" in first.content
    assert b"BEGIN:VTIMEZONE" in first.content
    assert b"Jin Park" not in first.content  # initials by default, never the name

    moved = dr_kim[1]
    later = dt.datetime.combine(moved.start.date(), dt.time(11, 0))
    clinic_desk.move_visit(moved.id, later)
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.headers["etag"] != first.headers["etag"]
    event = events(again.content)[moved.uid]
    assert event.decoded("DTSTART").replace(tzinfo=None) == later
    assert int(event["SEQUENCE"]) == moved.sequence + 1
    assert set(events(again.content)) == set(subscribed)

    unchanged = httpx.get(url, headers={"If-None-Match": again.headers["etag"]})
    assert unchanged.status_code == 304
    assert httpx.head(url).status_code == 200
    assert httpx.post(url).status_code == 405
    assert httpx.put(url, content=b"x").status_code == 405

    feed_id = re.search(r"feed (\d+)", made.err)
    assert feed_id is not None
    revoked = run_visitplan("feed", "revoke", feed_id.group(1), *common)
    assert revoked.status == 0, revoked.err
    gone = httpx.get(url)
    assert (gone.status_code, gone.text) == (404, "Not Found")

    assert_kept_as_hash_and_listed(clinic_desk, token, common)
    written = log.read_text()
    assert "/feeds/<token>" in written
    assert token not in written


def test_a_cancelled_visit_stays_in_the_feed_as_cancelled(
    clinic_desk: Desk, serve_app: Callable[[Any], str]
) -> None:
    _, token = FeedStore(clinic_desk.engine).create(FeedSettings(FeedScope("clinic")), "tester")
    base = serve_app(make_feed_app(DeskFeedSource(clinic_desk), recheck_seconds=0))
    url = f"{base}/feeds/{token}.ics"
    visit = clinic_desk.visits(mrn="MRN-2")[0]
    clinic_desk.cancel_visit(visit.id)
    event = events(httpx.get(url).content)[visit.uid]
    assert str(event["STATUS"]) == "CANCELLED"
    assert len(events(httpx.get(url).content)) == len(clinic_desk.visits())


def test_a_patient_feed_holds_only_that_patient(
    clinic_desk: Desk, serve_app: Callable[[Any], str]
) -> None:
    store = FeedStore(clinic_desk.engine)
    _, token = store.create(FeedSettings(FeedScope("patient", "MRN-1"), "patient"), "tester")
    base = serve_app(make_feed_app(DeskFeedSource(clinic_desk), recheck_seconds=0))
    body = httpx.get(f"{base}/feeds/{token}.ics").content
    assert set(events(body)) == {v.uid for v in clinic_desk.visits(mrn="MRN-1")}
    assert b"BEGIN:VALARM" in body
    assert b"MRN-2" not in body
    assert b"Ana" not in body


def test_the_lookback_leaves_old_visits_out(
    clinic_desk: Desk, serve_app: Callable[[Any], str]
) -> None:
    """A feed starts `lookback` days back: a course that ended before that is not in it."""
    _, token = FeedStore(clinic_desk.engine).create(FeedSettings(FeedScope("clinic")), "tester")
    last_visit = max(v.start for v in clinic_desk.visits()).date()
    after_all = (last_visit + dt.timedelta(days=31)) - dt.date.today()
    app = make_feed_app(
        DeskFeedSource(clinic_desk),
        recheck_seconds=0,
        lookback=dt.timedelta(0),
        today=lambda: dt.date.today() + after_all,
    )
    body = httpx.get(f"{serve_app(app)}/feeds/{token}.ics").content
    assert events(body) == {}


def test_feed_commands_refuse_bad_input(sqlite_url: str, seoul_clinic_file: Path) -> None:
    common = ["--db", sqlite_url, "--clinic", str(seoul_clinic_file)]
    for args, fragment in (
        (["feed", "create", "ward:3"], "expected 'clinic', 'clinician:NAME' or 'patient:MRN'"),
        (["feed", "create", "patient:NOBODY"], "NOBODY"),
        (["feed", "create", "clinic", "--audience", "patient"], "needs a patient scope"),
        (["feed", "revoke", "99"], "feed 99: no such feed"),
    ):
        result = run_visitplan(*args, *common)
        assert result.status == 2, result
        assert fragment in result.err
        assert len(result.err.strip().splitlines()) == 1
        assert "Traceback" not in result.err


def test_serve_on_a_taken_port_is_a_one_line_error(
    sqlite_url: str, seoul_clinic_file: Path
) -> None:
    import socket

    from tests.support.cli import assert_one_line_error

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_visitplan(
            "serve", "--port", str(port), "--db", sqlite_url, "--clinic", str(seoul_clinic_file)
        )
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("scope", "audience"), [("patient:MRN-1", "staff"), ("patient:MRN-2", "patient")]
)
def test_a_feed_is_the_export_of_its_scope_plus_its_refresh_hints(
    clinic_desk: Desk, scope: str, audience: str
) -> None:
    from visitplan.domain.ical import ExportOptions
    from visitplan.exporting import Scope, export_from_desk
    from visitplan.sync.source import feed_body

    since = clinic_desk.now().date() - dt.timedelta(days=30)
    settings = FeedSettings(FeedScope.parse(scope), audience)  # type: ignore[arg-type]
    body, _ = feed_body(clinic_desk, settings, since)
    exported = export_from_desk(
        clinic_desk,
        Scope(patient=settings.scope.value, first=since),
        ExportOptions(audience=settings.audience),
    )
    hints = (b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n", b"X-PUBLISHED-TTL:PT1H\r\n")
    assert all(hint in body for hint in hints)
    for hint in hints:
        body = body.replace(hint, b"")
    assert body == exported


def test_course_titles_are_read_as_the_export_reads_them(clinic_desk: Desk) -> None:
    from visitplan.exporting import course_titles
    from visitplan.sync.source import titles_of

    clinic_desk.enroll("MRN-1", "eswt-plantar-fasciitis", clinic_desk.now().date())
    for views in (clinic_desk.visits(), clinic_desk.visits(mrn="MRN-1"), []):
        assert titles_of(clinic_desk, views) == course_titles(clinic_desk, views)
    assert len(titles_of(clinic_desk, clinic_desk.visits())) == 2


@pytest.mark.parametrize("scope", ["clinic", "clinician:Dr Kim", "patient:MRN-2"])
def test_published_objects_are_the_feeds_visits(clinic_desk: Desk, scope: str) -> None:
    from visitplan.sync.source import calendar_objects, scope_views

    settings = FeedSettings(FeedScope.parse(scope))
    for since in (clinic_desk.now().date(), clinic_desk.now().date() + dt.timedelta(weeks=10)):
        objects = calendar_objects(clinic_desk, settings, since)
        views = scope_views(clinic_desk, settings.scope, since)
        assert [(o.uid, o.sequence) for o in objects] == [(v.uid, v.sequence) for v in views]
        assert len({o.fingerprint for o in objects}) == len(objects)

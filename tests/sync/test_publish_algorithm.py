"""The CalDAV publish algorithm against a real Radicale and a real Xandikos, with the
ledger in memory.

The command and the database ledger are covered in test_publish_cli.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import caldav
import icalendar
import pytest

from tests.support.sync import CalDAVServer, running_caldav
from visitplan.domain.clinic import Clinic
from visitplan.domain.ical import CalendarVisit, ExportOptions, build_calendar, calendar_bytes
from visitplan.errors import InputError
from visitplan.sync.publish import (
    DIGEST,
    CalDAVCalendar,
    CalendarObject,
    Published,
    PublishError,
    PutResult,
    add_digests,
    connect,
    publish,
)

SEOUL = dt.timezone(dt.timedelta(hours=9))


@dataclass
class MemoryLedger:
    rows: dict[str, Published] = field(default_factory=dict)

    def entries(self) -> dict[str, Published]:
        return dict(self.rows)

    def record(self, entry: Published) -> None:
        self.rows[entry.uid] = entry

    def forget_all(self) -> None:
        self.rows.clear()


def visits(n: int) -> list[CalendarVisit]:
    first = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SEOUL)
    return [
        CalendarVisit(
            uid=f"visit-{i}@example.invalid",
            sequence=0,
            cancelled=False,
            start=first + dt.timedelta(days=7 * i),
            end=first + dt.timedelta(days=7 * i, minutes=30),
            zone="Asia/Seoul",
            kind="treatment",
            label=f"Session {i}",
            last_modified=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        )
        for i in range(n)
    ]


def objects(seoul_clinic: Clinic, items: list[CalendarVisit]) -> list[CalendarObject]:
    options = ExportOptions(method=False)  # as sync.source.calendar_objects renders them

    def render(v: CalendarVisit) -> str:
        calendar = build_calendar([v], seoul_clinic, options)
        add_digests(calendar)
        return calendar_bytes(calendar).decode()

    return [
        CalendarObject(
            v.uid,
            v.sequence,
            hashlib.sha256(repr(v).encode()).hexdigest(),
            lambda v=v: render(v),  # type: ignore[misc]
        )
        for v in items
    ]


def first_publish(
    target: CalDAVCalendar, clinic: Clinic, items: list[CalendarVisit]
) -> MemoryLedger:
    ledger = MemoryLedger()
    publish(target, objects(clinic, items), ledger)
    return ledger


def server_copy(target: CalDAVCalendar, ledger: MemoryLedger, uid: str) -> tuple[str, str | None]:
    return target.get(ledger.rows[uid].href) or ("", None)


def server_events(server: CalDAVServer, url: str) -> dict[str, icalendar.Event]:
    client = caldav.DAVClient(url=server.url, username=server.user, password=server.password)
    found = {}
    for obj in client.calendar(url=url).events():
        for event in icalendar.Calendar.from_ical(obj.data).walk("VEVENT"):
            found[str(event["UID"])] = event
    return found


@pytest.fixture
def target(caldav_server: CalDAVServer) -> CalDAVCalendar:
    s = caldav_server
    return connect(s.calendar_url("clinic"), user=s.user, password=s.password, create=True)


def test_publish_twice_writes_once_then_only_what_changed(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    ledger = MemoryLedger()
    items = visits(6)
    first = publish(target, objects(seoul_clinic, items), ledger)
    assert (len(first.created), first.unchanged) == (6, 0)
    assert all(p.etag for p in ledger.rows.values())

    second = publish(target, objects(seoul_clinic, items), ledger)
    assert (second.written, second.unchanged) == (0, 6)

    moved = replace(
        items[1],
        start=items[1].start + dt.timedelta(hours=2),
        end=items[1].end + dt.timedelta(hours=2),
        sequence=1,
    )
    cancelled = replace(items[4], cancelled=True, sequence=1)
    items[1], items[4] = moved, cancelled
    before = dict(ledger.rows)
    third = publish(target, objects(seoul_clinic, items), ledger)
    assert sorted(third.updated) == sorted([moved.uid, cancelled.uid])
    assert (third.created, third.unchanged) == ([], 4)
    changed = {uid for uid in before if before[uid].etag != ledger.rows[uid].etag}
    assert changed == {moved.uid, cancelled.uid}

    on_server = server_events(caldav_server, target.url)
    assert len(on_server) == 6
    assert on_server[moved.uid].decoded("DTSTART") == moved.start
    assert str(on_server[cancelled.uid]["STATUS"]) == "CANCELLED"
    assert int(on_server[moved.uid]["SEQUENCE"]) == 1


def test_a_change_made_on_the_server_is_not_overwritten(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    ledger = MemoryLedger()
    items = visits(2)
    publish(target, objects(seoul_clinic, items), ledger)
    # Someone edits the event in their calendar app.
    href = ledger.rows[items[0].uid].href
    text, etag = server_copy(target, ledger, items[0].uid)
    edited = text.replace("SUMMARY:", "SUMMARY:Edited ")
    assert target.put(href, edited, if_match=etag).status in (200, 201, 204)

    items[0] = replace(items[0], sequence=1, label="Session moved")
    report = publish(target, objects(seoul_clinic, items), ledger)
    assert report.conflicts == [items[0].uid]
    assert "Edited" in (target.get(href) or ("", None))[0]
    # Still a conflict on the next run: it is not forgotten.
    assert publish(target, objects(seoul_clinic, items), ledger).conflicts == [items[0].uid]

    forced = publish(target, objects(seoul_clinic, items), ledger, overwrite=True)
    assert forced.updated == [items[0].uid]
    assert "Edited" not in (target.get(href) or ("", None))[0]


def test_a_lost_ledger_entry_is_taken_back_not_duplicated(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    ledger = MemoryLedger()
    items = visits(3)
    publish(target, objects(seoul_clinic, items), ledger)
    # A crash between the PUT and the ledger's commit loses the entry.
    del ledger.rows[items[2].uid]
    etag = target.get(target.href_for(items[2].uid))
    report = publish(target, objects(seoul_clinic, items), ledger)
    assert (report.created, report.conflicts, report.unchanged) == ([], [], 2)
    # Exactly what we would write: recorded as it is, nothing sent.
    assert report.recorded == [items[2].uid]
    assert target.get(target.href_for(items[2].uid)) == etag
    assert ledger.rows[items[2].uid].etag == (etag or ("", None))[1]
    assert len(server_events(caldav_server, target.url)) == 3
    assert publish(target, objects(seoul_clinic, items), ledger).unchanged == 3


@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_the_run_stops_cleanly_when_the_server_dies_and_resumes(
    tmp_path: Path, seoul_clinic: Clinic, kind: str
) -> None:
    ledger = MemoryLedger()
    items = visits(4)
    folder = tmp_path / "r"
    folder.mkdir()
    with running_caldav(kind, folder) as server:
        target = connect(
            server.calendar_url("c"), user=server.user, password=server.password, create=True
        )
        publish(target, objects(seoul_clinic, items[:2]), ledger)
    with pytest.raises(PublishError, match="cannot reach the CalDAV server"):
        publish(target, objects(seoul_clinic, items), ledger)
    assert len(ledger.rows) == 2


def test_a_wrong_password_is_a_one_line_error(radicale_server: CalDAVServer) -> None:
    s = radicale_server
    with pytest.raises(InputError, match="refused the user name or password"):
        connect(s.calendar_url("clinic"), user=s.user, password="wrong", create=True)


def test_a_missing_calendar_is_a_one_line_error(caldav_server: CalDAVServer) -> None:
    s = caldav_server
    with pytest.raises(InputError, match="does not exist"):
        connect(s.calendar_url("nothing"), user=s.user, password=s.password)
    with pytest.raises(InputError, match="no calendar named 'Nothing'"):
        connect(s.url, calendar="Nothing", user=s.user, password=s.password)


def test_a_named_calendar_is_found_or_made(caldav_server: CalDAVServer) -> None:
    s = caldav_server
    made = connect(s.url, calendar="Clinic visits", user=s.user, password=s.password, create=True)
    found = connect(s.url, calendar="Clinic visits", user=s.user, password=s.password)
    assert made.url == found.url
    assert found.exists()


class DyingCalendar(CalDAVCalendar):
    """The real calendar, whose server is stopped (for real) after ``writes`` PUTs."""

    def __init__(self, target: CalDAVCalendar, writes: int, stop: Callable[[], None]) -> None:
        super().__init__(target.client, target.url)
        self.writes, self.stop = writes, stop

    def put(self, href: str, body: str, *, if_match: str | None) -> PutResult:
        if self.writes == 0:
            self.stop()
        self.writes -= 1
        return super().put(href, body, if_match=if_match)


@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_a_run_cut_short_by_the_server_resumes_where_it_stopped(
    tmp_path: Path, seoul_clinic: Clinic, kind: str
) -> None:
    ledger = MemoryLedger()
    items = visits(7)
    with running_caldav(kind, tmp_path) as server:
        url, port = server.calendar_url("c"), server.port
        target = connect(url, user=server.user, password=server.password, create=True)
        with pytest.raises(PublishError, match="cannot reach the CalDAV server"):
            publish(DyingCalendar(target, 3, server.stop), objects(seoul_clinic, items), ledger)
    assert len(ledger.rows) == 3
    with running_caldav(kind, tmp_path, port=port) as server:
        target = connect(url, user=server.user, password=server.password)
        report = publish(target, objects(seoul_clinic, items), ledger)
        assert (len(report.created), report.unchanged, report.conflicts) == (4, 3, [])
        assert set(server_events(server, url)) == {v.uid for v in items}


def test_a_uid_already_in_the_calendar_elsewhere_is_reported_not_doubled(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    """Someone imported the .ics export into the calendar: its UIDs sit at other hrefs."""
    items = visits(3)
    imported = objects(seoul_clinic, items[:1])[0].render()
    assert target.put(target.url + "imported.ics", imported, if_match=None).status == 201
    report = publish(target, objects(seoul_clinic, items), MemoryLedger())
    assert report.conflicts == [items[0].uid]
    assert len(report.created) == 2
    assert len(server_events(caldav_server, target.url)) == 3


class Killed(BaseException):
    """What the process sees of a SIGKILL: nothing after this point runs."""


@dataclass
class KilledLedger(MemoryLedger):
    """Dies right after the server took the PUT of ``victim`` and before it is recorded."""

    victim: str = ""

    def record(self, entry: Published) -> None:
        if entry.uid == self.victim:
            raise Killed
        super().record(entry)


def moved(item: CalendarVisit, hours: int) -> CalendarVisit:
    shift = dt.timedelta(hours=hours)
    return replace(item, start=item.start + shift, end=item.end + shift, sequence=item.sequence + 1)


def test_a_publisher_killed_during_updates_leaves_no_false_conflict(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    items = visits(4)
    ledger = first_publish(target, seoul_clinic, items)
    items = [moved(v, 1) for v in items]
    killed = KilledLedger(dict(ledger.rows), victim=items[2].uid)
    with pytest.raises(Killed):
        publish(target, objects(seoul_clinic, items), killed)
    # Objects 0 and 1 were recorded; 2 was written but not recorded; 3 was never sent.
    stale = killed.rows[items[2].uid].etag
    assert stale != (target.get(killed.rows[items[2].uid].href) or ("", None))[1]

    report = publish(target, objects(seoul_clinic, items), MemoryLedger(dict(killed.rows)))
    assert report.conflicts == []
    assert report.recorded == [items[2].uid]
    assert (report.updated, report.unchanged) == ([items[3].uid], 2)


def test_our_overtaken_write_is_replaced_but_an_edit_that_keeps_the_digest_is_not(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    """Killed after a write, then the visit moved again before the next run: the server
    copy is neither the ledger's nor what we send now, yet its digest says it is ours."""
    items = visits(3)
    ledger = first_publish(target, seoul_clinic, items)
    items = [moved(v, 1) for v in items]
    with pytest.raises(Killed):
        publish(target, objects(seoul_clinic, items), KilledLedger(ledger.rows, items[1].uid))
    # Someone edits visit 0 in a calendar app, which keeps the properties it does not know.
    href = ledger.rows[items[0].uid].href
    text, etag = server_copy(target, ledger, items[0].uid)
    assert DIGEST in text
    edited = text.replace("SUMMARY:", "SUMMARY:Edited ")
    assert target.put(href, edited, if_match=etag).status in (200, 201, 204)

    items = [moved(v, 1) for v in items]
    report = publish(target, objects(seoul_clinic, items), ledger)
    assert report.conflicts == [items[0].uid]
    assert sorted(report.updated) == sorted([items[1].uid, items[2].uid])
    on_server = server_events(caldav_server, target.url)
    assert on_server[items[1].uid].decoded("DTSTART") == items[1].start
    assert "Edited" in str(on_server[items[0].uid]["SUMMARY"])


def test_an_edit_that_drops_the_digest_is_a_conflict(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    items = visits(1)
    ledger = first_publish(target, seoul_clinic, items)
    href = ledger.rows[items[0].uid].href
    text, etag = server_copy(target, ledger, items[0].uid)
    # Same content as ours but without the digest: an app that rewrote the event.
    kept = "\r\n".join(
        line for line in text.replace("\r\n ", "").splitlines() if not line.startswith(DIGEST)
    )
    assert target.put(href, kept + "\r\n", if_match=etag).status in (200, 201, 204)
    report = publish(target, objects(seoul_clinic, [moved(items[0], 1)]), ledger)
    assert report.conflicts == [items[0].uid]


def test_calendar_objects_have_no_method_and_carry_their_digest(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    ledger = MemoryLedger()
    publish(target, objects(seoul_clinic, visits(2)), ledger)
    for entry in ledger.rows.values():
        text, _etag = target.get(entry.href) or ("", None)
        calendar = icalendar.Calendar.from_ical(text)
        assert "METHOD" not in calendar  # RFC 4791 section 4.1
        assert [str(e[DIGEST]) for e in calendar.walk("VEVENT")] != []


def test_a_url_that_is_not_a_calendar_is_refused(caldav_server: CalDAVServer) -> None:
    s = caldav_server
    connect(s.calendar_url("clinic"), user=s.user, password=s.password, create=True)
    home = s.calendar_url("clinic").removesuffix("clinic/")
    with pytest.raises(InputError, match="is not a calendar collection"):
        connect(home, user=s.user, password=s.password, create=True)


def test_create_by_url_makes_the_calendar_once(caldav_server: CalDAVServer) -> None:
    s = caldav_server
    made = connect(s.calendar_url("new"), user=s.user, password=s.password, create=True)
    assert made.created
    assert made.exists()
    again = connect(s.calendar_url("new"), user=s.user, password=s.password, create=True)
    assert not again.created


def test_a_lost_write_of_an_older_version_is_taken_back_and_loses_its_method(
    caldav_server: CalDAVServer, target: CalDAVCalendar, seoul_clinic: Clinic
) -> None:
    """The same event as an earlier visitplan wrote it (with METHOD, without the digest)
    is not what we would write now: taken back and rewritten, not recorded as it is."""
    items = visits(1)
    older = calendar_bytes(build_calendar(items, seoul_clinic, ExportOptions())).decode()
    assert "METHOD:PUBLISH" in older
    href = target.href_for(items[0].uid)
    assert target.put(href, older, if_match=None).status == 201
    report = publish(target, objects(seoul_clinic, items), MemoryLedger())
    assert (report.created, report.recorded) == ([items[0].uid], [])
    text = (target.get(href) or ("", None))[0]
    assert "METHOD" not in text
    assert DIGEST in text

"""From the records to feeds and calendar objects, through the .ics export's own functions.

A feed is the export of its scope: the same ``exporting.from_views`` and
``domain.ical.build_calendar``, so the same UIDs, SEQUENCE, VTIMEZONE and privacy
rules; this module only chooses the visits and adds the subscription properties.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from icalendar import vDuration

from visitplan.domain.clinic import clinic_json
from visitplan.domain.ical import CalendarVisit, ExportOptions, build_calendar, calendar_bytes
from visitplan.exporting import from_view, from_views
from visitplan.sync.feeds import FeedScope, FeedSettings, Snapshot
from visitplan.sync.publish import CalendarObject, add_digests
from visitplan.sync.store import FeedStore

if TYPE_CHECKING:
    from visitplan.records.operations import Desk
    from visitplan.records.views import VisitStamp, VisitView

DEFAULT_REFRESH = dt.timedelta(hours=1)


def scope_views(desk: Desk, scope: FeedScope, since: dt.date) -> list[VisitView]:
    """The scope's visits from ``since`` (a local date) to the end of every course."""
    if scope.kind == "patient":
        return desk.visits(mrn=scope.value, since=since)
    if scope.kind == "clinician":
        return desk.visits(clinician=scope.value, since=since)
    return desk.visits(since=since)


def titles_of(desk: Desk, views: list[VisitView]) -> dict[str, str]:
    """``exporting.course_titles``, read without building every enrollment's view
    (tests/sync/test_feeds_e2e.py keeps the two equal)."""
    return _titles(desk, {v.protocol_id for v in views}, {v.mrn for v in views})


def _titles(desk: Desk, wanted: set[str], mrns: set[str]) -> dict[str, str]:
    # One patient's feed: that patient's courses decide, as in their own export.
    return desk.course_titles(wanted, next(iter(mrns)) if len(mrns) == 1 else None)


def calendar_visits(desk: Desk, scope: FeedScope, since: dt.date) -> list[CalendarVisit]:
    views = scope_views(desk, scope, since)
    return from_views(views, desk.clinic.timezone, titles_of(desk, views))


def export_options(desk: Desk, settings: FeedSettings) -> ExportOptions:
    # Named as `visitplan export` names its files, plus the clinician of a clinician feed.
    what = "appointments" if settings.audience == "patient" else "visits"
    name = f"{desk.clinic.name} {what}"
    if settings.scope.kind == "clinician":
        name += f": {settings.scope.value}"
    return ExportOptions(audience=settings.audience, privacy=settings.privacy, name=name)


def feed_body(
    desk: Desk, settings: FeedSettings, since: dt.date, refresh: dt.timedelta = DEFAULT_REFRESH
) -> tuple[bytes, dt.datetime]:
    """The feed's .ics and its Last-Modified.

    Last-Modified is the last change of any record, or the start of the look-back
    when that is later (the window moving on drops visits): never earlier than a
    change that altered this feed, so If-Modified-Since alone stays correct.
    """
    visits = calendar_visits(desk, settings.scope, since)
    options = export_options(desk, settings)
    calendar = build_calendar(visits, desk.clinic, options, empty_on=(since, since))
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    window_start = dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
    changed = desk.last_change()
    modified = max(changed, window_start) if changed else window_start
    return calendar_bytes(calendar), modified


class DeskFeedSource:
    """The server's view of the database: active feeds, the data version, the bodies."""

    def __init__(self, desk: Desk, refresh: dt.timedelta = DEFAULT_REFRESH) -> None:
        self.desk = desk
        self.feeds = FeedStore(desk.engine)
        self.refresh = refresh

    def snapshot(self) -> Snapshot:
        return Snapshot(str(self.desk.data_version()), self.feeds.active())

    def render(self, settings: FeedSettings, since: dt.date) -> tuple[bytes, dt.datetime]:
        return feed_body(self.desk, settings, since, self.refresh)


def calendar_objects(desk: Desk, settings: FeedSettings, since: dt.date) -> list[CalendarObject]:
    """One object per visit, each a VCALENDAR with its VTIMEZONE and one VEVENT, with
    no METHOD (RFC 4791 section 4.1) and with the digest that tells our writes apart.

    Publishing again must cost little when little changed, so nothing is built for
    a visit until it has to be sent: its fingerprint hashes the few columns that
    every change moves (the visit's and its patient's revision and change time, its
    course's protocol snapshot) with the clinic file, audience, privacy and course
    titles; only a visit whose fingerprint differs is read whole and serialized.
    """
    rows = _visit_stamps(desk, settings.scope, since)
    titles = _titles(desk, {r.protocol_id for r in rows}, {r.mrn for r in rows})
    options = dataclasses.replace(export_options(desk, settings), method=False)
    base = f"{clinic_json(desk.clinic)}|{options!r}|{sorted(titles.items())!r}"

    def fingerprint(row: VisitStamp) -> str:
        stamp = (
            f"{base}|{row.uid}|{row.revision}|{row.updated_at}|{row.patient_revision}|"
            f"{row.patient_updated_at}|{row.snapshot_id}"
        )
        return hashlib.sha256(stamp.encode()).hexdigest()

    def renderer(uid: str) -> Callable[[], str]:
        def render() -> str:
            view = desk.visit_by_uid(uid)
            course = titles.get(view.protocol_id, view.protocol_id)
            visit = from_view(view, desk.clinic.timezone, course)
            calendar = build_calendar([visit], desk.clinic, options)
            add_digests(calendar)
            return calendar_bytes(calendar).decode("utf-8")

        return render

    return [CalendarObject(r.uid, r.sequence, fingerprint(r), renderer(r.uid)) for r in rows]


def _visit_stamps(desk: Desk, scope: FeedScope, since: dt.date) -> list[VisitStamp]:
    """The scope's visits as ``scope_views`` chooses them, a few columns each."""
    if scope.kind == "patient":
        return desk.visit_stamps(since, mrn=scope.value)
    if scope.kind == "clinician":
        return desk.visit_stamps(since, clinician=scope.value)
    return desk.visit_stamps(since)


def open_desk_from(
    db: str | None, clinic_file: str | None, protocols: list[str], user: str | None
) -> Desk:
    """The desk the common options (--db, --clinic, --protocols, --user) point at."""
    from visitplan.records.operations import open_workstation_desk

    return open_workstation_desk(db, clinic_file, protocols, user)

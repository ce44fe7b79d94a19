"""From the records to feeds and calendar objects, through the .ics export's own functions.

A feed is the export of its scope: the same ``exporting.from_views`` and
``domain.ical.build_calendar``, so the same UIDs, SEQUENCE, VTIMEZONE and privacy
rules; this module only chooses the visits and adds the subscription properties.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from icalendar import vDuration
from sqlalchemy import func, select

from visitplan.domain.ical import CalendarVisit, ExportOptions, build_calendar, calendar_bytes
from visitplan.exporting import course_titles, from_views
from visitplan.sync.feeds import FeedScope, FeedSettings, Snapshot
from visitplan.sync.publish import CalendarObject
from visitplan.sync.store import FeedStore

if TYPE_CHECKING:
    from visitplan.records.operations import Desk
    from visitplan.records.views import VisitView

DEFAULT_LOOKBACK = dt.timedelta(days=30)
DEFAULT_REFRESH = dt.timedelta(hours=1)


def scope_views(desk: Desk, scope: FeedScope, since: dt.date) -> list[VisitView]:
    """The scope's visits from ``since`` (a local date) to the end of every course."""
    if scope.kind == "patient":
        return desk.visits(mrn=scope.value, since=since)
    if scope.kind == "clinician":
        return desk.visits(clinician=scope.value, since=since)
    return desk.visits(since=since)


def calendar_visits(desk: Desk, scope: FeedScope, since: dt.date) -> list[CalendarVisit]:
    views = scope_views(desk, scope, since)
    return from_views(views, desk.clinic.timezone, course_titles(desk, views))


def export_options(desk: Desk, settings: FeedSettings) -> ExportOptions:
    # Named as `visitplan export` names its files, plus the clinician of a clinician feed.
    what = "appointments" if settings.audience == "patient" else "visits"
    name = f"{desk.clinic.name} {what}"
    if settings.scope.kind == "clinician":
        name += f": {settings.scope.value}"
    return ExportOptions(audience=settings.audience, privacy=settings.privacy, name=name)


def last_change(desk: Desk) -> dt.datetime | None:
    """When the records last changed (the newest audit entry), as aware UTC."""
    from visitplan.records.reading import AUDIT

    with desk.engine.connect() as connection:
        stored = connection.execute(select(func.max(AUDIT.c.at))).scalar_one()
    return None if stored is None else stored.replace(tzinfo=dt.UTC)


def feed_body(
    desk: Desk, settings: FeedSettings, since: dt.date, refresh: dt.timedelta = DEFAULT_REFRESH
) -> tuple[bytes, dt.datetime]:
    """The feed's .ics and its Last-Modified.

    Last-Modified is the last change of any record, or the start of the look-back
    when that is later (the window moving on drops visits): never earlier than a
    change that altered this feed, so If-Modified-Since alone stays correct.
    """
    visits = calendar_visits(desk, settings.scope, since)
    calendar = build_calendar(visits, desk.clinic, export_options(desk, settings))
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    window_start = dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
    changed = last_change(desk)
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
    """One object per visit, each a VCALENDAR with its VTIMEZONE and one VEVENT.

    The fingerprint hashes everything the object is built from (the visit as the
    calendar shows it, the clinic file, audience and privacy), so an unchanged visit
    is recognised without serializing it.
    """
    clinic = desk.clinic
    options = export_options(desk, settings)
    base = hashlib.sha256(f"{clinic.model_dump_json()}|{options!r}".encode()).hexdigest()

    def renderer(visit: CalendarVisit) -> Callable[[], str]:
        return lambda: calendar_bytes(build_calendar([visit], clinic, options)).decode("utf-8")

    return [
        CalendarObject(
            visit.uid,
            visit.sequence,
            hashlib.sha256(f"{base}|{visit!r}".encode()).hexdigest(),
            renderer(visit),
        )
        for visit in calendar_visits(desk, settings.scope, since)
    ]


def open_desk_from(
    db: str | None, clinic_file: str | None, protocols: list[str], user: str | None
) -> Desk:
    """The desk the common options (--db, --clinic, --protocols, --user) point at."""
    from visitplan.catalog import ProtocolCatalog, load_clinic, protocol_dirs
    from visitplan.records.operations import open_desk

    clinic = load_clinic(clinic_file)
    return open_desk(db, clinic, ProtocolCatalog(protocol_dirs(protocols)), user)

"""CalDAV publishing: each visit as its own calendar object, written only when it changed.

The algorithm, per visit (``publish``):

- never written to this calendar: PUT to ``<calendar>/<uid>.ics`` with
  ``If-None-Match: *``, so an object already there is never replaced blindly;
- written before, same fingerprint (revision and export settings): nothing is sent;
- written before, changed since: PUT with ``If-Match: <the ETag we got>``, so a
  change made on the server since our last write is never overwritten; such a
  conflict is reported and left alone unless ``overwrite`` is asked for (so is an
  object the server refuses, e.g. because another object there has its UID).

What was written (UID, href, ETag, SEQUENCE, fingerprint) goes to the ledger after
each object, so a run stopped by a dead server or a crash resumes where it stopped.
A run killed between a PUT and its ledger entry leaves a server copy newer than the
ledger's ETag; the next run's PUT then fails its precondition, and the server copy
is read back and recognised as ours when it is our own write:

- exactly what we are about to send (same UID, SEQUENCE and content, compared
  property by property, since servers reorder and refold what they store): it is
  recorded with the server's ETag and nothing is sent;
- or a write of ours that a later change of the visit has overtaken: every object
  carries ``X-VISITPLAN-DIGEST``, a hash of its VEVENT as we wrote it, so a copy
  whose content still matches its digest (and whose SEQUENCE is not later than
  ours) was not edited by anyone, and is replaced;
- anything else was changed on the server (a calendar app keeps the digest but
  changes the content, or drops it) and is a conflict.

When a create finds an object already at our href (our own write whose ledger entry
was lost), it is taken back when it has our UID and no later SEQUENCE than ours.
Objects whose visit has left the scope (older than the look-back) stay on the
server untouched.

A calendar deleted on the server is not re-created behind anyone's back: the run
stops with one line naming ``--create``; with it, the calendar is made again, its
ledger is cleared, and every visit is written anew.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from visitplan.errors import InputError

if TYPE_CHECKING:
    import icalendar

DIGEST = "X-VISITPLAN-DIGEST"
_CALDAV = "{urn:ietf:params:xml:ns:caldav}"


@dataclass(frozen=True, slots=True)
class CalendarObject:
    """One visit, ready to publish; ``render`` (slow) is only called when it must be sent."""

    uid: str
    sequence: int
    fingerprint: str
    render: Callable[[], str]


@dataclass(frozen=True, slots=True)
class Published:
    uid: str
    href: str
    etag: str | None
    sequence: int
    fingerprint: str


class Ledger(Protocol):
    """What was published to one calendar (in the database, see ``store.SqlLedger``)."""

    def entries(self) -> dict[str, Published]: ...

    def record(self, entry: Published) -> None: ...

    def forget_all(self) -> None: ...


@dataclass
class PublishReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)  # UIDs changed or refused there
    # Already on the server as we would write them (an interrupted run's writes).
    recorded: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return len(self.created) + len(self.updated)

    def summary(self) -> str:
        text = (
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )
        if self.recorded:
            text += (
                f", {len(self.recorded)} found already written by an interrupted run and recorded"
            )
        if self.conflicts:
            text += (
                f", {len(self.conflicts)} changed on the server since the last publish and "
                "left alone (--overwrite writes them anyway)"
            )
        return text


@dataclass(frozen=True, slots=True)
class PutResult:
    status: int
    etag: str | None
    sent: bool = True  # False: the server already held exactly this object


CalendarState = Literal["calendar", "missing", "other"]


class PublishError(InputError):
    """The server stopped the run; what was written before it is in the ledger."""


class CalDAVCalendar:
    """One calendar collection, spoken to with the caldav library's client."""

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url if url.endswith("/") else url + "/"
        self.created = False  # made by this run: nothing in it was published before

    def href_for(self, uid: str) -> str:
        return self.url + quote(uid, safe="-_.") + ".ics"

    def state(self) -> CalendarState:
        """What the URL is, by its DAV:resourcetype (RFC 4791 section 4.2)."""
        headers = {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}
        with _talking(self.url):
            response = self.client.request(self.url, "PROPFIND", _PROPFIND_TYPE, headers)
        if response.status == 404:
            return "missing"
        if response.status != 207:
            raise PublishError(f"CalDAV calendar {self.url}: the server answered {response.status}")
        return _resource_state(response.tree)

    def exists(self) -> bool:
        return self.state() == "calendar"

    def put(self, href: str, body: str, *, if_match: str | None) -> PutResult:
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if if_match is None:
            headers["If-None-Match"] = "*"
        else:
            headers["If-Match"] = if_match
        from caldav.lib import error

        with _talking(self.url):
            try:
                response = self.client.request(href, "PUT", body, headers)
            except error.AuthorizationError:
                # The login worked (connect() read the calendar): this object is refused,
                # e.g. its UID is already taken by another object in the calendar.
                return PutResult(403, None)
        return PutResult(response.status, response.headers.get("ETag"))

    def get(self, href: str) -> tuple[str, str | None] | None:
        with _talking(self.url):
            response = self.client.request(href, "GET")
        if response.status == 404:
            return None
        if response.status >= 300:
            raise PublishError(f"CalDAV object {href}: the server answered {response.status}")
        return str(response.raw), response.headers.get("ETag")

    def create(self) -> None:
        with _talking(self.url):
            response = self.client.request(self.url, "MKCALENDAR")
        if response.status not in (200, 201):
            raise PublishError(
                f"CalDAV calendar {self.url} could not be created: the server answered "
                f"{response.status}"
            )


_PROPFIND_TYPE = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:">'
    "<d:prop><d:resourcetype/></d:prop></d:propfind>"
)


def _resource_state(tree: Any) -> CalendarState:
    """A Depth 0 multistatus: missing (Xandikos answers 207 with a 404 inside), a
    calendar collection, or something else (a plain collection, a file)."""
    if tree is None:
        raise PublishError("CalDAV server: its PROPFIND reply was not a DAV multistatus")
    for response in tree.iter("{DAV:}response"):
        status = response.find("{DAV:}status")
        if status is not None and _code(status.text) == 404:
            return "missing"
        for propstat in response.iter("{DAV:}propstat"):
            code = _code(propstat.findtext("{DAV:}status"))
            kind = propstat.find("{DAV:}prop/{DAV:}resourcetype")
            if code == 200 and kind is not None:
                return "calendar" if kind.find(f"{_CALDAV}calendar") is not None else "other"
        return "other"
    return "missing"


def _code(status_line: str | None) -> int:
    """The code of an ``HTTP/1.1 404 Not Found`` status line; 0 when there is none."""
    parts = (status_line or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


@contextmanager
def _talking(url: str) -> Iterator[None]:
    """Network and authentication failures become one line naming the server."""
    from caldav.lib import error

    try:
        yield
    except error.AuthorizationError:
        raise PublishError(
            f"CalDAV server {url} refused the user name or password (check --user and "
            "--password-file)"
        ) from None
    except error.DAVError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise PublishError(f"CalDAV server {url}: {reason}") from None
    except OSError as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise PublishError(f"cannot reach the CalDAV server at {url}: {reason}") from None


def connect(
    url: str,
    *,
    calendar: str | None = None,
    user: str | None = None,
    password: str | None = None,
    create: bool = False,
    timeout: int = 30,
) -> CalDAVCalendar:
    """The calendar at ``url``, or the one named ``calendar`` on the server at ``url``.

    A calendar that does not exist is an error, unless ``create`` makes it. ``url``
    holds no password (see ``login``).
    """
    from caldav.davclient import DAVClient

    url, user = login(url, user)
    client = DAVClient(
        url=url, username=user, password=password, timeout=timeout, enable_rfc6764=False
    )
    if calendar is None:
        target = CalDAVCalendar(client, url)
        state = target.state()
        if state == "other":
            raise PublishError(
                f"CalDAV URL {target.url} is not a calendar collection; give a calendar's "
                "URL, or the server's with --calendar NAME"
            )
        if state == "missing":
            if not create:
                raise PublishError(
                    f"CalDAV calendar {target.url} does not exist (deleted on the server?); "
                    "--create makes it and publishes every visit again"
                )
            target.create()
            target.created = True
        return target
    return _named_calendar(client, url, calendar, create)


def without_credentials(url: str) -> str:
    """``url`` without the ``user:password@`` part: how a calendar is named and stored."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def login(url: str, user: str | None) -> tuple[str, str | None]:
    """The URL without credentials, and the login name.

    A password in the URL is refused: the command line shows it to every user of
    the machine and keeps it in shell history, and the URL is printed and stored.
    A user name alone is no secret: it is the login when ``user`` is not given.
    """
    parts = urlsplit(url)
    clean = without_credentials(url)
    if parts.password is not None:
        raise InputError(
            f"--caldav {clean}: the URL holds a password; give the login with --user and "
            "the password with --password-file (or VISITPLAN_CALDAV_PASSWORD)"
        )
    named = unquote(parts.username) if parts.username else None
    if named is not None and user is not None and named != user:
        raise InputError(
            f"--caldav {clean}: the URL names the user {named!r} but --user says {user!r}; "
            "give the login once, with --user"
        )
    return clean, user if user is not None else named


def _named_calendar(client: Any, url: str, name: str, create: bool) -> CalDAVCalendar:
    from caldav.lib import error

    with _talking(url):
        principal = client.principal()
        try:
            found = principal.calendar(name=name)
        except error.NotFoundError:
            if not create:
                raise PublishError(
                    f"CalDAV server {url} has no calendar named {name!r}; --create makes it"
                ) from None
            made = CalDAVCalendar(client, str(principal.make_calendar(name=name).url))
            made.created = True
            return made
    return CalDAVCalendar(client, str(found.url))


def publish(
    target: CalDAVCalendar,
    objects: Iterable[CalendarObject],
    ledger: Ledger,
    *,
    overwrite: bool = False,
) -> PublishReport:
    report = PublishReport()
    known = ledger.entries()
    for item in objects:
        previous = known.get(item.uid)
        if previous is not None and previous.fingerprint == item.fingerprint:
            report.unchanged += 1
            continue
        href = previous.href if previous is not None else target.href_for(item.uid)
        body = item.render()
        result = target.put(href, body, if_match=previous.etag if previous else None)
        if result.status == 412:
            result = _settle_conflict(target, href, item, body, previous, overwrite)
        if result.status in (403, 409, 412):
            report.conflicts.append(item.uid)
            continue
        if result.status >= 300:
            raise PublishError(
                f"CalDAV server refused visit {item.uid} (HTTP {result.status}); "
                f"{report.written} written before it, the next run goes on from there"
            )
        etag = result.etag or _etag_of(target, href)
        ledger.record(Published(item.uid, href, etag, item.sequence, item.fingerprint))
        if not result.sent:
            report.recorded.append(item.uid)
        else:
            (report.updated if previous else report.created).append(item.uid)
    return report


def _settle_conflict(
    target: CalDAVCalendar,
    href: str,
    item: CalendarObject,
    body: str,
    previous: Published | None,
    overwrite: bool,
) -> PutResult:
    """A precondition failed: take back our own lost write, else report unless told."""
    current = target.get(href)
    if current is None:
        # Deleted on the server since we wrote it: a change we did not see.
        return target.put(href, body, if_match=None) if overwrite else PutResult(412, None)
    text, etag = current
    if etag is None:
        return PutResult(412, None)
    theirs, wanted = _parsed(text), _parsed(body)
    if theirs is None or not _same_uid_not_newer(theirs[1], item):
        return target.put(href, body, if_match=etag) if overwrite else PutResult(412, None)
    if wanted is not None and _same_content(theirs, wanted):
        return PutResult(200, etag, sent=False)
    if previous is None or overwrite or all(_untouched(e) for e in theirs[1]):
        return target.put(href, body, if_match=etag)
    return PutResult(412, None)


def _parsed(text: str) -> tuple[list[tuple[str, bytes]], list[icalendar.Component]] | None:
    """The calendar's own properties but PRODID (a METHOD counts), and its VEVENTs."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError):
        return None
    events = list(calendar.walk("VEVENT"))
    if not events:
        return None
    own = sorted(
        (name, value.encode() if isinstance(value, str) else bytes(cast(Any, value).to_ical()))
        for name, value in calendar.property_items(recursive=False)
        if name not in ("BEGIN", "END", "PRODID")
    )
    return own, events


def _same_content(
    one: tuple[list[tuple[str, bytes]], list[icalendar.Component]],
    other: tuple[list[tuple[str, bytes]], list[icalendar.Component]],
) -> bool:
    return one[0] == other[0] and [_normal(e) for e in one[1]] == [_normal(e) for e in other[1]]


def _same_uid_not_newer(events: list[icalendar.Component], item: CalendarObject) -> bool:
    return all(
        str(e.get("UID")) == item.uid and int(e.get("SEQUENCE", 0)) <= item.sequence for e in events
    )


def _normal(event: icalendar.Component) -> bytes:
    """The VEVENT (and its alarms) without our digest, properties in one order, unfolded:
    equal for equal content however a server reorders, refolds or requotes it."""
    import icalendar

    copy = icalendar.Component.from_ical(event.to_ical())
    copy.pop(DIGEST, None)
    return bytes(copy.to_ical(sorted=True)).replace(b"\r\n ", b"")


def _digest(event: icalendar.Component) -> str:
    return hashlib.sha256(_normal(event)).hexdigest()


def _untouched(event: icalendar.Component) -> bool:
    """Whether the event is still as we wrote it: its content matches its digest."""
    stamped = event.get(DIGEST)
    return stamped is not None and str(stamped) == _digest(event)


def add_digests(calendar: icalendar.Calendar) -> None:
    """Give every VEVENT the digest of its content, for ``_untouched``."""
    for event in calendar.walk("VEVENT"):
        event.pop(DIGEST, None)
        event.add(DIGEST, _digest(event))


def _etag_of(target: CalDAVCalendar, href: str) -> str | None:
    """Servers that change what they store (and so send no ETag on PUT): ask."""
    current = target.get(href)
    return current[1] if current else None

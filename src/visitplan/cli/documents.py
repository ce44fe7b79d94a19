"""The JSON vocabulary: every document a command prints with ``--json``, defined once.

The builders (``visitplan.cli.json_out``) return these, mypy checks them against these,
and ``visitplan.cli.json_schema`` turns these same definitions into
``docs/visitplan-json.schema.json``. The rules they follow: a protocol is always
``{"id", "version", "title"}``; a course is a course (``course_id``), never an
enrollment; a patient carries its ``courses``; a history entry names a visit's times
as a visit does (``start``, ``end``, ``actual``); every time is ISO 8601 with the
offset of the clinic's zone.

Importing this module costs next to nothing (no pydantic): the quick reads use it.
The annotations' markers (``_Text``) tell pydantic, when the schema is made, which
strings are dates and times.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

# pydantic reads TypedDicts from typing_extensions only on Python < 3.12.
from typing_extensions import TypedDict, is_typeddict


class _Text:
    """A string of one form, for the schema (a pattern and a JSON Schema format)."""

    def __init__(self, pattern: str, form: str | None, description: str) -> None:
        self.pattern = pattern
        self.form = form
        self.description = description

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.str_schema(pattern=self.pattern, strict=True)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> Any:
        shown = dict(handler(schema))
        if self.form:
            shown["format"] = self.form
        shown["description"] = self.description
        return shown


# A moment: always with its offset (the clinic zone's, at that moment).
Moment = Annotated[
    str,
    _Text(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$",
        "date-time",
        "ISO 8601 date and time with the offset of the clinic's zone",
    ),
]
Day = Annotated[str, _Text(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "date", "a calendar date")]
ClockTime = Annotated[
    str, _Text(r"^[0-9]{2}:[0-9]{2}$", None, "a wall-clock time HH:MM in the clinic's zone")
]

VisitStatus = Literal["scheduled", "completed", "missed", "cancelled"]
CourseStatus = Literal["active", "withdrawn"]


class ProtocolRef(TypedDict):
    id: str
    version: str
    title: str


class Window(TypedDict):
    earliest: Day
    latest: Day


class Visit(TypedDict):
    """A stored visit (agenda, visits, worklist, slots, changes, enroll...)."""

    id: int
    uid: str
    course_id: int
    mrn: str
    clinician: str | None
    protocol: ProtocolRef
    key: str
    label: str
    kind: str
    status: VisitStatus
    start: Moment
    end: Moment
    target: Day
    window: Window
    actual: Moment | None
    revision: int
    sequence: int
    reason: str | None
    deviation: str | None
    warnings: list[str]
    pinned: bool


class Course(TypedDict):
    id: int
    mrn: str
    protocol: ProtocolRef
    start: Day
    time: ClockTime
    clinician: str | None
    status: CourseStatus
    revision: int
    newer_version_available: bool
    current_version: str | None


class Patient(TypedDict):
    mrn: str
    name: str
    phone: str | None
    email: str | None
    notify: Literal["email", "none"]
    notes: str
    no_shows: int
    revision: int
    created_at: Moment
    updated_at: Moment
    courses: list[Course]


class HistoryEntry(TypedDict):
    """One change in the audit trail. ``before`` and ``after`` hold the fields that
    changed, named as in the documents (a visit's ``start``, ``end``, ``actual``; a
    visit's ``course_id``), their times in the clinic's zone."""

    id: int
    at: Moment
    who: str
    action: str
    entity: Literal["patient", "course", "visit", "clinic", "closure", "clinician"]
    entity_id: str
    mrn: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class Change(TypedDict):
    """What a visit change did: the visit, what its cascade moved, and the visits
    placed by hand that it left where they were."""

    visit: Visit
    moved: list[Visit]
    left: list[Visit]
    warnings: list[str]


class CourseDetail(TypedDict):
    """A course with its visits (enroll, enrollment show|withdraw|reinstate)."""

    course: Course
    visits: list[Visit]
    warnings: list[str]


class WorkItem(TypedDict):
    reason: str
    visit: Visit
    todo: str
    detail: str | None


class Worklist(TypedDict):
    items: list[WorkItem]


class FreeTime(TypedDict):
    start: Moment
    end: Moment
    in_window: bool
    days_outside: int


class Slots(TypedDict):
    visit: Visit
    times: list[FreeTime]


class Message(TypedDict):
    """One message of the outbox."""

    id: int
    visit_id: int
    mrn: str
    kind: str
    status: str
    sequence: int
    due_at: Moment
    next_at: Moment
    attempts: int
    sent_at: Moment | None
    subject: str | None
    message_id: str | None
    error: str | None


class SendReport(TypedDict):
    sent: list[int]
    failed: list[int]
    deferred: list[int]
    skipped: int
    waiting: int
    next_due: Moment | None
    stopped: str | None


class Feed(TypedDict):
    id: int
    scope: str
    audience: str
    privacy: str
    created_at: Moment
    created_by: str
    revoked_at: Moment | None


class NewFeed(TypedDict):
    """feed create: the feed and its URL (the only time the token is shown)."""

    feed: Feed
    url: str


class Clinician(TypedDict):
    id: int
    name: str
    hours: str | None
    capacity: int
    revision: int


class Closure(TypedDict):
    id: int
    first_day: Day
    last_day: Day
    reason: str
    clinician: str | None
    created_at: Moment
    created_by: str


class Clinic(TypedDict):
    """clinic show: the stored version (None before the first write) and its settings,
    as the clinic file says them."""

    version: int | None
    loaded_at: Moment | None
    loaded_by: str | None
    settings: dict[str, Any]


class Affected(TypedDict):
    problem: str
    visit: Visit


class ClinicReport(TypedDict):
    """What a clinic change did (clinic load, closure add, clinician edit)."""

    what: str
    version: int | None
    closure: Closure | None
    affected: list[Affected]
    moved: list[Visit]
    still: list[Affected]


class Protocol(TypedDict):
    """A protocol file (protocols list; protocols show adds its description, source
    and course)."""

    id: str
    version: str
    title: str
    visits: int
    path: str
    description: NotRequired[str]
    reference: NotRequired[dict[str, str | None] | None]
    course: NotRequired[list[str]]


class PlannedVisit(TypedDict):
    """A visit of a preview (plan): nothing stored, so no id, status or revision."""

    key: str
    kind: str
    label: str
    target: Day
    start: Moment
    end: Moment
    window: Window
    shifted: bool
    reason: str | None
    anchor: str | None
    duration_minutes: int
    assessments: list[str]
    warnings: list[str]


class ClinicRef(TypedDict):
    name: str
    timezone: str


class Plan(TypedDict):
    protocol: ProtocolRef
    clinic: ClinicRef
    visits: list[PlannedVisit]
    warnings: list[str]


class CheckedFile(TypedDict):
    """protocols check: each file, and what is wrong with it (None: nothing)."""

    path: str
    problem: str | None


class Published(TypedDict):
    """publish: what one run wrote to the CalDAV calendar, by UID."""

    scope: str
    url: str
    created: list[str]
    updated: list[str]
    unchanged: int
    recorded: list[str]
    conflicts: list[str]


class Imported(TypedDict):
    patients: int
    courses: int
    visits: int
    already: int


class Done(TypedDict):
    """A command whose whole answer is one sentence (backup, db upgrade, demo...)."""

    done: str


# A document carries exactly its fields: the schema refuses any other. (Set here, not
# in the class bodies, where mypy would take it for a key.)
for _document in list(globals().values()):
    if isinstance(_document, type) and is_typeddict(_document):
        _document.__pydantic_config__ = {"extra": "forbid"}  # type: ignore[attr-defined]

# What each command prints with --json, by its words on the command line.
OUTPUTS: dict[str, Any] = {
    "plan": Plan,
    "protocols list": list[Protocol],
    "protocols show": Protocol,
    "protocols check": list[CheckedFile],
    "patient add": Patient,
    "patient edit": Patient,
    "patient list": list[Patient],
    "patient show": Patient,
    "history": list[HistoryEntry],
    "enroll": CourseDetail,
    "enrollment show": CourseDetail,
    "enrollment withdraw": CourseDetail,
    "enrollment reinstate": CourseDetail,
    "visits": list[Visit],
    "agenda": list[Visit],
    "visit done": Change,
    "visit move": Change,
    "visit missed": Change,
    "visit cancel": Change,
    "visit reopen": Change,
    "slots": Slots,
    "worklist": Worklist,
    "clinic load": ClinicReport,
    "clinic show": Clinic,
    "closure add": ClinicReport,
    "closure list": list[Closure],
    "closure remove": Closure,
    "clinician add": Clinician,
    "clinician list": list[Clinician],
    "clinician edit": ClinicReport,
    "feed create": NewFeed,
    "feed list": list[Feed],
    "feed revoke": Feed,
    "notify send": SendReport,
    "notify list": list[Message],
    "publish": Published,
    "import": Imported,
    "demo": Done,
    "backup": Done,
    "db upgrade": Done,
}

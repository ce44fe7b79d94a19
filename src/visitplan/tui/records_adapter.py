"""The records layer (``visitplan.records``) as the TUI's ``ClinicData``.

Visits and patient searches reach the screens as the desk's own views; courses and
history are gathered into the cards and rows the screens show. Reads are remembered
until the data version changes, which lets a screen read its neighbours (the next
day, the next month) ahead of the keypress that shows them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from visitplan.domain.engine import Plan
from visitplan.errors import InputError, NeedsOverride
from visitplan.records.desk_base import STALE
from visitplan.tui.data import Enrolled, EnrollmentCard, ExportChoice, HistoryRow, PatientCard
from visitplan.tui.wording import (
    needs_another,
    needs_deviation,
    refusal,
    running_already,
    stale_patient,
    undo_refusal,
    with_weekdays,
)

if TYPE_CHECKING:
    from visitplan.domain.free_times import FreeTime
    from visitplan.records.clinic_ops import ClinicReport
    from visitplan.records.operations import Desk
    from visitplan.records.views import (
        EnrollmentView,
        PatientMatch,
        PatientView,
        VisitChange,
        VisitView,
    )
    from visitplan.records.worklist import WorklistHead

T = TypeVar("T")
# Enough for the days and months either side of what is on screen.
_REMEMBERED = 16
# The patient screen's latest e-mail messages (issue 15): enough to see the last
# change and its reminder, few enough for an 80x24 terminal.
MESSAGES_SHOWN = 3


def enrollment_card(view: EnrollmentView, visits: Sequence[VisitView]) -> EnrollmentCard:
    return EnrollmentCard(
        id=view.id,
        revision=view.revision,
        protocol_id=view.protocol_id,
        protocol_title=view.protocol_title,
        protocol_version=view.protocol_version,
        start=view.start,
        time=view.time,
        status=view.status,
        clinician=view.clinician,
        visits=tuple(visits),
        newer_version=view.current_version if view.newer_version_available else None,
    )


class RecordsData:
    """``ClinicData`` over a records ``Desk``; safe to call from worker threads
    (each call opens its own connection from the desk's pool)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        # Recent reads, each with the data version it was read at: a read is reused
        # only while nothing in the database has changed since (see ``version``).
        self._recent: OrderedDict[tuple[Any, ...], tuple[int, Any]] = OrderedDict()
        # Reads under way, by key and version: a second thread asking for the same
        # waits for the first instead of running the query again (the screen's first
        # load while the read-ahead is still going; a keypress while the neighbours
        # are being read). On one interpreter lock, two copies cost twice.
        self._reading: dict[tuple[Any, ...], threading.Event] = {}
        self._lock = threading.Lock()  # workers read in threads of their own
        self._ahead: tuple[dt.date, Sequence[VisitView]] | None = None

    def _remembered(self, key: tuple[Any, ...], read: Callable[[], T]) -> T:
        version = self.version()
        while True:
            with self._lock:
                found = self._recent.get(key)
                if found is not None and found[0] == version:
                    return cast(T, found[1])
                under_way = self._reading.get((*key, version))
                if under_way is None:
                    self._reading[(*key, version)] = threading.Event()
                    break
            under_way.wait()
            # Read by the other thread (or it failed, and this one tries itself).
        try:
            value = read()
            with self._lock:
                self._recent[key] = (version, value)
                while len(self._recent) > _REMEMBERED:
                    self._recent.popitem(last=False)
        finally:
            with self._lock:
                self._reading.pop((*key, version)).set()
        return value

    def read_ahead(self, day: dt.date) -> threading.Thread:
        """Start reading a day's agenda now, while the UI is still being built."""

        def read() -> None:
            visits = self.agenda(day, 1)
            with self._lock:
                self._ahead = (day, visits)

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def read_already(self, day: dt.date) -> Sequence[VisitView] | None:
        """The day's agenda from ``read_ahead``, if that read has finished (only once:
        it is as fresh as the launch, which is fresh enough for a first paint)."""
        with self._lock:
            ahead, self._ahead = self._ahead, None
        return ahead[1] if ahead is not None and ahead[0] == day else None

    def close(self) -> None:
        self.desk.close()

    def version(self) -> int:
        return self.desk.data_version()

    def agenda(
        self, first: dt.date, days: int, clinician: str | None = None, cancelled: bool = False
    ) -> Sequence[VisitView]:
        desk = self.desk
        if cancelled:
            last = first + dt.timedelta(days=days - 1)
            return self._remembered(
                ("visits", first, days, clinician),
                lambda: desk.visits(since=first, until=last, clinician=clinician),
            )
        if clinician is None:  # as the read-ahead asks, so that it is found again
            return self._remembered(("agenda", first, days), lambda: desk.agenda(first, days))
        return self._remembered(
            ("agenda", first, days, clinician), lambda: desk.agenda(first, days, clinician)
        )

    def clinicians(self) -> Sequence[str]:
        # The clinician records (issue 13), not the names typed on courses.
        return self._remembered(
            ("clinicians",),
            lambda: sorted((c.name for c in self.desk.clinicians()), key=str.casefold),
        )

    def day_counts(self, first: dt.date, last: dt.date) -> dict[dt.date, int]:
        return self._remembered(
            ("counts", first, last), lambda: self.desk.visits_per_day(first, last)
        )

    def patient_count(self) -> int:
        return self.desk.patient_count()

    def search_patients(self, text: str, limit: int) -> Sequence[PatientMatch]:
        return self.desk.find_patients(text, limit)

    def patient(self, mrn: str) -> PatientCard | None:
        if not mrn.strip():
            return None
        try:
            view = self.desk.patient(mrn)
        except InputError:
            return None
        visits: defaultdict[int, list[VisitView]] = defaultdict(list)
        for visit in self.desk.visits(mrn=mrn):
            visits[visit.enrollment_id].append(visit)
        cards = tuple(enrollment_card(e, visits[e.id]) for e in self.desk.enrollments(mrn))
        messages = tuple(self.desk.messages(mrn, MESSAGES_SHOWN))
        return PatientCard(
            view.mrn, view.name, view.phone, view.email, view.no_shows, cards, view.notify, messages
        )

    def history(self, mrn: str) -> Sequence[HistoryRow]:
        from visitplan.tui.history_words import history_row

        entries = self.desk.history(mrn)
        labels = {str(v.id): v.label for v in self.desk.visits(mrn=mrn)}
        titles = {str(e.id): f"Course {e.protocol_id}" for e in self.desk.enrollments(mrn)}
        tz = self.desk.calendar.zone
        return [history_row(entry, tz, labels, titles) for entry in entries]

    def add_patient(
        self, mrn: str, name: str, phone: str | None, email: str | None, *, dry_run: bool = False
    ) -> None:
        with _in_tui_words():
            self.desk.add_patient(mrn, name, phone, email, dry_run=dry_run)

    def preview(
        self,
        mrn: str | None,
        protocol_id: str,
        start: dt.date,
        time: dt.time,
        clinician: str | None = None,
    ) -> Plan:
        with _in_tui_words():
            return self.desk.preview_enrollment(mrn, protocol_id, start, time, clinician)

    def enroll(
        self,
        mrn: str,
        protocol_id: str,
        start: dt.date,
        time: dt.time,
        clinician: str | None,
        *,
        another: bool = False,
        dry_run: bool = False,
    ) -> Enrolled:
        try:
            detail = self.desk.enroll(
                mrn, protocol_id, start, time, clinician, another=another, dry_run=dry_run
            )
        except NeedsOverride as exc:
            if exc.override != "another":
                raise InputError(refusal(exc.message)) from None
            # The person can lift it with the form's tick, not a command-line option.
            raise NeedsOverride(
                needs_another(exc.message), override=exc.override, consequence=exc.consequence
            ) from None
        except InputError as exc:
            raise InputError(refusal(exc.message)) from None
        assert detail.plan is not None  # an enrollment keeps the plan it stored
        return Enrolled(detail.enrollment.id, detail.plan)

    def done(
        self, visit: VisitView, at: dt.datetime | None, *, dry_run: bool = False
    ) -> VisitChange:
        with _in_tui_words(visit):
            return self.desk.complete_visit(
                visit.id, at, expected_revision=visit.revision, dry_run=dry_run
            )

    def missed(self, visit: VisitView, *, dry_run: bool = False) -> VisitChange:
        with _in_tui_words(visit):
            return self.desk.miss_visit(visit.id, expected_revision=visit.revision, dry_run=dry_run)

    def move(
        self, visit: VisitView, to: dt.datetime, force: bool, *, dry_run: bool = False
    ) -> VisitChange:
        try:
            return self.desk.move_visit(
                visit.id, to, force=force, expected_revision=visit.revision, dry_run=dry_run
            )
        except InputError as refused:
            if force:
                raise InputError(refusal(refused.message, visit)) from None
            message = refused.message
        # Refused without force: if booking it as a deviation would be accepted, that
        # is what the person can do about it (the records' words name a CLI option).
        try:
            forced = self.desk.move_visit(
                visit.id, to, force=True, expected_revision=visit.revision, dry_run=True
            )
        except InputError:
            raise InputError(refusal(message, visit)) from None
        if forced.visit.deviation:
            raise InputError(needs_deviation(forced.visit.deviation))
        raise InputError(refusal(message, visit))

    def cancel(self, visit: VisitView, *, dry_run: bool = False) -> VisitChange:
        with _in_tui_words(visit):
            return self.desk.cancel_visit(
                visit.id, expected_revision=visit.revision, dry_run=dry_run
            )

    def reopen(self, visit: VisitView, *, dry_run: bool = False) -> VisitChange:
        try:
            return self.desk.reopen_visit(
                visit.id, expected_revision=visit.revision, dry_run=dry_run
            )
        except InputError as exc:
            raise InputError(undo_refusal(refusal(exc.message, visit))) from None

    def free_times(self, visit: VisitView, count: int) -> Sequence[FreeTime]:
        with _in_tui_words(visit):
            return self.desk.free_times(visit.id, count)[1]

    def worklist(self, shown: int) -> WorklistHead:
        # Not remembered by data version: a visit becomes overdue as time passes.
        return self.desk.worklist_head(shown)

    def withdraw(self, enrollment: EnrollmentCard, *, dry_run: bool = False) -> None:
        with _in_tui_words():
            self.desk.withdraw(
                enrollment.id, expected_revision=enrollment.revision, dry_run=dry_run
            )

    def reinstate(self, enrollment: EnrollmentCard, *, dry_run: bool = False) -> tuple[str, ...]:
        try:
            detail = self.desk.reinstate(
                enrollment.id, expected_revision=enrollment.revision, dry_run=dry_run
            )
        except NeedsOverride as exc:
            # No tick here: a second running course of one protocol starts from Enroll.
            raise InputError(running_already(exc.message)) from None
        except InputError as exc:
            raise InputError(refusal(exc.message)) from None
        return tuple(with_weekdays(w) for w in detail.warnings)

    def export_ics(self, mrn: str, choice: ExportChoice) -> None:
        from visitplan.atomic_files import write_atomic
        from visitplan.domain.ical import ExportOptions
        from visitplan.exporting import Scope, export_from_desk

        with _in_tui_words():
            self.desk.patient(mrn)  # an unknown MRN says so, rather than an empty calendar
            options = ExportOptions(
                audience=choice.audience, privacy=choice.privacy, alarms=choice.alarms
            )
            data = export_from_desk(self.desk, Scope(patient=mrn), options)
            write_atomic(choice.path, data)

    # -- issues 12 and 13: a patient's record corrected, closures from the month -------

    def patient_record(self, mrn: str) -> PatientView:
        """The patient as stored, notes and revision included (what an edit starts from)."""
        with _in_tui_words():
            return self.desk.patient(mrn)

    def edit_patient(
        self,
        seen: PatientView,
        name: str,
        phone: str,
        email: str,
        notes: str,
        *,
        notify: str | None = None,
        dry_run: bool = False,
    ) -> PatientView:
        """The patient's record as typed ("" clears phone or e-mail), if no one changed it
        since ``seen`` was read."""
        try:
            return self.desk.update_patient(
                seen.mrn,
                name=name,
                phone=phone,
                email=email,
                notes=notes,
                notify=notify,
                expected_revision=seen.revision,
                dry_run=dry_run,
            )
        except InputError as exc:
            if STALE in exc.message:
                raise InputError(stale_patient(seen.name)) from None
            raise InputError(refusal(exc.message)) from None

    def closed_days(self, first: dt.date, last: dt.date) -> dict[dt.date, str]:
        """Why the clinic is closed, for each closed day from ``first`` to ``last``: the
        database's calendar (closures added anywhere, holidays, days without hours)."""

        def read() -> dict[dt.date, str]:
            calendar = self.desk.calendar
            days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
            return {d: why for d in days if (why := calendar.closed_because(d)) is not None}

        return self._remembered(("closed", first, last), read)

    def leave(self, first: dt.date, last: dt.date) -> dict[dt.date, tuple[str, ...]]:
        """Who is on leave on each day from ``first`` to ``last`` ("Dr Lee: conference")."""

        def read() -> dict[dt.date, tuple[str, ...]]:
            found: defaultdict[dt.date, list[str]] = defaultdict(list)
            for closure in self.desk.closures():
                if closure.clinician is None:
                    continue
                for day in closure.days():
                    if first <= day <= last:
                        found[day].append(f"{closure.clinician}: {closure.reason}")
            return {day: tuple(names) for day, names in found.items()}

        return self._remembered(("leave", first, last), read)

    def add_closure(
        self,
        first: dt.date,
        last: dt.date,
        reason: str,
        clinician: str | None,
        *,
        rebook: bool = False,
        dry_run: bool = False,
    ) -> ClinicReport:
        """Close the clinic (or one clinician: leave) on those days; the report names the
        open visits it leaves on a closed day, and with ``rebook`` where each went."""
        with _in_tui_words():
            return self.desk.add_closure(
                first, last, reason, clinician, rebook=rebook, dry_run=dry_run
            )


@contextmanager
def _in_tui_words(visit: VisitView | None = None) -> Iterator[None]:
    """The records' refusal, reworded for the screen (see ``wording.refusal``)."""
    try:
        yield
    except InputError as exc:
        raise InputError(refusal(exc.message, visit)) from None

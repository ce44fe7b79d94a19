"""The clinic's diary: who is booked when, and where there is still room.

Pure and shared by the engine (one course against the clinic's bookings) and by the
free-times search (a person looking for a time). Times are whole microseconds since
the epoch here: the searches compare a great many of them, and integers are exact.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from visitplan.domain.clinic import ClinicCalendar
from visitplan.domain.hours import Hours

UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = dt.timedelta(microseconds=1)
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Booking:
    """Time already taken at the clinic (another patient's visit)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class FiledBooking(Booking):
    """A booking with its instants (microseconds) and local days in one zone worked
    out once: an import hands the same bookings to thousands of plans, and turning
    datetimes into instants is most of what filing one costs."""

    zone_key: str
    first: dt.date
    last: dt.date
    s: int
    e: int

    @classmethod
    def of(cls, start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> FiledBooking:
        first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        return cls(start, end, zone.key, first, last, micros(start), micros(end))


_SUBTRACT = dt.datetime.__sub__


def micros(moment: dt.datetime) -> int:
    """An aware moment as whole microseconds since the epoch."""
    # The stdlib subtraction, also for pendulum's DateTime (whose own gives a Duration).
    return _SUBTRACT(moment, _EPOCH) // _MICRO


def moment(us: int, zone: dt.tzinfo) -> dt.datetime:
    return (_EPOCH + dt.timedelta(microseconds=us)).astimezone(zone)


def local_start(calendar: ClinicCalendar, day: dt.date, time: dt.time) -> dt.datetime:
    """``time`` on ``day`` in the clinic's zone; a time skipped by DST moves forward,
    an ambiguous one (clocks going back) is the first of the two."""
    wall = dt.datetime.combine(day, time, tzinfo=calendar.zone)
    # A wall time in a DST gap does not survive a round trip through UTC; the trip
    # itself gives the forward-moved time (02:30 becomes 03:30).
    return wall.astimezone(UTC).astimezone(calendar.zone)


def after(begin: dt.datetime, duration: dt.timedelta, zone: dt.tzinfo) -> dt.datetime:
    """Elapsed time, not wall-clock time: a visit across a DST change still lasts as long."""
    return (begin.astimezone(UTC) + duration).astimezone(zone)


def nearest_first(target: dt.date, low: dt.date, high: dt.date) -> Iterator[dt.date]:
    """Every day from ``low`` to ``high``, nearest to ``target`` first; at equal
    distance the later day (healing intervals run long rather than short)."""
    one = _ONE_DAY
    if low > high:
        return
    if target < low:
        target = low
    elif target > high:
        target = high
    yield target
    later, earlier = target + one, target - one
    while later <= high or earlier >= low:
        if later <= high:
            yield later
            later += one
        if earlier >= low:
            yield earlier
            earlier -= one


class _Stretches:
    """Stretches of a day where there is no room (merged, in order), and the starts
    free of them."""

    __slots__ = ("full_ends", "full_starts")

    def __init__(self, starts: list[int], ends: list[int]) -> None:
        self.full_starts = starts
        self.full_ends = ends

    def free(self, s: int, e: int) -> bool:
        """Whether ``[s, e)`` has room for one more at every moment."""
        i = bisect_right(self.full_ends, s)
        return i == len(self.full_ends) or self.full_starts[i] >= e

    def starts_up(self, k: int, k_max: int, origin: int, step: int, d: int) -> Iterator[int]:
        """Free starts ``origin + n * step`` for n from k up to k_max, in order."""
        starts, ends = self.full_starts, self.full_ends
        while k <= k_max:
            s = origin + k * step
            i = bisect_right(ends, s)
            if i == len(ends) or starts[i] >= s + d:
                yield s
                k += 1
            else:  # blocked until that full stretch ends
                k = max(k + 1, -((origin - ends[i]) // step))
        return

    def starts_down(self, k: int, k_min: int, origin: int, step: int, d: int) -> Iterator[int]:
        """Free starts ``origin + n * step`` for n from k down to k_min, in order."""
        starts, ends = self.full_starts, self.full_ends
        while k >= k_min:
            s = origin + k * step
            i = bisect_left(starts, s + d) - 1
            if i < 0 or ends[i] <= s:
                yield s
                k -= 1
            else:  # blocked back to where that full stretch begins
                k = min(k - 1, (starts[i] - d - origin) // step)
        return

    @staticmethod
    def union(a: _Stretches, b: _Stretches) -> _Stretches:
        """No room where either has none: the clinic full, or the clinician busy."""
        spans = sorted(
            [
                *zip(a.full_starts, a.full_ends, strict=True),
                *zip(b.full_starts, b.full_ends, strict=True),
            ]
        )
        starts: list[int] = []
        ends: list[int] = []
        for s, e in spans:
            if ends and s <= ends[-1]:  # touching stretches merge too
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        return _Stretches(starts, ends)


class _Day(_Stretches):
    """One local day's bookings as a step function of how many run at once, and the
    stretches where the clinic is full (as many as its capacity), merged.

    A start ``s`` for a visit of length ``d`` has room exactly when ``[s, s + d)``
    meets no full stretch, so each question is a binary search; a booking updates
    only the stretch it covers.
    """

    __slots__ = ("capacity", "counts", "times")

    def __init__(self, capacity: int, intervals: list[tuple[int, int]]) -> None:
        super().__init__([], [])
        self.capacity = capacity
        deltas: dict[int, int] = {}
        for s, e in intervals:
            deltas[s] = deltas.get(s, 0) + 1
            deltas[e] = deltas.get(e, 0) - 1
        self.times = sorted(deltas)
        # counts[i]: bookings running from times[i] to times[i + 1] (the last is 0).
        self.counts: list[int] = []
        running = 0
        for t in self.times:
            running += deltas[t]
            self.counts.append(running)
        self._mark_full(0, len(self.times) - 1)

    def add(self, s: int, e: int) -> None:
        i = self._boundary(s)
        j = self._boundary(e)
        counts = self.counts
        for k in range(i, j):
            counts[k] += 1
        self._mark_full(i, j)

    def _boundary(self, t: int) -> int:
        times = self.times
        i = bisect_left(times, t)
        if i == len(times) or times[i] != t:
            times.insert(i, t)
            self.counts.insert(i, self.counts[i - 1] if i else 0)
        return i

    def _mark_full(self, i: int, j: int) -> None:
        """Merge the full segments among ``times[i:j]`` into the full stretches."""
        counts, times, capacity = self.counts, self.times, self.capacity
        k = i
        while k < j:
            if counts[k] < capacity:
                k += 1
                continue
            run = k
            while k < j and counts[k] >= capacity:
                k += 1
            self._merge(times[run], times[k])

    def _merge(self, s: int, e: int) -> None:
        starts, ends = self.full_starts, self.full_ends
        lo = bisect_left(ends, s)  # touching stretches merge too
        hi = bisect_right(starts, e)
        if lo < hi:
            s, e = min(s, starts[lo]), max(e, ends[hi - 1])
        starts[lo:hi] = [s]
        ends[lo:hi] = [e]


Source = Iterable[Booking] | Callable[[dt.date], Iterable[Booking]]


class Diary:
    """Bookings by local day, against the clinic's capacity.

    ``bookings`` is either every booking that matters, or a function giving the
    bookings that touch one local day (asked once per day, only for the days a
    search looks at). A booking that runs past midnight counts on each day it
    touches. A day is only indexed once it holds as many bookings as the clinic has
    room for: before that, anything fits.

    ``clinician``, when the visits have one: their capacity and their own bookings
    (in the same two forms). Their diary is kept beside the clinic's: a time fits
    when it fits both, and what is booked is booked in both.
    """

    def __init__(
        self,
        calendar: ClinicCalendar,
        bookings: Source = (),
        *,
        clinician: tuple[int, Source] | None = None,
        capacity: int | None = None,
    ) -> None:
        self.calendar = calendar
        self.capacity = calendar.clinic.capacity if capacity is None else capacity
        self._theirs: Diary | None = None
        self._tables: dict[dt.date, _Day] = {}
        self._waiting: dict[dt.date, list[tuple[int, int]]] = {}
        self._fetch: Callable[[dt.date], Iterable[Booking]] | None = None
        self._fetched: set[dt.date] = set()
        self._hours: dict[dt.date, tuple[int, int]] = {}
        if callable(bookings):
            self._fetch = bookings
        else:
            key = calendar.zone.key
            for booking in bookings:
                if type(booking) is FiledBooking and booking.zone_key == key:
                    self.add(booking.first, booking.last, booking.s, booking.e)
                else:
                    self._file(booking.start, booking.end)
        # Last: the clinic's bookings above are not the clinician's.
        if clinician is not None:
            self._theirs = Diary(calendar, clinician[1], capacity=clinician[0])

    def _file(self, start: dt.datetime, end: dt.datetime) -> None:
        self.add(self._local_day(start), self._local_day(end), micros(start), micros(end))

    def _local_day(self, moment: dt.datetime) -> dt.date:
        zone = self.calendar.zone
        # Bookings mostly come in the clinic's zone already (as pendulum's Timezone, a
        # ZoneInfo of the same key): their own date is the local one, and converting
        # a pendulum DateTime costs several times more than the rest of the filing.
        if moment.tzinfo is zone or getattr(moment.tzinfo, "key", None) == zone.key:
            return moment.date()
        return moment.astimezone(zone).date()

    def add(self, first: dt.date, last: dt.date, s: int, e: int) -> None:
        """Book ``[s, e)`` (microseconds), from local day ``first`` to ``last``."""
        if e <= s:
            return
        if self._theirs is not None:
            self._theirs.add(first, last, s, e)
        if first == last and first not in self._tables:  # the usual case, kept short
            self._waiting.setdefault(first, []).append((s, e))
            return
        day = first
        while day <= last:
            table = self._tables.get(day)
            if table is not None:
                table.add(s, e)
            else:
                self._waiting.setdefault(day, []).append((s, e))
            day += _ONE_DAY

    def fits(self, first: dt.date, last: dt.date, s: int, e: int) -> bool:
        """Room for one more from ``s`` to ``e`` at every moment."""
        if self._theirs is not None and not self._theirs.fits(first, last, s, e):
            return False
        if (
            first == last
            and self._fetch is None
            and first not in self._tables
            and len(self._waiting.get(first, ())) < self.capacity
        ):
            return True  # the usual case, kept short: fewer bookings that day than room
        day = first
        while day <= last:
            table = self._table(day)
            if table is not None and not table.free(s, e):
                return False
            day += _ONE_DAY
        return True

    def _table(self, day: dt.date, *, always: bool = False) -> _Day | None:
        """The day's index; None while it has fewer bookings than capacity."""
        table = self._tables.get(day)
        if table is not None:
            return table
        if self._fetch is not None and day not in self._fetched:
            self._fetched.add(day)
            pending = self._waiting.setdefault(day, [])
            for booking in self._fetch(day):
                # Only for this day: the next day asks for its own (the same booking
                # again, when it runs past midnight).
                if type(booking) is FiledBooking:
                    s, e = booking.s, booking.e
                else:
                    s, e = micros(booking.start), micros(booking.end)
                if s < e:
                    pending.append((s, e))
        waiting = self._waiting.get(day, ())
        if len(waiting) < self.capacity and not always:
            return None
        table = self._tables[day] = _Day(self.capacity, self._waiting.pop(day, []))
        return table

    def opening(self, day: dt.date, hours: Hours) -> tuple[int, int]:
        """The instants (microseconds) the clinic opens and closes on ``day``.

        On a day the clocks change inside opening hours the day is as long as it
        really is: 00:00-06:00 on a spring-forward night is five hours.
        """
        found = self._hours.get(day)
        if found is None:
            found = self._hours[day] = (
                micros(local_start(self.calendar, day, hours.opens)),
                micros(local_start(self.calendar, day, hours.closes)),
            )
        return found

    def free_starts(
        self,
        day: dt.date,
        hours: Hours,
        duration: dt.timedelta,
        near: int,
        *,
        not_before: int | None = None,
        offer_near: bool = False,
    ) -> Iterator[int]:
        """Free starts (microseconds) on ``day`` with the whole visit inside opening
        hours, on the clinic's slot grid (every ``slot_minutes`` from opening, in
        elapsed time), nearest to ``near`` first and the later at equal distance;
        none before ``not_before``. With ``offer_near``, ``near`` itself comes first
        when it is free and inside the hours, on the grid or not."""
        opens, closes = self.opening(day, hours)
        step = self.calendar.clinic.slot_minutes * 60_000_000
        d = duration // _MICRO
        low = opens if not_before is None else max(opens, not_before)
        k_min = -((opens - low) // step)  # the first grid start at or after ``low``
        k_max = (closes - d - opens) // step
        if k_min > k_max:
            return
        pivot = (near - opens) // step  # the last grid start at or before ``near``
        on_grid = opens + pivot * step == near
        table: _Stretches | None = self._table(day, always=True)
        assert table is not None
        if self._theirs is not None:
            busy = self._theirs._table(day, always=True)
            assert busy is not None
            table = _Stretches.union(table, busy)
        if offer_near and not on_grid and low <= near <= closes - d and table.free(near, near + d):
            yield near
        up = table.starts_up(max(k_min, pivot if on_grid else pivot + 1), k_max, opens, step, d)
        down = table.starts_down(min(k_max, pivot - 1 if on_grid else pivot), k_min, opens, step, d)
        u, w = next(up, None), next(down, None)
        while u is not None or w is not None:
            if w is None or (u is not None and u - near <= near - w):
                assert u is not None
                yield u
                u = next(up, None)
            else:
                yield w
                w = next(down, None)

"""Engine throughput, a 20,000-visit course, and `visitplan plan` start-up, run by hand:

    python benchmarks/engine_bench.py [--plans 100000] [--skip-process]

Plans the seed protocol for random start dates and random clinics (zone, open days,
holidays, closures) on one core; then plans one protocol of 100 visit definitions
repeated 200 times daily (20,000 visits) on a Monday-to-Friday clinic, chained (each
definition after the last visit of the one before: 80 years of visits) and in
parallel (all from the start: 100 visits a day against capacity); then times the
whole `visitplan plan --json` process. Wall-clock and CPU seconds are both printed:
the machine is shared, and CPU time says what the engine itself costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.domain.clinic import WEEKDAYS, Clinic, ClinicCalendar
from visitplan.domain.clinic_file import validate_clinic
from visitplan.domain.clinicians import ClinicianSpec
from visitplan.domain.engine import Booking, ClinicianBookings, plan
from visitplan.domain.free_times import free_times
from visitplan.domain.protocol import Protocol
from visitplan.domain.protocol_file import validate_protocol
from visitplan.domain.working import clinician_calendar
from visitplan.errors import InputError

ZONES = ["Asia/Seoul", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]
COUNTRIES = [None, "KR", "US", "DE", "GB", "AU"]


def random_clinic(rng: random.Random) -> Clinic:
    open_days = rng.sample(WEEKDAYS, rng.randint(3, 7))
    country = rng.choice(COUNTRIES)
    start = dt.date(2026, 1, 1)
    return validate_clinic(
        {
            "timezone": rng.choice(ZONES),
            "hours": {d: "08:00-18:00" for d in open_days},
            "holidays": {"country": country} if country else None,
            "closures": [str(start + dt.timedelta(days=rng.randint(0, 1500))) for _ in range(10)],
        },
        "clinic.toml",
    )


def big_protocol(definitions: int, count: int, *, chained: bool) -> Protocol:
    visits = [
        {
            "key": f"v{index}",
            "label": f"V{index} " + "{n} of {total}",
            "kind": "treatment",
            "duration_minutes": 30,
            "anchor": f"v{index - 1}.last" if chained and index else "start",
            "offset": {"days": 1} if index else {},
            "repeat": {"count": count, "every": {"days": 1}},
            "window": {"before": 1, "after": 1},
        }
        for index in range(definitions)
    ]
    return validate_protocol({"title": "Big", "version": "1", "visits": visits}, "big.toml")


def time_big() -> None:
    """One 20,000-visit plan per shape (best of 3), the first including unrolling."""
    calendar = ClinicCalendar(
        validate_clinic(
            {"timezone": "Asia/Seoul", "holidays": {"country": "KR"}, "capacity": 16},
            "clinic.toml",
        )
    )
    start, at = dt.date(2026, 12, 3), dt.time(10, 0)
    for chained in (True, False):
        shape = "chained" if chained else "parallel"
        protocol = big_protocol(100, 200, chained=chained)
        t0 = time.perf_counter()
        steps = len(protocol.steps)
        unrolled = time.perf_counter() - t0
        calendar.closed_because(start)  # holidays load per year on first use; not planning
        bookings: list[Booking] = []
        if not chained:
            # A busy clinic's other patients on the course's days (16 at once, 08:00-17:00).
            zone = calendar.zone
            for day in range(300):
                for n in range(60):
                    begin = dt.datetime.combine(
                        start + dt.timedelta(days=day), dt.time(9 + n % 8, 15 * (n % 4)), zone
                    )
                    bookings.append(Booking(begin, begin + dt.timedelta(minutes=30)))
        walls, cpus = [], []
        for _ in range(3):
            w0, c0 = time.perf_counter(), time.process_time()
            result = plan(protocol, calendar, start, at, bookings=bookings)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        days = len({v.start.date() for v in result.visits})
        print(
            f"20,000-visit plan, {shape}: {min(walls):.3f} s wall, {min(cpus):.3f} s CPU "
            f"(best of 3; {steps} visits on {days} days, {len(bookings)} other bookings, "
            f"{len(result.warnings)} warnings; unrolling the steps once: {unrolled:.3f} s)"
        )


def time_free_times() -> None:
    """Free times for one visit on a busy clinic (capacity 16, 08:00-18:00, every
    quarter hour taken 16 times over from 08:00 to 17:00 on weekdays: 576 bookings a
    day), as a keystroke in the move form would ask: the bookings of the 60 days
    around the visit as a list, and as a function of the day."""
    calendar = ClinicCalendar(
        validate_clinic(
            {
                "timezone": "Asia/Seoul",
                "holidays": {"country": "KR"},
                "capacity": 16,
                "hours": {d: "08:00-18:00" for d in WEEKDAYS[:5]},
            },
            "clinic.toml",
        )
    )
    zone, first = calendar.zone, dt.date(2027, 3, 1)
    by_day: dict[dt.date, list[Booking]] = {}
    for n in range(60):
        day = first + dt.timedelta(days=n)
        for q in range(36):
            begin = dt.datetime.combine(day, dt.time(8 + q // 4, 15 * (q % 4)), zone)
            end = begin + dt.timedelta(minutes=15)
            by_day.setdefault(day, []).extend([Booking(begin, end)] * 16)
    every = [b for day in sorted(by_day) for b in by_day[day]]
    target = dt.date(2027, 3, 17)
    calendar.closed_because(target)  # holidays load per year on first use
    for source, label in ((every, "a list"), (lambda day: by_day.get(day, ()), "by day")):
        for count in (1, 10):
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                found = free_times(
                    calendar,
                    source,
                    duration=dt.timedelta(minutes=45),
                    target=target,
                    time=dt.time(10, 0),
                    earliest=target - dt.timedelta(days=3),
                    latest=target + dt.timedelta(days=3),
                    not_before=dt.datetime(2027, 3, 2, 9, tzinfo=zone),
                    count=count,
                )
                times.append(time.perf_counter() - t0)
            print(
                f"free times, busy clinic, bookings as {label} ({len(every)} in all), "
                f"{count} asked: median {statistics.median(times) * 1000:.1f} ms, worst "
                f"{max(times) * 1000:.1f} ms (first found {found[0].start:%a %H:%M}, "
                f"{found[0].describe()})"
            )


def time_clinicians(seed: Protocol, courses: int = 10_000) -> None:
    """The seed protocol planned for ``courses`` patients one after another on one
    clinic (capacity 16, Korean holidays), each against every earlier course (the
    bookings by day), with and without one of 12 clinicians whose own visits count
    against their capacity (1): planning must stay as fast for the last thousand
    courses as for the first."""
    clinic = validate_clinic(
        {
            "timezone": "Asia/Seoul",
            "holidays": {"country": "KR"},
            "capacity": 16,
            "hours": {d: "09:00-18:00" for d in WEEKDAYS[:5]},
        },
        "clinic.toml",
    )
    calendar = ClinicCalendar(clinic)
    hours = ("mon-fri=09:00-18:00", "mon-fri=08:00-14:00", "mon-fri=12:00-18:00")
    people = [ClinicianSpec(name=f"Dr Bench {n}", hours=hours[n % 3]) for n in range(12)]
    theirs_calendar = [clinician_calendar(calendar, p) for p in people]
    first = dt.date(2026, 1, 5)
    for with_clinician in (False, True):
        clinic_days: dict[dt.date, list[Booking]] = {}
        their_days: list[dict[dt.date, list[Booking]]] = [{} for _ in people]
        times: list[float] = []
        warned = 0
        cpu = time.process_time()
        for n in range(courses):
            start = first + dt.timedelta(days=(n * 1460) // courses)
            at = dt.time(9 + (n * 45 % 480) // 60, (n * 45 % 480) % 60)
            who = n % len(people)
            mine = their_days[who]
            t0 = time.perf_counter()
            if with_clinician:
                result = plan(
                    seed,
                    calendar,
                    start,
                    at,
                    bookings=lambda day, c=clinic_days: c.get(day, ()),
                    clinician=ClinicianBookings(
                        people[who], theirs_calendar[who], lambda day, m=mine: m.get(day, ())
                    ),
                )
            else:
                result = plan(
                    seed, calendar, start, at, bookings=lambda d, c=clinic_days: c.get(d, ())
                )
            times.append(time.perf_counter() - t0)
            warned += bool(result.warnings)
            for v in result.visits:
                booking = Booking(v.start, v.end)
                clinic_days.setdefault(v.start.date(), []).append(booking)
                if with_clinician:
                    mine.setdefault(v.start.date(), []).append(booking)
        cpu = time.process_time() - cpu
        label = "with 12 clinicians" if with_clinician else "clinic only       "
        print(
            f"{courses} courses one after another, {label}: {courses / sum(times):,.0f} "
            f"plans/s ({courses / cpu:,.0f} per CPU second); first 1,000 "
            f"{1000 / sum(times[:1000]):,.0f}/s, last 1,000 {1000 / sum(times[-1000:]):,.0f}/s; "
            f"{warned} courses with a warning"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--clinics", type=int, default=50)
    parser.add_argument("--skip-process", action="store_true", help="skip `visitplan plan`")
    args = parser.parse_args()
    rng = random.Random(20261124)
    seed = ProtocolCatalog(protocol_dirs(env={})).get("dextrose-prolotherapy").protocol
    calendars = [ClinicCalendar(random_clinic(rng)) for _ in range(args.clinics)]
    first = dt.date(2026, 1, 1)
    jobs = [
        (
            rng.choice(calendars),
            first + dt.timedelta(days=rng.randint(0, 1460)),
            dt.time(rng.randint(8, 16), rng.choice([0, 15, 30, 45])),
        )
        for _ in range(args.plans)
    ]
    began, cpu = time.perf_counter(), time.process_time()
    visits = 0
    for calendar, start, at in jobs:
        visits += len(plan(seed, calendar, start, at).visits)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"engine: {args.plans} plans ({visits} visits) over {args.clinics} random clinics "
        f"in {elapsed:.2f} s = {args.plans / elapsed:,.0f} plans/s on one core "
        f"({args.plans / cpu:,.0f} plans per CPU second)"
    )
    time_clinicians(seed)
    try:
        time_big()
    except InputError as exc:  # a protocol now holds at most 500 visits
        print(f"20,000-visit course: skipped ({exc})")
    time_free_times()
    if args.skip_process:
        return

    command = [
        str(Path(sys.executable).with_name("visitplan")),
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2026-12-01",
        "--json",
    ]
    subprocess.run(command, check=True, capture_output=True)  # warm the OS file cache
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(
        f"`visitplan plan ... --json` as a whole process: median {statistics.median(times):.3f} s, "
        f"best {min(times):.3f} s, worst {max(times):.3f} s over {len(times)} runs"
    )


if __name__ == "__main__":
    main()

"""The .ics export of a whole clinic's year against icalendar's own floor, by hand:

    python benchmarks/export_bench.py [--patients 10000] [--rounds 3]

Builds an SQLite database of 10,000 patients on the knee course (7 visits each:
70,000 visits) through the records' own CSV import, then times, best of N rounds:

1. export: ``visitplan.exporting.export_from_desk`` (read the visits from the
   database, convert, build, serialize) and the atomic write of the file;
2. floor: icalendar's low-level API alone, ``Event()`` and ``add()`` for the same
   properties with the same values (prepared beforehand, not timed), then
   ``to_ical()`` and a plain write of the file.

Both files must be byte-identical (so the floor built the same 70,000 events).
Also times the whole `visitplan export --all -o FILE` process once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import time
from pathlib import Path
from typing import Any

from bench_setup import add_keep_option, build_database, clinic_text, visitplan, work_folder

CLINIC = clinic_text(
    timezone="America/New_York",
    capacity=60,
    hours="08:00-19:00",
    extra=['address = "12 River Rd, Hudson, NY"', 'email = "desk@bench.example"',
           'uid_domain = "bench.example"'],
)  # fmt: skip
PROTOCOL = "prolotherapy-knee-oa"
FIRST = ["Min", "Ana", "Sam", "Lee", "Kai", "Noa", "Ray", "Ivy", "Jun", "Eli"]
LAST = ["Park", "Lima", "Stone", "Reed", "Moss", "Hale", "Cole", "Fox", "Yoon", "Diaz"]


def patients(count: int) -> list[dict[str, str]]:
    rng = random.Random(4)
    return [
        {
            "mrn": f"B{i:06d}",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "protocol": PROTOCOL,
            "start": (dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 300))).isoformat(),
            "time": f"{rng.randint(8, 16):02d}:{rng.choice((0, 30)):02d}",
        }
        for i in range(count)
    ]


def our_export(url: str, clinic_file: Path, out: Path) -> tuple[float, bytes]:
    from visitplan.atomic_files import write_atomic
    from visitplan.catalog import ProtocolCatalog, load_clinic, protocol_dirs
    from visitplan.domain.ical import ExportOptions
    from visitplan.exporting import Scope, export_from_desk
    from visitplan.records.operations import open_desk

    clinic = load_clinic(clinic_file)
    with open_desk(url, clinic, ProtocolCatalog(protocol_dirs(env={})), "bench") as desk:
        began = time.perf_counter()
        data = export_from_desk(desk, Scope(), ExportOptions())
        write_atomic(out, data)
        return time.perf_counter() - began, data


def floor_inputs(url: str, clinic_file: Path) -> tuple[Any, list[dict[str, Any]], Any]:
    """Every property value of every event, computed before the clock starts."""
    from visitplan.catalog import ProtocolCatalog, load_clinic, protocol_dirs
    from visitplan.domain import ical
    from visitplan.exporting import course_titles, from_views
    from visitplan.records.operations import open_desk

    clinic = load_clinic(clinic_file)
    options = ical.ExportOptions(name=f"{clinic.name} visits")
    with open_desk(url, clinic, ProtocolCatalog(protocol_dirs(env={})), "bench") as desk:
        views = desk.visits()
        visits = sorted(
            from_views(views, clinic.timezone, course_titles(desk, views)),
            key=lambda v: (v.start, v.uid),
        )
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(clinic.timezone)
    organizer = ical._organizer(clinic)
    location = ical.clean_text(f"{clinic.name}, {clinic.address}")
    rows = [
        {
            "UID": v.uid,
            "SEQUENCE": v.sequence,
            "DTSTAMP": v.last_modified.astimezone(dt.UTC),
            "LAST-MODIFIED": v.last_modified.astimezone(dt.UTC),
            "DTSTART": v.start.astimezone(zone),
            "DTEND": v.end.astimezone(zone),
            "SUMMARY": ical._summary(v, clinic, options),
            "LOCATION": location,
            "CATEGORIES": [v.kind],
            "DESCRIPTION": ical._description(v, options),
            "STATUS": "CANCELLED" if v.cancelled else "CONFIRMED",
            "CLASS": "PRIVATE",
            "TRANSP": "OPAQUE",
            "ORGANIZER": organizer,
        }
        for v in visits
    ]
    timezone = ical._timezones(visits)
    return clinic, rows, timezone


def floor_export(
    clinic: Any, rows: list[dict[str, Any]], timezones: Any, out: Path
) -> tuple[float, bytes]:
    import icalendar

    began = time.perf_counter()
    cal = icalendar.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", "-//visitplan//visitplan treatment schedules//EN")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("NAME", f"{clinic.name} visits")
    cal.add("X-WR-CALNAME", f"{clinic.name} visits")
    for block in timezones:
        cal.add_component(block)
    for row in rows:
        event = icalendar.Event()
        for name, value in row.items():
            event.add(name, value)
        cal.add_component(event)
    data = cal.to_ical()
    out.write_bytes(data)
    return time.perf_counter() - began, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    add_keep_option(parser)
    args = parser.parse_args()
    with work_folder(args.keep) as (home, folder):
        url, clinic_file = build_database(home, CLINIC, patients(args.patients))
        clinic, rows, timezones = floor_inputs(url, clinic_file)
        ours, floor = [], []
        for _ in range(args.rounds):
            seconds, our_bytes = our_export(url, clinic_file, folder / "ours.ics")
            ours.append(seconds)
            seconds, floor_bytes = floor_export(clinic, rows, timezones, folder / "floor.ics")
            floor.append(seconds)
            if our_bytes != floor_bytes:
                raise SystemExit("the floor did not build the same file; fix the benchmark")
        events = len(rows)
        best_ours, best_floor = min(ours), min(floor)
        print(f"events: {events}, file: {len(our_bytes) / 1e6:.1f} MB (both byte-identical)")
        print(f"export from the database: {best_ours:.2f} s ({events / best_ours:,.0f} events/s)")
        print(
            f"icalendar low-level floor: {best_floor:.2f} s ({events / best_floor:,.0f} events/s)"
        )
        print(f"ratio: {best_ours / best_floor:.2f}x (target 1.3x or less)")
        began = time.perf_counter()
        command = visitplan(
            "export", "--all", "--db", url, "--clinic", str(clinic_file),
            "-o", str(folder / "cli.ics"),
        )  # fmt: skip
        subprocess.run(command, check=True)
        print(
            f"`visitplan export --all -o FILE` process, start to exit: "
            f"{time.perf_counter() - began:.2f} s"
        )


if __name__ == "__main__":
    main()

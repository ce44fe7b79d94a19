"""`visitplan plan`: a preview of a course, with nothing stored."""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import functools
import gc
from typing import TYPE_CHECKING, Any

from visitplan.cli.args import DAY_FORMS, TIME_FORMS, clinic_today, day_arg, time_arg

if TYPE_CHECKING:
    from visitplan.catalog import ProtocolFile
    from visitplan.domain.clinic import Clinic
    from visitplan.domain.engine import Plan


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "plan",
        parents=[common],
        help="preview a protocol's visits from a start date",
        description="Plan a course against the clinic calendar without storing anything.",
    )
    parser.add_argument(
        "protocol", metavar="PROTOCOL", help="protocol id (file name without .toml)"
    )
    parser.add_argument(
        "--start", type=day_arg, required=True, metavar="DATE", help=f"the first day: {DAY_FORMS}"
    )
    parser.add_argument(
        "--time",
        type=time_arg,
        default=dt.time(9, 0),
        metavar="HH:MM",
        help=f"time of every visit: {TIME_FORMS} (default 09:00)",
    )
    parser.add_argument(
        "--clinician",
        metavar="NAME",
        help="plan on this clinician's hours, one patient at a time as they see them "
        "(from the clinic file's [[clinicians]])",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument("--ics", action="store_true", help="print an iCalendar file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # A preview is a short process, and nearly all it allocates is what importing
    # pydantic and building the models makes, which lives until exit. Collecting
    # garbage meanwhile finds next to none, and the full collection at exit only
    # frees what the OS reclaims anyway: together ~25 ms of a ~200 ms `visitplan plan`.
    was_enabled = gc.isenabled()
    gc.disable()
    _skip_collection_at_exit()
    try:
        return _run(args)
    finally:
        if was_enabled:
            gc.enable()


@functools.cache
def _skip_collection_at_exit() -> None:
    atexit.register(gc.freeze)


def _run(args: argparse.Namespace) -> int:
    from visitplan.catalog import ProtocolCatalog, load_clinic, protocol_dirs
    from visitplan.domain.clinic import ClinicCalendar
    from visitplan.domain.engine import plan
    from visitplan.domain.working import with_clinician
    from visitplan.parsed_files import kept_holidays

    clinic = load_clinic(args.clinic)
    who = clinic.clinician(args.clinician) if args.clinician else None
    entry = ProtocolCatalog(protocol_dirs(args.protocols)).get(args.protocol)
    start = args.start.on(clinic_today(clinic.timezone))
    calendar = ClinicCalendar(clinic, kept_holidays)
    theirs = with_clinician(calendar, who) if who else None
    result = plan(entry.protocol, calendar, start, args.time, clinician=theirs)
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump(json_out.plan(entry, clinic, result))
    elif args.ics:
        from visitplan.cli.exporting import preview_ics

        preview_ics(entry, clinic, result)
    else:
        print(plan_table(entry, clinic, result, who.name if who else None))
    return 0


def plan_table(
    entry: ProtocolFile, clinic: Clinic, result: Plan, clinician: str | None = None
) -> str:
    rows = [("VISIT", "DATE", "TIME", "WINDOW", "NOTE")]
    for v in result.visits:
        note = ("moved: " + (v.reason or "")) if v.shifted else (v.reason or "")
        if v.warnings:
            note = ("WARNING " + note).strip()
        rows.append(
            (
                v.label,
                f"{v.start:%a %Y-%m-%d}",
                f"{v.start:%H:%M}",
                f"{v.earliest:%m-%d}..{v.latest:%m-%d}",
                note,
            )
        )
    from visitplan.cli.tables import Column, fit_lines, render

    columns = [
        Column("VISIT", gives=True),
        Column("DATE", keep=True),
        Column("TIME", keep=True),
        Column("WINDOW", keep=True),
        Column("NOTE", gives=True),
    ]
    heading = (
        f"{entry.protocol.title} (v{entry.protocol.version}) at {clinic.name}, {clinic.timezone}"
    )
    if clinician:
        heading += f", with {clinician}"
    lines = [fit_lines(heading), render(columns, rows[1:])]
    lines += [fit_lines(f"! {w}") for w in result.warnings]
    return "\n".join(lines)

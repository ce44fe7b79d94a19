"""`visitplan export` and the `visitplan plan --ics` preview."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from visitplan.cli.args import date_arg

if TYPE_CHECKING:
    from visitplan.catalog import ProtocolFile
    from visitplan.domain.clinic import Clinic
    from visitplan.domain.engine import Plan


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=[common],
        help="write stored visits as an iCalendar (.ics) file",
        description="Export visits for calendar programs. Cancelled visits stay in the file "
        "(marked CANCELLED) so that calendars which imported them remove them.",
    )
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--patient", metavar="MRN", help="one patient's visits")
    scope.add_argument("--enrollment", metavar="ID", help="one course's visits")
    scope.add_argument("--all", action="store_true", help="every patient's visits")
    parser.add_argument(
        "--from",
        dest="first",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="only visits on or after this local date",
    )
    parser.add_argument(
        "--to",
        dest="last",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="only visits on or before this local date",
    )
    parser.add_argument(
        "--audience",
        choices=("staff", "patient"),
        default="staff",
        help="staff: notes and assessments; patient: what the patient "
        "should know, with reminders (default staff)",
    )
    parser.add_argument(
        "--privacy",
        choices=("full", "initials", "none"),
        default="initials",
        help="how patients appear in staff calendars (default initials with the MRN)",
    )
    parser.add_argument(
        "--no-alarms",
        dest="alarms",
        action="store_false",
        help="no reminders in a patient calendar",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here (atomically) instead of standard output"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args
    from visitplan.domain.ical import ExportOptions
    from visitplan.errors import InputError
    from visitplan.exporting import Scope, export_from_desk, write_output

    if args.first and args.last and args.last < args.first:
        raise InputError(f"--to {args.last} is before --from {args.first}")
    if args.audience == "patient" and args.all:
        raise InputError(
            "--audience patient holds one patient's visits; use --patient MRN "
            "or --enrollment ID instead of --all"
        )
    scope = Scope(
        patient=args.patient, enrollment=args.enrollment, first=args.first, last=args.last
    )
    options = ExportOptions(audience=args.audience, privacy=args.privacy, alarms=args.alarms)
    with desk_from_args(args) as desk:
        data = export_from_desk(desk, scope, options)
    write_output(data, args.output)
    return 0


def preview_ics(entry: ProtocolFile, clinic: Clinic, result: Plan) -> None:
    """Print a planned course as a staff calendar; nothing is read from or written to a database."""
    from visitplan.domain.ical import ExportOptions, build_calendar, calendar_bytes, from_plan

    visits = from_plan(
        result.visits, protocol_id=entry.id, course=entry.protocol.title, zone=clinic.timezone
    )
    options = ExportOptions(name=f"{clinic.name}: {entry.protocol.title} (preview)")
    data = calendar_bytes(build_calendar(visits, clinic, options))
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()

"""`visitplan agenda`: the clinic's visits for a day or a range."""

from __future__ import annotations

import argparse
from typing import Any

from visitplan.cli.args import DAY_FORMS, bounded_int, day_arg
from visitplan.domain.limits import MAX_AGENDA_DAYS


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "agenda", parents=[common], help="the clinic's visits for a day or a range"
    )
    parser.add_argument(
        "--date", type=day_arg, metavar="DATE", help=f"the first day (default today): {DAY_FORMS}"
    )
    parser.add_argument(
        "--days",
        type=bounded_int(1, MAX_AGENDA_DAYS, "a number of days"),
        default=1,
        metavar="N",
        help=f"how many days from --date (default 1, at most {MAX_AGENDA_DAYS})",
    )
    parser.add_argument("--clinician", metavar="NAME", help="only this clinician's visits")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from visitplan.records.presenting import desk_from_args, dump, visit_document, visit_table

    with desk_from_args(args) as desk:
        today = desk.now().date()
        day = args.date.on(today) if args.date else today
        visits = desk.agenda(day, args.days, args.clinician)
    if args.json:
        dump([visit_document(v) for v in visits])
    else:
        print(visit_table(visits, with_patient=True))
    return 0

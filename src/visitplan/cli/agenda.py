"""`visitplan agenda`: the clinic's visits for a day or a range."""

from __future__ import annotations

import argparse
from typing import Any

from visitplan.cli.args import date_arg, positive_int


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "agenda", parents=[common], help="the clinic's visits for a day or a range"
    )
    parser.add_argument("--date", type=date_arg, metavar="YYYY-MM-DD", help="default: today")
    parser.add_argument("--days", type=positive_int, default=1, metavar="N")
    parser.add_argument("--clinician", metavar="NAME", help="only this clinician's visits")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from visitplan.records.presenting import desk_from_args, dump, visit_document, visit_table

    with desk_from_args(args) as desk:
        day = args.date or desk.now().date()
        visits = desk.agenda(day, args.days, args.clinician)
    if args.json:
        dump([visit_document(v) for v in visits])
    else:
        print(visit_table(visits, with_patient=True))
    return 0

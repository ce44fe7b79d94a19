"""`visitplan agenda`: the clinic's visits for a day or a range."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from visitplan.cli.args import DAY_FORMS, bounded_int, day_arg
from visitplan.domain.limits import MAX_AGENDA_DAYS

if TYPE_CHECKING:
    from visitplan.records.views import VisitView


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
    parser.add_argument(
        "--names", action="store_true", help="patients by full name (default: initials and MRN)"
    )
    parser.add_argument(
        "--wide",
        action="store_true",
        help="add each visit's key, target, revision and UID (lines then as long as they are)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from visitplan.cli.common import dump

    if args.json and args.clinician is None:
        from visitplan.cli import quick

        document = quick.agenda(args)
        if document is not None:
            dump(document)
            return 0
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        today = desk.now().date()
        day = args.date.on(today) if args.date else today
        visits = desk.agenda(day, args.days, args.clinician)
        clinician = desk.state.clinician(args.clinician).name if args.clinician else None
    if args.json:
        dump(json_out.visits(visits))
    else:
        print(agenda_text(visits, day, args.days, clinician, names=args.names, wide=args.wide))
    return 0


def agenda_text(
    visits: Sequence[VisitView],
    day: dt.date,
    days: int,
    clinician: str | None,
    *,
    names: bool,
    wide: bool,
) -> str:
    """Each day's visits under a heading of its own; a day without any is left out,
    and an agenda without any says so."""
    from visitplan.cli.tables import agenda_sections, counted

    whose = f" for {clinician}" if clinician else ""
    if not visits:
        last = day + dt.timedelta(days=days - 1)
        when = (
            f"on {day:%a %Y-%m-%d}"
            if days == 1
            else f"from {day:%a %Y-%m-%d} to {last:%a %Y-%m-%d}"
        )
        return f"No visits{whose} {when}."
    sections = []
    for date, group in itertools.groupby(visits, key=lambda v: v.start.date()):
        shown = list(group)
        sections.append((f"{date:%a %Y-%m-%d}{whose}: {counted(len(shown), 'visit')}", shown))
    return agenda_sections(sections, names=names, wide=wide)

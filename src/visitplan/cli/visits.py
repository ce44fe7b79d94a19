"""`visitplan visits MRN` and `visitplan visit done|move|missed|cancel ID`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from visitplan.cli.args import (
    MOMENT_FORMS,
    Moment,
    add_change_options,
    bounded_int,
    moment_arg,
    positive_int,
)

if TYPE_CHECKING:
    from visitplan.records.views import EnrollmentView, VisitView

FIRST = "first"  # the records' FIRST_FREE, without importing them to parse a line


def _move_target(text: str) -> Moment | str:
    return FIRST if text.strip().lower() == FIRST else moment_arg(text)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    listing = subparsers.add_parser(
        "visits", parents=[common], help="every visit of a patient, in time order"
    )
    listing.add_argument("mrn", metavar="MRN")
    listing.add_argument(
        "--wide",
        action="store_true",
        help="add each visit's key, revision and UID (lines then as long as they are)",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(run=run_list)

    parser = subparsers.add_parser("visit", help="mark a visit done, missed, moved or cancelled")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    done = actions.add_parser("done", parents=[common], help="the visit took place")
    done.add_argument(
        "--at",
        type=moment_arg,
        metavar="WHEN",
        help="when it happened (default: as booked, if that time has passed; needed once "
        f"the window ended more than a day ago): {MOMENT_FORMS}",
    )
    move = actions.add_parser("move", parents=[common], help="book the visit at another time")
    move.add_argument(
        "--to",
        type=_move_target,
        metavar="WHEN",
        help=f"the new time: {MOMENT_FORMS}; or 'first', the first free time (as "
        "`visitplan slots` lists them); default with --clinician: where it is",
    )
    move.add_argument("--clinician", metavar="NAME", help="hand the visit to another clinician")
    move.add_argument(
        "--force",
        action="store_true",
        help="book it even outside its window or on a closed day (recorded as a deviation)",
    )
    missed = actions.add_parser(
        "missed", parents=[common], help="a no-show (once the visit's time has passed)"
    )
    cancel = actions.add_parser("cancel", parents=[common], help="the visit will not happen")
    slots = subparsers.add_parser(
        "slots",
        parents=[common],
        help="the nearest free times for a visit: in its window first, then outside",
    )
    slots.add_argument("id", type=positive_int, metavar="ID")
    slots.add_argument(
        "--count", type=bounded_int(1, 100, "a number of times"), default=5, metavar="N"
    )
    slots.add_argument("--json", action="store_true", help="print one JSON object")
    slots.set_defaults(run=run_slots)
    reopen = actions.add_parser(
        "reopen",
        parents=[common],
        help="undo a wrong done, no-show or cancel: the visit is owed again",
    )
    for action, handler in (
        (done, run_done),
        (move, run_move),
        (missed, run_missed),
        (cancel, run_cancel),
        (reopen, run_reopen),
    ):
        add_change_options(action, "visit")
        action.set_defaults(run=handler)


def run_list(args: argparse.Namespace) -> int:
    from visitplan.cli.common import dump

    if args.json:
        from visitplan.cli import quick

        document = quick.visits(args)
        if document is not None:
            dump(document)
            return 0
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        visits = desk.visits(mrn=args.mrn)
        courses = [] if args.json else desk.enrollments(args.mrn)
    if args.json:
        dump(json_out.visits(visits))
        return 0
    print(courses_text(args.mrn, courses, visits, wide=args.wide))
    return 0


def courses_text(
    mrn: str, courses: Sequence[EnrollmentView], visits: Sequence[VisitView], *, wide: bool
) -> str:
    """A patient's visits course by course, each under a heading naming the course."""
    from visitplan.cli.tables import course_visit_sections

    if not visits:
        return f"No visits for patient {mrn}."
    sections = []
    for course in courses:
        own = [v for v in visits if v.enrollment_id == course.id]
        if not own:
            continue
        who = f", {course.clinician}" if course.clinician else ""
        heading = (
            f"course {course.id}: {course.protocol_title} v{course.protocol_version}, "
            f"from {course.start:%a %Y-%m-%d}{who}, {course.status}"
        )
        sections.append((heading, own))
    return course_visit_sections(sections, wide=wide)


def run_done(args: argparse.Namespace) -> int:
    return _change(
        args,
        lambda desk: desk.complete_visit(
            args.id, args.at.on(desk.now().date()) if args.at else None, args.if_revision
        ),
    )


def run_move(args: argparse.Namespace) -> int:
    if args.to is None and args.clinician is None:
        from visitplan.errors import InputError

        raise InputError("visit move: say where to (--to) or to whom (--clinician)")
    return _change(
        args,
        lambda desk: desk.move_visit(
            args.id,
            args.to if args.to in (None, FIRST) else args.to.on(desk.now().date()),
            force=args.force,
            expected_revision=args.if_revision,
            clinician=args.clinician,
        ),
    )


def run_slots(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import fit_lines, patient_words

    with desk_from_args(args) as desk:
        visit, times = desk.free_times(args.id, args.count)
    if args.json:
        dump(json_out.slots(visit, times))
        return 0
    print(
        fit_lines(
            f"visit {visit.id}: {visit.label} for {patient_words(visit)}, now "
            f"{visit.start:%a %Y-%m-%d %H:%M}; window {visit.earliest:%a %Y-%m-%d} to "
            f"{visit.latest:%a %Y-%m-%d}"
        )
    )
    if not times:
        print("No free time within a year of its target.")
    for t in times:
        print(fit_lines(f"  {t.start:%a %Y-%m-%d %H:%M}-{t.end:%H:%M}  {t.describe()}"))
    return 0


def run_missed(args: argparse.Namespace) -> int:
    return _change(args, lambda desk: desk.miss_visit(args.id, args.if_revision))


def run_cancel(args: argparse.Namespace) -> int:
    return _change(args, lambda desk: desk.cancel_visit(args.id, args.if_revision))


def run_reopen(args: argparse.Namespace) -> int:
    return _change(args, lambda desk: desk.reopen_visit(args.id, args.if_revision))


def _change(args: argparse.Namespace, action: Any) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import change_lines

    with desk_from_args(args) as desk:
        change = action(desk)
    if args.json:
        dump(json_out.change(change))
    else:
        print(change_lines(change))
    return 0

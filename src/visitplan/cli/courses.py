"""`visitplan enroll` and `visitplan enrollment show|withdraw`."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from visitplan.cli.args import DAY_FORMS, TIME_FORMS, add_change_options, day_arg, id_arg, time_arg


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    enroll = subparsers.add_parser(
        "enroll",
        parents=[common],
        help="start a patient on a protocol and keep the planned visits",
        description="Plan the course against the clinic calendar and the visits already "
        "booked, and store it.",
    )
    enroll.add_argument("mrn", metavar="MRN")
    enroll.add_argument("protocol", metavar="PROTOCOL", help="protocol id")
    enroll.add_argument(
        "--start", type=day_arg, required=True, metavar="DATE", help=f"the first day: {DAY_FORMS}"
    )
    enroll.add_argument(
        "--time",
        type=time_arg,
        default=dt.time(9, 0),
        metavar="HH:MM",
        help=f"time of the visits: {TIME_FORMS} (default 09:00)",
    )
    enroll.add_argument("--clinician", metavar="NAME", help="the staff member who treats")
    enroll.add_argument(
        "--another",
        action="store_true",
        help="start it even though the patient has a running course of this protocol",
    )
    enroll.add_argument(
        "--done-through",
        type=day_arg,
        metavar="DATE",
        help="a course already under way: record every visit planned up to this day as "
        "done at its planned time",
    )
    enroll.add_argument("--json", action="store_true", help="print one JSON object")
    enroll.set_defaults(run=run_enroll)

    parser = subparsers.add_parser("enrollment", help="show or withdraw a course")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", parents=[common], help="a course and its visits")
    show.add_argument("id", type=id_arg, metavar="ID")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(run=run_show)
    withdraw = actions.add_parser(
        "withdraw", parents=[common], help="end a course; its open visits are cancelled"
    )
    add_change_options(withdraw, "course")
    withdraw.set_defaults(run=run_withdraw)
    reinstate = actions.add_parser(
        "reinstate",
        parents=[common],
        help="undo a withdrawal: the visits it cancelled are owed again",
    )
    add_change_options(reinstate, "course")
    reinstate.add_argument(
        "--another",
        action="store_true",
        help="even though the patient has started another course of this protocol since",
    )
    reinstate.set_defaults(run=run_reinstate)


def run_enroll(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        today = desk.now().date()
        detail = desk.enroll(
            args.mrn,
            args.protocol,
            args.start.on(today),
            args.time,
            args.clinician,
            another=args.another,
            done_through=args.done_through.on(today) if args.done_through else None,
        )
    _print_detail(detail, args.json)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        detail = desk.enrollment_detail(args.id)
    _print_detail(detail, args.json)
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        detail = desk.withdraw(args.id, args.if_revision)
    _print_detail(detail, args.json)
    return 0


def run_reinstate(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        detail = desk.reinstate(args.id, args.if_revision, another=args.another)
    _print_detail(detail, args.json)
    return 0


def _print_detail(detail: Any, as_json: bool) -> None:
    from visitplan.cli import json_out
    from visitplan.cli.common import dump
    from visitplan.cli.tables import course_visit_table, fit_lines, placement_lines

    e = detail.enrollment
    if as_json:
        dump(json_out.course_detail(detail))
        return
    print(
        fit_lines(
            f"course {e.id}: {e.mrn} in {e.protocol_title} v{e.protocol_version} "
            f"from {e.start} at {e.time:%H:%M}, {e.status}"
        )
    )
    print(course_visit_table(detail.visits))
    for line in placement_lines(detail.visits):
        print(line)
    for warning in detail.warnings:
        print(fit_lines(f"! {warning}"))

"""`visitplan clinic load|show`, `visitplan closure add|list|remove` and
`visitplan clinician add|list|edit`: the clinic every workstation shares."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visitplan.cli.args import DAY_FORMS, day_arg, positive_int

if TYPE_CHECKING:
    from visitplan.records.clinic_ops import ClinicReport
    from visitplan.records.clinic_settings import ClinicianRecord


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    clinic = subparsers.add_parser(
        "clinic", help="the clinic's settings, shared by every workstation"
    )
    actions = clinic.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser(
        "load",
        parents=[common],
        help="make a clinic file the database's clinic (reports the visits it affects)",
    )
    load.add_argument("file", metavar="FILE", type=Path)
    _rebook_option(load)
    load.add_argument("--json", action="store_true", help="print one JSON object")
    load.set_defaults(run=run_load)
    show = actions.add_parser("show", parents=[common], help="the database's clinic")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(run=run_show)

    closure = subparsers.add_parser("closure", help="days the clinic or a clinician is closed")
    actions = closure.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=[common], help="close a day, or several")
    add.add_argument(
        "first", metavar="DATE", type=day_arg, help=f"the first day closed: {DAY_FORMS}"
    )
    add.add_argument("--to", type=day_arg, metavar="DATE", help="the last day closed")
    add.add_argument("--reason", default="clinic closed", help="what staff and calendars read")
    add.add_argument("--clinician", metavar="NAME", help="one clinician's leave, not the clinic's")
    _rebook_option(add)
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(run=run_closure_add)
    listing = actions.add_parser("list", parents=[common], help="every closure")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(run=run_closure_list)
    remove = actions.add_parser("remove", parents=[common], help="open the days again")
    remove.add_argument("id", type=positive_int, metavar="ID")
    remove.add_argument("--json", action="store_true", help="print one JSON object")
    remove.set_defaults(run=run_closure_remove)

    clinician = subparsers.add_parser("clinician", help="the people who treat")
    actions = clinician.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = actions.add_parser("add", parents=[common], help="a clinician visits can be booked with")
    new.add_argument("name", metavar="NAME")
    _clinician_options(new)
    new.add_argument("--json", action="store_true", help="print one JSON object")
    new.set_defaults(run=run_clinician_add)
    people = actions.add_parser("list", parents=[common], help="every clinician")
    people.add_argument("--json", action="store_true", help="print a JSON list")
    people.set_defaults(run=run_clinician_list)
    edit = actions.add_parser("edit", parents=[common], help="change a clinician")
    edit.add_argument("name", metavar="NAME")
    edit.add_argument("--rename", metavar="NEW", help="a new name")
    _clinician_options(edit)
    edit.add_argument(
        "--clinic-hours", action="store_true", help="work the clinic's opening hours again"
    )
    edit.add_argument(
        "--if-revision", type=positive_int, metavar="N", help="refuse if changed since revision N"
    )
    edit.add_argument("--json", action="store_true", help="print one JSON object")
    edit.set_defaults(run=run_clinician_edit)


def _rebook_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rebook",
        action="store_true",
        help="book the affected visits again by the engine's rules (with their cascades); "
        "without it they go on the worklist",
    )


def _clinician_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hours",
        metavar="SPEC",
        help='working hours like "mon-fri=09:00-13:00,sat=09:00-12:00" '
        "(default: the clinic's opening hours)",
    )
    parser.add_argument(
        "--capacity", type=positive_int, metavar="N", help="patients seen at once (default 1)"
    )


def run_load(args: argparse.Namespace) -> int:
    from visitplan.cli.common import catalog_from_args
    from visitplan.domain.clinic import parse_clinic
    from visitplan.errors import InputError
    from visitplan.records.operations import open_desk

    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the clinic file: {exc}") from None
    clinic = parse_clinic(text, str(path))
    # The file being loaded is this workstation's clinic from now on; it is the way
    # out of a disagreement, so it is not refused for one.
    with open_desk(
        args.db,
        clinic,
        catalog_from_args(args),
        args.user,
        clinic_source=path.name,
        check_clinic=False,
    ) as desk:
        report = desk.load_clinic(clinic, str(path), rebook=args.rebook)
        zone = desk.calendar.tz
    _print_report(report, args.json, zone)
    return 0


def run_show(args: argparse.Namespace) -> int:
    import json

    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.domain.clinic import clinic_json

    with desk_from_args(args) as desk:
        state = desk.state
        settings = json.loads(clinic_json(state.settings))
        zone = desk.calendar.tz
    if args.json:
        dump(json_out.clinic(state.version, state.loaded_at, state.loaded_by, settings, zone))
        return 0
    stored = (
        f"version {state.version}" if state.version else "not stored yet (the first change will)"
    )
    print(f"{settings['name']} ({settings['timezone']}), {stored}")
    for key, value in settings.items():
        if key not in ("name", "timezone"):
            print(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    return 0


def run_closure_add(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        today = desk.now().date()
        report = desk.add_closure(
            args.first.on(today),
            args.to.on(today) if args.to else None,
            args.reason,
            args.clinician,
            rebook=args.rebook,
        )
        zone = desk.calendar.tz
    _print_report(report, args.json, zone)
    return 0


def run_closure_list(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import table

    with desk_from_args(args) as desk:
        closures = desk.closures()
        zone = desk.calendar.tz
    if args.json:
        dump([json_out.closure(c, zone) for c in closures])
        return 0
    if not closures:
        print("No closures added (holidays and the clinic file's closures apply as always).")
        return 0
    rows = [["ID", "FROM", "TO", "WHO", "REASON"]]
    rows += [
        [
            str(c.id),
            f"{c.first_day:%a %Y-%m-%d}",
            f"{c.last_day:%a %Y-%m-%d}",
            c.clinician or "the clinic",
            c.reason,
        ]
        for c in closures
    ]
    print(table(rows, keep=(0, 1, 2)))
    return 0


def run_closure_remove(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump

    with desk_from_args(args) as desk:
        removed = desk.remove_closure(args.id)
        zone = desk.calendar.tz
    if args.json:
        dump(json_out.closure(removed, zone))
        return 0
    print(
        f"closure {removed.id} removed: {removed.first_day:%a %Y-%m-%d} to "
        f"{removed.last_day:%a %Y-%m-%d} are open again (visits moved off them stay)"
    )
    return 0


def run_clinician_add(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump

    with desk_from_args(args) as desk:
        added = desk.add_clinician(args.name, args.hours, args.capacity or 1)
    if args.json:
        dump(json_out.clinician(added))
    else:
        print(f"clinician {added.name} added ({_hours(added)}, capacity {added.spec.capacity})")
    return 0


def run_clinician_list(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import table

    with desk_from_args(args) as desk:
        people = desk.clinicians()
    if args.json:
        dump([json_out.clinician(p) for p in people])
        return 0
    if not people:
        print("No clinicians yet: `visitplan clinician add NAME` adds one.")
        return 0
    rows = [["NAME", "CAPACITY", "HOURS"]]
    rows += [[p.name, str(p.spec.capacity), _hours(p)] for p in people]
    print(table(rows, keep=(1,)))
    return 0


def run_clinician_edit(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args
    from visitplan.errors import InputError
    from visitplan.records.clinic_ops import UNCHANGED

    if args.clinic_hours and args.hours:
        raise InputError("clinician edit: give --hours or --clinic-hours, not both")
    hours = None if args.clinic_hours else args.hours if args.hours is not None else UNCHANGED
    with desk_from_args(args) as desk:
        report = desk.edit_clinician(
            args.name,
            rename=args.rename,
            hours=hours,
            capacity=args.capacity,
            expected_revision=args.if_revision,
        )
        zone = desk.calendar.tz
    _print_report(report, args.json, zone)
    return 0


def _hours(record: ClinicianRecord) -> str:
    return record.spec.hours or "the clinic's hours"


def _print_report(report: ClinicReport, as_json: bool, zone: dt.tzinfo) -> None:
    from visitplan.cli import json_out
    from visitplan.cli.common import dump
    from visitplan.cli.tables import fit_lines, patient_words

    if as_json:
        dump(json_out.clinic_report(report, zone))
        return
    print(report.what)
    if not report.affected:
        print("No open visit is affected.")
        return
    print(f"{len(report.affected)} open visit{'s' if len(report.affected) != 1 else ''} affected:")
    for a in report.affected:
        v = a.visit
        print(fit_lines(f"  visit {v.id}: {v.label} for {patient_words(v)}: {a.problem}"))
    if report.moved:
        print("Booked again:")
        for v in report.moved:
            print(
                fit_lines(
                    f"  visit {v.id}: {v.label} for {patient_words(v)} "
                    f"to {v.start:%a %Y-%m-%d %H:%M}"
                )
            )
            if v.reason:
                print(fit_lines(f"    why: {v.reason}"))
        for a in report.still:
            print(fit_lines(f"! visit {a.visit.id} could not be booked better: {a.problem}"))
    else:
        print("They stay as booked and are on the worklist; --rebook books them again.")

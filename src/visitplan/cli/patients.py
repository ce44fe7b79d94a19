"""`visitplan patient add|list|show` and `visitplan history MRN`."""

from __future__ import annotations

import argparse
from typing import Any

from visitplan.cli.args import positive_int


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("patient", help="add, list and show patients")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=[common], help="register a patient")
    add.add_argument("mrn", metavar="MRN", help="the clinic's identifier for the patient")
    add.add_argument("--name", required=True)
    add.add_argument("--phone")
    add.add_argument("--email")
    add.add_argument(
        "--notify",
        choices=("email", "none"),
        default="none",
        help="email: the patient agreed to invitations and reminders by e-mail (default none)",
    )
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(run=run_add)
    edit = actions.add_parser(
        "edit", parents=[common], help="correct a patient's name, phone, e-mail or notes"
    )
    edit.add_argument("mrn", metavar="MRN")
    edit.add_argument("--name")
    edit.add_argument("--phone", help="the new phone number ('' removes it)")
    edit.add_argument("--email", help="the new e-mail address ('' removes it)")
    edit.add_argument("--notes", help="the new notes (replacing the old ones)")
    edit.add_argument(
        "--notify",
        choices=("email", "none"),
        help="email: the patient agreed to invitations and reminders; none: they withdrew it",
    )
    edit.add_argument(
        "--if-revision",
        type=positive_int,
        metavar="N",
        help="refuse if the patient changed since revision N was read",
    )
    edit.add_argument("--json", action="store_true", help="print one JSON object")
    edit.set_defaults(run=run_edit)
    listing = actions.add_parser("list", parents=[common], help="every patient, by MRN")
    listing.add_argument("--search", metavar="TEXT", help="part of an MRN or a name")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", parents=[common], help="a patient and their courses")
    show.add_argument("mrn", metavar="MRN")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(run=run_show)

    history = subparsers.add_parser(
        "history", parents=[common], help="the audit trail of a patient's records"
    )
    history.add_argument("mrn", metavar="MRN")
    history.add_argument("--json", action="store_true", help="print a JSON list")
    history.set_defaults(run=run_history)


def run_add(args: argparse.Namespace) -> int:
    import sys

    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump

    with desk_from_args(args) as desk:
        patient = desk.add_patient(args.mrn, args.name, args.phone, args.email, notify=args.notify)
        no_sender = not desk.clinic.email
        zone = desk.calendar.tz
    if args.json:
        dump(json_out.patient(patient, [], zone))
    else:
        print(f"patient {patient.mrn} added")
    if patient.notify == "email" and no_sender:
        print("! the clinic has no email: nothing is sent until it has one", file=sys.stderr)
    return 0


def run_edit(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.errors import InputError

    changes = {k: getattr(args, k) for k in ("name", "phone", "email", "notes", "notify")}
    if all(v is None for v in changes.values()):
        raise InputError(
            "patient edit: say what to change (--name, --phone, --email, --notes, --notify)"
        )
    with desk_from_args(args) as desk:
        before = desk.patient(args.mrn)
        patient = desk.update_patient(args.mrn, **changes, expected_revision=args.if_revision)
        courses = desk.enrollments(patient.mrn) if args.json else []
        zone = desk.calendar.tz
    if args.json:
        dump(json_out.patient(patient, courses, zone))
    elif patient.revision == before.revision:
        print(f"patient {patient.mrn}: nothing to change")
    else:
        print(f"patient {patient.mrn} changed (revision {patient.revision})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import table

    with desk_from_args(args) as desk:
        patients = desk.patients(args.search)
        courses = desk.enrollments() if args.json else []
        zone = desk.calendar.tz
    if args.json:
        dump(json_out.patients(patients, courses, zone))
        return 0
    if not patients:
        print(f"No patients match {args.search!r}." if args.search else "No patients yet.")
        return 0
    rows = [["MRN", "COURSES", "NO-SHOWS", "NAME"]]
    rows += [[p.mrn, str(p.enrollments), str(p.no_shows), p.name] for p in patients]
    print(table(rows, keep=(1, 2)))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from visitplan.cli.common import dump

    if args.json:
        from visitplan.cli import quick

        document = quick.patient(args)
        if document is not None:
            dump(document)
            return 0
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args
    from visitplan.cli.tables import fit_lines

    with desk_from_args(args) as desk:
        patient = desk.patient(args.mrn)
        courses = desk.enrollments(args.mrn)
        zone = desk.calendar.tz
    if args.json:
        dump(json_out.patient(patient, courses, zone))
        return 0
    print(fit_lines(f"{patient.mrn}  {patient.name}"))
    for label, value in (("phone", patient.phone), ("e-mail", patient.email)):
        if value:
            print(fit_lines(f"  {label}: {value}"))
    consent = "invitations and reminders" if patient.notify == "email" else "none"
    print(f"  e-mail messages: {consent}")
    print(f"  no-shows: {patient.no_shows}")
    for e in courses:
        newer = f" (version {e.current_version} now exists)" if e.newer_version_available else ""
        who = f", {e.clinician}" if e.clinician else ""
        print(
            fit_lines(
                f"  course {e.id}: {e.protocol_title} v{e.protocol_version}{newer}, "
                f"from {e.start} at {e.time:%H:%M}{who}, {e.status}"
            )
        )
    return 0


def run_history(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import table

    with desk_from_args(args) as desk:
        entries = desk.history(args.mrn)
        courses = desk.enrollments(args.mrn) if args.json else []
        clinicians = {c.id: c.name for c in desk.clinicians()} if args.json else {}
        zone = desk.calendar.tz
    if args.json:
        protocols = {str(e.id): json_out.course(e)["protocol"] for e in courses}
        dump([json_out.history_entry(h, zone, protocols, clinicians) for h in entries])
        return 0
    rows = [["WHEN", "WHO", "WHAT", "CHANGE"]]
    for h in entries:
        when = h.at.astimezone(zone)
        what = f"{h.action} {h.entity} {h.entity_id}"
        rows.append([f"{when:%Y-%m-%d %H:%M:%S}", h.who, what, _change(h.before, h.after)])
    if len(rows) == 1:
        print(f"No history for patient {args.mrn}.")
        return 0
    print(table(rows, keep=(0,)))
    return 0


def _change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if before is None:
        return ", ".join(f"{k}={v}" for k, v in (after or {}).items())
    return ", ".join(f"{k}: {before.get(k)} -> {v}" for k, v in (after or {}).items())

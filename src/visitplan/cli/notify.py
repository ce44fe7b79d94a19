"""`visitplan notify send|list|preview`: the e-mail owed to consenting patients."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from visitplan.cli.args import positive_int

if TYPE_CHECKING:
    from visitplan.records.messages import Letter, Refusal, Skip

STATUSES = ("pending", "sending", "sent", "failed", "superseded", "skipped")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "notify", help="send, list and preview the e-mail owed to patients"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    send = actions.add_parser(
        "send",
        parents=[common],
        help="send what is due through SMTP ($VISITPLAN_SMTP_URL)",
        description="Send the invitations, cancellations and reminders that are due, through "
        "the mail server in VISITPLAN_SMTP_URL (smtp://user@host:587 with STARTTLS, or "
        "smtps://user@host). The password comes from VISITPLAN_SMTP_PASSWORD or a file. "
        "A server that cannot be reached stops the run (exit status 2); the next run goes on.",
    )
    send.add_argument(
        "--password-file",
        metavar="FILE",
        help="file whose first line is the SMTP password "
        "(default: $VISITPLAN_SMTP_PASSWORD_FILE, else $VISITPLAN_SMTP_PASSWORD)",
    )
    send.add_argument("-v", "--verbose", action="store_true", help="log each message sent")
    send.add_argument("--json", action="store_true", help="print one JSON object")
    send.set_defaults(run=run_send)
    listing = actions.add_parser("list", parents=[common], help="the outbox, oldest first")
    listing.add_argument("--status", choices=STATUSES, help="only messages in this state")
    listing.add_argument("--patient", metavar="MRN", help="only this patient's messages")
    listing.add_argument("--limit", type=positive_int, metavar="N", help="at most N messages")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(run=run_list)
    preview = actions.add_parser(
        "preview", parents=[common], help="what would be sent to a patient, without sending"
    )
    preview.add_argument("mrn", metavar="MRN")
    preview.add_argument(
        "--raw", action="store_true", help="the messages exactly as they would go (MIME)"
    )
    preview.set_defaults(run=run_preview)


def run_send(args: argparse.Namespace) -> int:
    import logging
    import sys

    from visitplan.cli.common import desk_from_args, dump
    from visitplan.records import sending
    from visitplan.sync.mail import deliver, smtp_settings

    settings = smtp_settings(password_file=args.password_file)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="visitplan: %(message)s",
        stream=sys.stderr,
    )
    with desk_from_args(args) as desk, sending.sender_lock(desk):
        report = deliver(desk, settings)
        zone = desk.calendar.tz
    if args.json:
        from visitplan.cli import json_out

        dump(json_out.send_report(report, zone))
    elif report.sent or report.failed or report.deferred or report.skipped or not report.stopped:
        later = (
            f", the next due {report.next_due.astimezone(zone):%a %Y-%m-%d %H:%M}"
            if report.next_due
            else ""
        )
        print(
            f"sent {len(report.sent)}, failed {len(report.failed)}, to retry "
            f"{len(report.deferred)}, skipped {report.skipped}; {report.waiting} waiting{later}"
        )
    if report.stopped:
        print(
            f"visitplan: {report.stopped}; {report.waiting} "
            f"{'message waits' if report.waiting == 1 else 'messages wait'} for the next run",
            file=sys.stderr,
        )
        return 2
    return 0


def run_list(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import table

    with desk_from_args(args) as desk:
        messages = desk.outbox_messages(status=args.status, mrn=args.patient, limit=args.limit)
        zone = desk.calendar.tz
    if args.json:
        from visitplan.cli import json_out

        dump([json_out.message(m, zone) for m in messages])
        return 0
    if not messages:
        print(
            "No messages in the outbox" + (" that match." if args.status or args.patient else ".")
        )
        return 0
    rows = [["ID", "STATUS", "KIND", "VISIT", "MRN", "DUE", "TRIES", "SUBJECT OR WHY"]]
    for m in messages:
        when = m.sent_at or m.next_at
        rows.append(
            [
                str(m.id),
                m.status,
                m.kind,
                str(m.visit_id),
                m.mrn,
                f"{when.astimezone(zone):%Y-%m-%d %H:%M}",
                str(m.attempts),
                (m.error if m.status in ("failed", "skipped") or m.attempts else m.subject) or "",
            ]
        )
    print(table(rows, keep=(0, 1, 2, 3, 5, 6)))
    return 0


def run_preview(args: argparse.Namespace) -> int:
    import sys

    from visitplan.cli.common import desk_from_args
    from visitplan.records.messages import Letter

    with desk_from_args(args) as desk:
        patient = desk.patient(args.mrn)
        previews = desk.preview_messages(args.mrn)
        zone = desk.calendar.tz
        no_sender = not desk.clinic.email
    if patient.notify != "email":
        print(f"{patient.mrn} has not agreed to e-mail (notify {patient.notify}): nothing is sent")
        return 0
    if not previews:
        print(f"nothing is waiting to be sent to {patient.mrn}")
        return 0
    if no_sender:
        print("! the clinic has no email: nothing can be sent until it has one")
    for view, letter in previews:
        if args.raw and isinstance(letter, Letter):
            sys.stdout.flush()
            sys.stdout.buffer.write(letter.content + b"\r\n")
            sys.stdout.buffer.flush()
            continue
        due = f"{view.next_at.astimezone(zone):%a %Y-%m-%d %H:%M}"
        print(f"== outbox {view.id}: {view.kind} for visit {view.visit_id}, due {due}")
        print(_shown(letter))
    return 0


def _shown(letter: Letter | Skip | Refusal) -> str:
    """A rendered message as a person reads it: headers, text, calendar lines."""
    from email import message_from_bytes, policy

    from visitplan.records.messages import Letter, Refusal

    if not isinstance(letter, Letter):
        fate = "would fail" if isinstance(letter, Refusal) else "would be skipped"
        return f"{fate}: {letter.reason}\n"
    message = message_from_bytes(letter.content, policy=policy.default)
    lines = [f"{name}: {message[name]}" for name in ("To", "Subject", "Message-ID")]
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/calendar"):
            content = part.get_payload(decode=True)
            assert isinstance(content, bytes)
            lines += ["", f"-- {kind}" + (f"; method={part.get_param('method')}" if
                                           kind == "text/calendar" else "")]  # fmt: skip
            lines += content.decode("utf-8").replace("\r\n", "\n").rstrip("\n").split("\n")
    return "\n".join(lines) + "\n"

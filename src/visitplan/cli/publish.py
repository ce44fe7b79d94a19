"""`visitplan publish`: write a scope's visits to a CalDAV calendar, one object each."""

from __future__ import annotations

import argparse
from typing import Any

from visitplan.cli.args import add_lookback_option, add_scope_options


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "publish",
        parents=[common],
        help="publish visits to a CalDAV calendar (only what changed since the last run)",
        description="Write each visit of SCOPE ('clinic', 'clinician:NAME' or 'patient:MRN'; "
        "default clinic) as its own object in a CalDAV calendar. A second run writes only "
        "what changed; an object changed on the server since the last run is left alone and "
        "reported (exit status 1) unless --overwrite is given. --user is also the CalDAV "
        "login name. A password in the --caldav URL is refused: it would show in the "
        "process list and the shell history.",
    )
    parser.add_argument("scope", metavar="SCOPE", nargs="?", default="clinic")
    parser.add_argument(
        "--caldav",
        required=True,
        metavar="URL",
        help="the calendar's URL, or the server's with --calendar (no password in it)",
    )
    parser.add_argument("--calendar", metavar="NAME", help="the calendar's display name")
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="file whose first line is the CalDAV password "
        "(default: $VISITPLAN_CALDAV_PASSWORD, else none)",
    )
    parser.add_argument(
        "--create",
        action="store_true",
        help="make the calendar when it does not exist (then every visit is written anew)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write objects changed on the server since the last publish anyway",
    )
    add_scope_options(parser, "calendar")
    add_lookback_option(parser, "publish visits from this many days back on")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def _password(args: argparse.Namespace) -> str | None:
    import os
    from pathlib import Path

    from visitplan.errors import InputError

    if args.password_file is None:
        return os.environ.get("VISITPLAN_CALDAV_PASSWORD")
    try:
        lines = Path(args.password_file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{args.password_file}: cannot read the password file: {exc}") from None
    return lines[0] if lines else ""


def run(args: argparse.Namespace) -> int:
    import datetime as dt
    import sys

    from visitplan.sync.feeds import FeedSettings
    from visitplan.sync.publish import connect, login, publish
    from visitplan.sync.source import calendar_objects, open_desk_from
    from visitplan.sync.store import SqlLedger

    # Before anything else: a password in the URL is refused, never printed or stored.
    url, caldav_user = login(args.caldav, args.user)
    settings = FeedSettings.parse(args.scope, args.audience, args.privacy)
    scope = settings.scope
    password = _password(args)
    with open_desk_from(args.db, args.clinic, args.protocols, args.user) as desk:
        if scope.kind == "patient":
            desk.patient(scope.value)
        since = desk.now().date() - dt.timedelta(days=args.lookback_days)
        objects = calendar_objects(desk, settings, since)
        target = connect(
            url,
            calendar=args.calendar,
            user=caldav_user,
            password=password,
            create=args.create,
        )
        ledger = SqlLedger(desk.engine, target.url)
        if target.created:
            ledger.forget_all()
        report = publish(target, objects, ledger, overwrite=args.overwrite)
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump(json_out.published(scope, target.url, report))
    else:
        print(f"published {scope} to {target.url}: {report.summary()}")
    for uid in report.conflicts:
        print(
            f"visitplan: {uid}: changed on the server since the last publish; left alone",
            file=sys.stderr,
        )
    return 1 if report.conflicts else 0

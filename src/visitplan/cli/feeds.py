"""`visitplan feed create|list|revoke`: subscribable calendar URLs."""

from __future__ import annotations

import argparse
import os
from typing import Any

from visitplan.cli.args import add_scope_options, id_arg

DEFAULT_BASE_URL = "http://127.0.0.1:8765"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "feed",
        help="create, list or revoke subscribable calendar feeds",
        description="A feed is a secret URL that calendar apps subscribe to; "
        "`visitplan serve` serves it.",
    )
    actions = parser.add_subparsers(dest="feed_action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        parents=[common],
        help="make a feed and print its URL (the only time the token is shown)",
        description="SCOPE is 'clinic', 'clinician:NAME' or 'patient:MRN'.",
    )
    create.add_argument("scope", metavar="SCOPE")
    add_scope_options(create, "feed")
    create.add_argument(
        "--base-url",
        metavar="URL",
        help="where `visitplan serve` is reached, e.g. https://clinic.example/calendar "
        f"(default: $VISITPLAN_FEED_BASE_URL, then {DEFAULT_BASE_URL})",
    )
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(run=run_create)
    listing = actions.add_parser("list", parents=[common], help="every feed, revoked ones too")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=run_list)
    revoke = actions.add_parser(
        "revoke", parents=[common], help="stop serving a feed (its URL then gets 404)"
    )
    revoke.add_argument("feed_id", metavar="ID", type=id_arg)
    revoke.add_argument("--json", action="store_true", help="print one JSON object")
    revoke.set_defaults(run=run_revoke)


def _store(args: argparse.Namespace) -> Any:
    from visitplan.records.store import default_url, ensure_schema, make_engine
    from visitplan.sync.store import FeedStore

    engine = make_engine(args.db or default_url())
    ensure_schema(engine)
    return FeedStore(engine)


def _zone(args: argparse.Namespace) -> Any:
    """The clinic's zone, which feed times are printed in."""
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        return desk.calendar.tz


def _who(args: argparse.Namespace) -> str:
    from visitplan.records.audit import os_user

    return str(args.user or os_user())


def run_create(args: argparse.Namespace) -> int:
    import sys

    from visitplan.sync.feeds import FeedSettings, feed_url

    settings = FeedSettings.parse(args.scope, args.audience, args.privacy)
    scope = settings.scope
    if scope.kind == "patient":
        from visitplan.sync.source import open_desk_from

        with open_desk_from(args.db, args.clinic, args.protocols, args.user) as desk:
            desk.patient(scope.value)  # an unknown MRN is refused here, not served empty
    base = args.base_url or os.environ.get("VISITPLAN_FEED_BASE_URL") or DEFAULT_BASE_URL
    feed, token = _store(args).create(settings, _who(args))
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump({"feed": json_out.feed(feed, _zone(args)), "url": feed_url(base, token)})
        return 0
    print(feed_url(base, token))
    print(
        f"feed {feed.id}: {scope} ({settings.audience}, privacy {settings.privacy}); keep this URL "
        "secret, it is not shown again",
        file=sys.stderr,
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    feeds = _store(args).all()
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        zone = _zone(args)
        dump([json_out.feed(f, zone) for f in feeds])
        return 0
    rows = [("ID", "SCOPE", "AUDIENCE", "PRIVACY", "CREATED", "BY", "STATE")]
    for f in feeds:
        state = f"revoked {f.revoked_at:%Y-%m-%d}" if f.revoked_at else "active"
        rows.append(
            (
                str(f.id),
                str(f.settings.scope),
                f.settings.audience,
                f.settings.privacy,
                f"{f.created_at:%Y-%m-%d}",  # the time is in --json
                f.created_by,
                state,
            )
        )
    from visitplan.cli.tables import table

    if not feeds:
        print("No feeds yet: `visitplan feed create SCOPE` makes one.")
        return 0
    print(table(rows, keep=(0, 4, 6)))
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    feed = _store(args).revoke(args.feed_id, _who(args))
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump(json_out.feed(feed, _zone(args)))
        return 0
    print(f"feed {feed.id} ({feed.settings.scope}) revoked; its URL now gets 404")
    return 0

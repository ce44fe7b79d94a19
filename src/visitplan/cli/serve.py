"""`visitplan serve`: the HTTP server for subscribable .ics feeds."""

from __future__ import annotations

import argparse
from typing import Any

from visitplan.cli.args import add_lookback_option, bounded_int, positive_int
from visitplan.domain.limits import MAX_REFRESH_MINUTES


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "serve",
        parents=[common],
        help="serve the calendar feeds over HTTP (GET and HEAD only)",
        description="Serve every active feed at /feeds/<token>.ics. It listens on loopback "
        "unless --host says otherwise; put it behind the clinic's HTTPS reverse proxy to "
        "reach it from elsewhere.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    add_lookback_option(parser, "feeds start this many days back; cancelled visits stay that long")
    parser.add_argument(
        "--refresh-minutes",
        type=bounded_int(1, MAX_REFRESH_MINUTES, "a number of minutes"),
        default=60,
        metavar="N",
        help="how often calendar apps are asked to poll (REFRESH-INTERVAL, X-PUBLISHED-TTL; "
        "default 60)",
    )
    parser.add_argument(
        "--recheck-seconds",
        type=float,
        default=1.0,
        metavar="S",
        help="how often the database is asked for changes and revoked feeds (default 1)",
    )
    parser.add_argument(
        "--max-connections",
        type=positive_int,
        default=1000,
        metavar="N",
        help="open connections at most (default 1000, and never closer than 128 to the "
        "descriptor limit); beyond it the one idle longest is closed",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds a client has for a request's headers, from connecting or from the "
        "previous response (default 10)",
    )
    parser.add_argument(
        "--notify",
        nargs="?",
        type=float,
        const=30.0,
        metavar="SECONDS",
        help="also send the e-mail outbox (as `visitplan notify send`) every SECONDS (30)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt
    import ipaddress
    import logging
    import sys

    from visitplan.errors import InputError
    from visitplan.sync.mail import SenderBeside
    from visitplan.sync.server import (
        ServerLimits,
        loopback_socket,
        make_feed_app,
        raise_descriptor_limit,
        uvicorn_server,
    )
    from visitplan.sync.source import DeskFeedSource, open_desk_from

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: not a port number (0 to 65535)")
    if not 0.1 <= args.header_timeout <= 3600:
        raise InputError(f"--header-timeout {args.header_timeout}: expected 0.1 to 3600 seconds")
    # Comparisons are false for nan, so each range check also refuses nan (and inf).
    if not 0 <= args.recheck_seconds <= 3600:
        raise InputError(f"--recheck-seconds {args.recheck_seconds}: expected 0 to 3600 seconds")
    if args.notify is not None and not 0.1 <= args.notify <= 86400:
        raise InputError(f"--notify {args.notify}: expected 0.1 to 86400 seconds")
    raise_descriptor_limit()
    limits = ServerLimits(max_connections=args.max_connections, header_seconds=args.header_timeout)
    desk = open_desk_from(args.db, args.clinic, args.protocols, args.user)
    notifier = SenderBeside(desk, args.notify)
    source = DeskFeedSource(desk, dt.timedelta(minutes=args.refresh_minutes))
    app = make_feed_app(
        source,
        lookback=dt.timedelta(days=args.lookback_days),
        recheck_seconds=args.recheck_seconds,
        today=lambda: desk.now().date(),  # the clinic's date, as `visitplan publish` counts
    )
    try:
        sock = loopback_socket(args.host, args.port)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    port = sock.getsockname()[1]
    print(f"visitplan: serving feeds on http://{args.host}:{port}/feeds/", file=sys.stderr)
    if not loopback:
        print(
            "visitplan: listening beyond loopback; serve it through HTTPS (a reverse proxy), "
            "the token in the URL is the only key",
            file=sys.stderr,
        )
    try:
        with notifier:
            uvicorn_server(app, limits=limits).run(sockets=[sock])
    finally:
        sock.close()
        desk.close()
    return 0

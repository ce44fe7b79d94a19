"""Argument types shared by commands: each turns bad text into one clear line."""

from __future__ import annotations

import argparse
import datetime as dt


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a real date in the form YYYY-MM-DD"
        ) from None


def time_arg(text: str) -> dt.time:
    try:
        if len(text) != 5 or text[2] != ":":
            raise ValueError
        return dt.time(int(text[:2]), int(text[3:]))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time in the form HH:MM") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def add_scope_options(parser: argparse.ArgumentParser, where: str) -> None:
    """SCOPE, --audience and --privacy, as `feed create` and `publish` read them."""
    parser.add_argument(
        "--audience",
        choices=("staff", "patient"),
        help=f"patient: that patient's own {where}, with reminders "
        "(default: patient for a patient scope, else staff)",
    )
    parser.add_argument(
        "--privacy",
        choices=("full", "initials", "none"),
        default="initials",
        help=f"how patients appear in a staff {where} (default initials with the MRN)",
    )


def add_lookback_option(parser: argparse.ArgumentParser, what: str) -> None:
    from visitplan.sync.feeds import LOOKBACK_DAYS

    parser.add_argument(
        "--lookback-days",
        type=positive_int,
        default=LOOKBACK_DAYS,
        metavar="N",
        help=f"{what} (default {LOOKBACK_DAYS})",
    )


def add_change_options(parser: argparse.ArgumentParser, what: str) -> None:
    """ID, --if-revision and --json: how a change to one stored ``what`` is asked for."""
    parser.add_argument("id", type=positive_int, metavar="ID")
    parser.add_argument(
        "--if-revision",
        type=positive_int,
        metavar="N",
        help=f"refuse if the {what} changed since revision N was read",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")

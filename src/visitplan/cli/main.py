"""Entry point. Each command module registers its parser and imports its heavy
dependencies only inside its handler, so `visitplan plan` never pays for the TUI
or the database layer."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from visitplan import __version__
from visitplan.errors import InputError

# Modules under visitplan.cli that each define register(subparsers, common).
# One per line: each area adds its own.
COMMAND_MODULES = (
    "exporting",
    "planning",
    "protocols",
    "patients",
    "courses",
    "visits",
    "agenda",
    "admin",
    "tui_command",
    "serve",
    "feeds",
    "publish",
    "notify",
)


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments get one line naming the problem, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def common_options() -> argparse.ArgumentParser:
    """Options every command takes, after its own name."""
    common = OneLineParser(add_help=False)
    common.add_argument(
        "--clinic",
        metavar="FILE",
        help="clinic file (default: $VISITPLAN_CLINIC, then the user's config directory)",
    )
    common.add_argument(
        "--protocols",
        metavar="DIR",
        action="append",
        default=[],
        help="another directory of protocol files (repeatable)",
    )
    common.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $VISITPLAN_DB, "
        "then an SQLite file in the user's data directory)",
    )
    common.add_argument(
        "--user", metavar="NAME", help="who makes the change (default: the OS user)"
    )
    return common


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; given a command name, only as far as the module that registers
    it: `visitplan plan` need not import and build every other command's parser. A name
    no module registers (a typo, an option) gets the whole parser, so that argparse
    lists every command."""
    parser = OneLineParser(
        prog="visitplan",
        description="Treatment-protocol scheduling for clinics. With no command, opens "
        "the clinic's terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"visitplan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"visitplan.cli.{name}")
        module.register(subparsers, common)
        if command is not None and command in subparsers.choices:
            break
    return parser


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list[0] if args_list else None)
    # The bare `visitplan` opens the TUI (the `tui` command, when it is installed).
    args = parser.parse_args(args_list or (["tui"] if "tui" in _command_names(parser) else []))
    run = getattr(args, "run", None)
    if run is None:
        build_parser().print_help()
        return 0
    try:
        return int(run(args))
    except InputError as exc:
        print(f"visitplan: {exc.message}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `visitplan agenda | head`: the reader left; nothing to report.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if os.environ.get("VISITPLAN_DEBUG"):
            raise
        print(
            f"visitplan: internal error ({type(exc).__name__}); please report it. "
            "Set VISITPLAN_DEBUG=1 to see the details.",
            file=sys.stderr,
        )
        return 1

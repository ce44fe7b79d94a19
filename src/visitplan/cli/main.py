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

# Modules under visitplan.cli that each define register(subparsers, common), in the
# order the top-level --help lists their commands, with the commands each registers:
# a command's parser is then built from its own module alone (a test keeps this
# table equal to what the modules register).
COMMANDS_BY_MODULE = {
    "exporting": ("export",),
    "planning": ("plan",),
    "protocols": ("protocols",),
    "patients": ("patient", "history"),
    "courses": ("enroll", "enrollment"),
    "visits": ("visits", "visit", "slots"),
    "worklist": ("worklist",),
    "clinic": ("clinic", "clinician", "closure"),
    "agenda": ("agenda",),
    "admin": ("import", "demo", "backup", "db"),
    "tui_command": ("tui",),
    "serve": ("serve",),
    "feeds": ("feed",),
    "publish": ("publish",),
    "notify": ("notify",),
}
COMMAND_MODULES = tuple(COMMANDS_BY_MODULE)


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments get one line naming the problem, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def _not_empty(text: str) -> str:
    # `--db=` or `--clinic ""` (an unset shell variable) must not quietly mean the default.
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty")
    return text


def common_options() -> argparse.ArgumentParser:
    """Options every command takes. They may stand anywhere on the line (see
    ``split_common_options``); every command's parser lists them for its --help."""
    common = OneLineParser(prog="visitplan", add_help=False)
    group = common.add_argument_group("options every command takes, before or after its name")
    group.add_argument(
        "--db",
        type=_not_empty,
        metavar="URL",
        help="database: sqlite:///FILE or postgresql://USER@HOST/DB (default: $VISITPLAN_DB, "
        "then an SQLite file in the user's data directory)",
    )
    group.add_argument(
        "--clinic",
        type=_not_empty,
        metavar="FILE",
        help="clinic file (default: $VISITPLAN_CLINIC, then clinic.toml in the user's "
        "config directory)",
    )
    group.add_argument(
        "--protocols",
        type=_not_empty,
        metavar="DIR",
        action="append",
        default=[],
        help="another directory of protocol files (repeatable; $VISITPLAN_PROTOCOLS adds more)",
    )
    group.add_argument(
        "--user",
        type=_not_empty,
        metavar="NAME",
        help="who the audit trail names for a change (default: the OS user); "
        "for publish, also the CalDAV login",
    )
    return common


def environment_help() -> str:
    rows = (
        ("VISITPLAN_DB", "the database URL when --db is not given"),
        ("VISITPLAN_CLINIC", "the clinic file when --clinic is not given"),
        (
            "VISITPLAN_PROTOCOLS",
            f"more protocol directories, separated by {os.pathsep!r} as in PATH",
        ),
        ("VISITPLAN_FEED_BASE_URL", "feed create: where `visitplan serve` is reached"),
        ("VISITPLAN_CALDAV_PASSWORD", "publish: the CalDAV password without --password-file"),
        ("VISITPLAN_SMTP_URL", "notify: the mail server, e.g. smtp://user@host:587"),
        ("VISITPLAN_SMTP_PASSWORD", "notify: the mail server's password"),
        ("VISITPLAN_SMTP_PASSWORD_FILE", "notify: a file whose first line is that password"),
        ("VISITPLAN_DEBUG", "set to 1 to see the traceback of an internal error"),
        ("COLUMNS", "the width text tables fit (at least 80; default: the terminal's)"),
    )
    width = max(len(name) for name, _ in rows) + 2
    return "environment:\n" + "\n".join(f"  {name:<{width}}{what}" for name, what in rows)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; given a command name, only the module that registers it:
    `visitplan agenda` need not import and build every other command's parser. A name
    no module registers (a typo, an option) gets the whole parser, so that argparse
    lists every command."""
    common = common_options()
    parser = OneLineParser(
        prog="visitplan",
        description="Treatment-protocol scheduling for clinics. With no command, opens "
        "the clinic's terminal UI.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        # The common options here are only listed: split_common_options takes them out
        # before parsing. An abbreviation of one (--cl) must not be read here either,
        # where the command's own default would then overwrite it without a word.
        parents=[common],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"visitplan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    only = [m for m, names in COMMANDS_BY_MODULE.items() if command in names]
    for name in only or COMMAND_MODULES:
        module = importlib.import_module(f"visitplan.cli.{name}")
        module.register(subparsers, common)
    return parser


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _common_flags(common: argparse.ArgumentParser) -> frozenset[str]:
    return frozenset(flag for action in common._actions for flag in action.option_strings)


def split_common_options(argv: Sequence[str], flags: frozenset[str]) -> tuple[list[str], list[str]]:
    """The common options, wherever they stand, and the rest of the line in its order.

    argparse reads an option only after the (sub)command that defines it, and a
    command's default would overwrite a value read before its name; so these are
    taken out first, as `--opt value` or `--opt=value`. As argparse does, a value that
    starts with '-' is not taken (the option is then missing its value) and nothing
    after '--' is an option."""
    common: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest.extend(argv[i:])
            break
        flag = token.partition("=")[0]
        if flag not in flags:
            rest.append(token)
        elif "=" in token:
            common.append(token)
        else:
            common.append(token)
            following = argv[i + 1] if i + 1 < len(argv) else None
            if following is not None and (following == "-" or not following.startswith("-")):
                common.append(following)
                i += 1
        i += 1
    return common, rest


def parse_command_line(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as a namespace: the command's own arguments, ``run`` (absent
    for a group without an action) and the common options, given anywhere."""
    common = common_options()
    common_args, rest = split_common_options(argv, _common_flags(common))
    given = common.parse_args(common_args)
    parser = build_parser(rest[0] if rest else None)
    # The bare `visitplan` opens the TUI (the `tui` command, when it is installed).
    if not rest and "tui" in _command_names(parser):
        rest = ["tui"]
    args = parser.parse_args(rest)
    for name, value in vars(given).items():
        if name == "protocols":
            # Every --protocols counts, before the command name or after it.
            args.protocols = [*value, *getattr(args, "protocols", [])]
        elif value is not None or not hasattr(args, name):
            setattr(args, name, value)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_command_line(list(sys.argv[1:] if argv is None else argv))
    run = getattr(args, "run", None)
    if run is None:
        build_parser().print_help()
        return 0
    try:
        return int(run(args))
    except InputError as exc:
        for line in exc.lines:
            print(f"visitplan: {line}", file=sys.stderr)
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

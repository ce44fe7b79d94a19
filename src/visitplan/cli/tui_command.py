"""`visitplan tui` (and the bare `visitplan`): the clinic's terminal UI."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import Any

from visitplan.cli.args import date_arg


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "tui",
        parents=[common],
        help="open the clinic's terminal UI (also what `visitplan` alone does)",
        description="The agenda, patients, enrollment with a live preview, the month.",
    )
    parser.add_argument(
        "--today",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="open on this day as if it were today (training, screenshots)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from visitplan.errors import InputError
    from visitplan.tui.crash import terminal_missing

    # Without a terminal Textual would wait for keys that never come, at full CPU.
    missing = terminal_missing()
    if missing is not None:
        raise InputError(missing)
    # Starting builds a few hundred thousand objects that live as long as the process
    # (modules, classes, the first screen). Before the first paint the collector
    # walked them all several times (~100 ms measured; a full pass ~45 ms): it waits
    # until they are built, and then leaves them out of every later pass (freeze).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args, collect=was_enabled)
    finally:
        if was_enabled:
            gc.enable()


def _run(args: argparse.Namespace, *, collect: bool) -> int:
    from visitplan.cli.common import desk_from_args
    from visitplan.tui.records_adapter import RecordsData

    desk = desk_from_args(args)
    try:
        data = RecordsData(desk)
        # The first agenda is read while Textual starts up, not after.
        data.read_ahead(args.today or desk.now().date())
        from visitplan.tui.app import make_app

        app = make_app(data, desk.clinic, desk.catalog, today=args.today)
        gc.freeze()
        if collect:
            gc.enable()
        app.run()
    finally:
        desk.close()
    if app.crash_text is not None:
        print(f"visitplan: {app.crash_text}", file=sys.stderr)
        return 1
    return app.return_code or 0

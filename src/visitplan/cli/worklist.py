"""`visitplan worklist`: what needs a person, each with what to do."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "worklist",
        parents=[common],
        help="visits that need someone: overdue, owed, on a closed day, out of their window",
    )
    parser.add_argument("--json", action="store_true", help='print {"items": [...]}')
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from visitplan.cli import json_out
    from visitplan.cli.common import desk_from_args, dump
    from visitplan.cli.tables import patient_words, table

    with desk_from_args(args) as desk:
        items = desk.worklist()
    if args.json:
        dump(json_out.worklist(items))
        return 0
    if not items:
        print("Nothing needs attention: no overdue, owed or misplaced visits.")
        return 0
    rows = [["REASON", "WHEN", "ID", "PATIENT", "VISIT", "TO DO"]]
    for i in items:
        v = i.visit
        rows.append(
            [i.reason, f"{v.start:%a %Y-%m-%d %H:%M}", str(v.id), patient_words(v), v.label, i.todo]
        )
    print(table(rows, keep=(0, 1, 2)))
    return 0

"""`visitplan db upgrade`, `import`, `demo` and `backup`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade", parents=[common], help="create or migrate the schema now"
    )
    upgrade.add_argument("--json", action="store_true", help="print one JSON object")
    upgrade.set_defaults(run=run_upgrade)

    importing = subparsers.add_parser(
        "import",
        parents=[common],
        help="patients and courses from a CSV file (all rows or none)",
        description="Columns: mrn, name, phone, email, notes, protocol, start, time, "
        "clinician (mrn and name required). Every row is checked first; each bad row is "
        "named (the first 50), and then nothing is imported. Rows that say what the "
        "records already hold are counted, not added.",
    )
    importing.add_argument("file", type=Path, metavar="FILE.csv")
    importing.add_argument("--json", action="store_true", help="print one JSON object")
    importing.set_defaults(run=run_import)

    demo = subparsers.add_parser(
        "demo", parents=[common], help="fill the database with a small made-up clinic"
    )
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(run=run_demo)

    backup = subparsers.add_parser(
        "backup", parents=[common], help="a consistent copy of the SQLite database"
    )
    backup.add_argument("path", type=Path, metavar="PATH")
    backup.add_argument("--json", action="store_true", help="print one JSON object")
    backup.set_defaults(run=run_backup)


def run_upgrade(args: argparse.Namespace) -> int:
    from visitplan.records import store

    engine = store.make_engine(args.db or store.default_url())
    try:
        ran = store.ensure_schema(engine)
        heads = ", ".join(sorted(store.current_revisions(engine)))
    finally:
        engine.dispose()
    said = f"{store.safe(engine.url)}: {'upgraded to' if ran else 'already at'} {heads}"
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump(json_out.done(said))
        return 0
    print(said)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args
    from visitplan.cli.tables import counted

    with desk_from_args(args) as desk:
        report = desk.import_csv(args.file)
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump(json_out.imported(report))
        return 0
    already = f"{report.already} {'row says' if report.already == 1 else 'rows say'} "
    if (report.patients, report.enrollments) == (0, 0):
        print(f"{args.file}: nothing new imported: {already}only what the records hold")
        return 0
    print(
        f"{args.file}: {counted(report.patients, 'new patient')}, "
        f"{counted(report.enrollments, 'course')}, {counted(report.visits, 'visit')}"
        + (f"; {already}what the records already hold" if report.already else "")
    )
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args
    from visitplan.cli.tables import counted
    from visitplan.records.demo import fill

    with desk_from_args(args) as desk:
        patients, visits = fill(desk)
        where = desk.url
    said = (
        f"{where}: {counted(patients, 'made-up patient')} with {counted(visits, 'visit')}; "
        "try `visitplan agenda`"
    )
    _said(args, said)
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from visitplan.cli.common import desk_from_args

    with desk_from_args(args) as desk:
        desk.backup(args.path)
    _said(args, f"backup written to {args.path}")
    return 0


def _said(args: argparse.Namespace, sentence: str) -> None:
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump(json_out.done(sentence))
    else:
        print(sentence)

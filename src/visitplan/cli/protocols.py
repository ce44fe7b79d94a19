"""`visitplan protocols list|show|check`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("protocols", help="list, show and check protocol files")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="the protocols found")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", parents=[common], help="a protocol's course in words")
    show.add_argument("protocol", metavar="ID")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(run=run_show)
    check = actions.add_parser(
        "check",
        parents=[common],
        help="validate protocol files (default: all that are found)",
        description="Run the checks planning runs, then plan each protocol from the first "
        "and the last start the calendar serves: a file that passes can always be planned.",
    )
    check.add_argument("files", nargs="*", metavar="FILE", type=Path)
    check.add_argument("--json", action="store_true", help="print a JSON list")
    check.set_defaults(run=run_check)
    schema = actions.add_parser("schema", help="print the JSON Schema of protocol files")
    schema.set_defaults(run=run_schema)


def run_list(args: argparse.Namespace) -> int:
    """Every protocol that can be read, and one line on stderr for each file that
    cannot: a person sees what is usable, and exit status 2 tells a script that a
    file is broken (as `protocols check` does)."""
    import sys

    from visitplan.catalog import ProtocolCatalog, protocol_dirs
    from visitplan.cli.tables import Column, counted, render
    from visitplan.errors import InputError

    catalog = ProtocolCatalog(protocol_dirs(args.protocols))
    rows = []
    found = []
    bad = 0
    for protocol_id in catalog.ids:
        try:
            entry = catalog.get(protocol_id)
        except InputError as exc:
            print(f"visitplan: {exc.message}", file=sys.stderr)
            bad += 1
            continue
        found.append(entry)
        steps = sum(v.count for v in entry.protocol.visits)
        rows.append(
            [entry.id, f"v{entry.protocol.version}", counted(steps, "visit"), entry.protocol.title]
        )
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump([json_out.protocol(entry) for entry in found])
    elif rows:
        columns = [Column("ID"), Column("VERSION", keep=True), Column("VISITS", keep=True)]
        print(render([*columns, Column("TITLE", gives=True)], rows))
    elif not bad:
        print("No protocol files found.")
    return 2 if bad else 0


def run_show(args: argparse.Namespace) -> int:
    from visitplan.catalog import ProtocolCatalog, protocol_dirs
    from visitplan.cli.tables import fit_lines
    from visitplan.domain.protocol import course_in_words

    entry = ProtocolCatalog(protocol_dirs(args.protocols)).get(args.protocol)
    if args.json:
        from visitplan.cli import json_out
        from visitplan.cli.common import dump

        dump(json_out.protocol(entry, full=True))
        return 0
    protocol = entry.protocol
    lines = [f"{protocol.title} (version {protocol.version}) [{entry.id}]"]
    if protocol.description:
        lines.append(protocol.description.strip())
    if protocol.reference:
        doi = f" doi:{protocol.reference.doi}" if protocol.reference.doi else ""
        lines.append(f"Source: {protocol.reference.citation}{doi}")
    lines.append("")
    lines += [f"- {line}" for line in course_in_words(protocol)]
    print(fit_lines("\n".join(lines)))
    return 0


def run_check(args: argparse.Namespace) -> int:
    """The checks planning runs (the same parse), and then a plan from the first and
    the last start the calendar serves: a file that passes can always be planned."""
    import sys

    from visitplan.catalog import ProtocolCatalog, protocol_dirs, read_protocol_file
    from visitplan.domain.limits import plan_at_the_extremes
    from visitplan.errors import InputError

    checked: list[dict[str, str | None]] = []

    def ok(path: Path) -> None:
        checked.append({"path": str(path), "problem": None})
        if not args.json:
            print(f"{path}: ok")

    if args.files:
        for path in args.files:
            try:
                plan_at_the_extremes(read_protocol_file(path).protocol)
            except InputError as exc:
                print(f"visitplan: {exc.message}", file=sys.stderr)
                checked.append({"path": str(path), "problem": exc.message})
            else:
                ok(path)
    else:
        catalog = ProtocolCatalog(protocol_dirs(args.protocols))
        for entry in catalog.all():
            plan_at_the_extremes(entry.protocol)
            ok(entry.path)
    if args.json:
        from visitplan.cli.common import dump

        dump(checked)
    return 2 if any(item["problem"] for item in checked) else 0


def run_schema(args: argparse.Namespace) -> int:
    from visitplan.domain.protocol_file import schema_text

    print(schema_text(), end="")
    return 0

"""What every records command does with its common options, and how it prints JSON."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from visitplan.catalog import ProtocolCatalog
    from visitplan.records.operations import Desk


def desk_from_args(args: argparse.Namespace) -> Desk:
    """The desk the common options (--clinic, --protocols, --db, --user) point at."""
    from visitplan.records.operations import open_workstation_desk

    return open_workstation_desk(args.db, args.clinic, args.protocols, args.user)


def catalog_from_args(args: argparse.Namespace) -> ProtocolCatalog:
    from visitplan.catalog import ProtocolCatalog, protocol_dirs

    return ProtocolCatalog(protocol_dirs(args.protocols))


def dump(document: Any) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2))

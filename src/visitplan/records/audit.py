"""The audit trail: who changed what, when, with the values before and after.

Append-only by construction: this module only inserts, and nothing in the records
layer updates or deletes audit rows.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert

from visitplan.records.reading import AUDIT


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def plain(value: Any) -> Any:
    """A JSON-friendly copy: dates and times as ISO text."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def record(
    connection: Connection,
    *,
    at: dt.datetime,
    who: str,
    action: str,
    entity: str,
    entity_id: object,
    mrn: str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    connection.execute(
        insert(AUDIT), [entry(at, who, action, entity, entity_id, mrn, before, after)]
    )


def entry(
    at: dt.datetime,
    who: str,
    action: str,
    entity: str,
    entity_id: object,
    mrn: str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row as parameters, for inserting many at once."""
    return {
        "at": at,
        "who": who,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "mrn": mrn,
        "before": json.dumps(plain(before), ensure_ascii=False) if before is not None else None,
        "after": json.dumps(plain(after), ensure_ascii=False) if after is not None else None,
    }

"""The schema revision this release expects, read from the migration scripts' text:
importing Alembic costs more than a whole `visitplan agenda`, and is needed only when
the database is behind (``store.ensure_schema``). The quick reads use this too, to
read only a database that is exactly at these revisions."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"
_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


@cache
def script_heads() -> frozenset[str]:
    """Heads of the migration scripts: the revisions no other script follows."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            names = set(re.findall(r"[\"']([^\"']+)[\"']", value))
            (downs if down else revisions).update(names)
    return frozenset(revisions - downs)

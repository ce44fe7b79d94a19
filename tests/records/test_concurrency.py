"""Several processes change the same course at once; afterwards the visits, their
revisions and the audit trail must tell the same story, with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.records.helpers import enrolled
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.records.operations import open_desk

WORKER = """
import json, sys, datetime as dt
from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.errors import InputError
from visitplan.records.operations import open_desk

url, worker, rounds, ids = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
# No clinic file of its own: the workstation plans with the database's clinic.
desk = open_desk(url, None, ProtocolCatalog(protocol_dirs(env={})), f"worker-{worker}")
done = {"moves": 0, "stale": 0, "cascades": 0}
for n in range(rounds):
    # A move of a visit the cascades also move, based on what we just read...
    seen = desk.visit(ids["shared"])
    hour = 9 + (worker * rounds + n) % 8
    try:
        desk.move_visit(ids["shared"], dt.datetime(2026, 5, 11, hour, 0), force=True,
                       expected_revision=seen.revision)
        done["moves"] += 1
    except InputError as exc:
        assert "changed by someone else" in exc.message, exc.message
        done["stale"] += 1
    # ...and a cascade over the rest of the course, based on the same transaction's read.
    day = 6 + (worker + n) % 3
    try:
        desk.move_visit(ids["first"], dt.datetime(2026, 4, day, 10, 0))
        done["cascades"] += 1
    except InputError as exc:
        assert "changed by someone else" in exc.message, exc.message
        done["stale"] += 1
print(json.dumps(done))
"""


def test_concurrent_changes_lose_nothing(
    db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        visits = enrolled(desk, "P1", "prolotherapy-knee-oa", "2026-04-06")
    ids = {"shared": visits["injection-2"].id, "first": visits["baseline"].id}
    workers, rounds = 4, 5
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, str(w), str(rounds), json.dumps(ids)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(workers)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "database is locked" not in err
        results.append(json.loads(out))
    moves = sum(r["moves"] for r in results)
    assert moves >= 1
    assert sum(r["moves"] + r["cascades"] + r["stale"] for r in results) == 2 * workers * rounds

    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        history = desk.history("P1")
        course = desk.visits(mrn="P1")
    shared_entries = [
        h for h in history if h.entity == "visit" and h.entity_id == str(ids["shared"])
    ]
    by_id = {v.id: v for v in course}
    # Every visit's revision counts exactly the audited changes made to it.
    for visit in course:
        changes = [h for h in history if h.entity == "visit" and h.entity_id == str(visit.id)]
        assert visit.revision == 1 + len(changes), visit.key
    # Each successful move of the shared visit is in the trail, by its worker.
    moved = [h for h in shared_entries if h.action == "moved"]
    assert len(moved) == moves
    assert {h.who for h in moved} <= {f"worker-{w}" for w in range(workers)}
    # The final state is what the last audited change says.
    last_start = next(
        h.after["start_at"] for h in reversed(shared_entries) if h.after and "start_at" in h.after
    )
    assert by_id[ids["shared"]].start.isoformat() == last_start
    first_moves = [h for h in history if h.entity == "visit" and h.entity_id == str(ids["first"])]
    assert len(first_moves) == sum(r["cascades"] for r in results)

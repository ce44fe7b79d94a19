"""Twelve workstations enroll patients with the same clinician at the same moment (real
processes, one SQLite file or one PostgreSQL database): the clinician's time is read
and booked under the records' one-writer lock, so none of them is double-booked."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from tests.records.test_clinician_capacity import ROOMY, most_at_once
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import parse_clinic
from visitplan.records.operations import open_desk

WORKERS = 12
WORKER = """
import datetime as dt, pathlib, sys, time
from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.records.operations import open_desk

url, mrn, go = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
# No clinic file of its own: the workstation plans with the database's clinic.
desk = open_desk(url, None, ProtocolCatalog(protocol_dirs(env={})), f"desk-{mrn}")
desk.visits(mrn=mrn)  # connected and read, then all start together
while not go.exists():
    time.sleep(0.01)
detail = desk.enroll(mrn, "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(9, 0), "Dr Kim")
print(len(detail.visits))
"""


def test_twelve_processes_never_double_book_one_clinician(
    db_url: str, catalog: ProtocolCatalog, tmp_path: Path
) -> None:
    clinic = parse_clinic(ROOMY, "clinic.toml")  # room for four at once: Kim is the limit
    with open_desk(db_url, clinic, catalog, "tester") as desk:
        desk.add_clinician("Dr Kim")
        for n in range(WORKERS):
            desk.add_patient(f"P{n}", f"Synthetic Patient {n}")
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, f"P{n}", str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(WORKERS)
    ]
    go.touch()
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert out.strip() == "7"

    with open_desk(db_url, None, catalog, "tester") as desk:
        kim = desk.visits(clinician="Dr Kim", statuses=("scheduled",))
    assert len(kim) == WORKERS * 7
    assert most_at_once(kim) == 1
    assert not [v for v in kim if v.warnings]
    # Twelve 45-minute sessions fill the clinician's first day from opening to closing.
    firsts = sorted(v.start for v in kim if v.key == "session-1")
    assert [f"{s:%H:%M}" for s in firsts] == [
        f"{t.hour:02d}:{t.minute:02d}"
        for t in (
            (dt.datetime(2026, 4, 6, 9) + dt.timedelta(minutes=45 * i)).time()
            for i in range(WORKERS)
        )
    ]
    assert {s.date() for s in firsts} == {dt.date(2026, 4, 6)}

"""Records benchmark (run by hand; prints figures, asserts nothing).

Imports 10,000 patients with a course each (dextrose-prolotherapy: 7 visits, so
70,000 visits) through `visitplan import`, then times `visitplan agenda --json` for
a busy day and `visitplan visits MRN --json`, each as a whole process, on SQLite
and, when VISITPLAN_TEST_PG_URL is set, on PostgreSQL (in a schema of its own,
dropped afterwards).

    python benchmarks/records_bench.py [--patients N] [--runs N]

Targets (issue 3): the import under 20 s, `visitplan agenda --json` under 0.3 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from bench_setup import clinic_text, seed_course, visitplan, weekday_starts, write_patients

CLINIC = clinic_text(timezone="Asia/Seoul", capacity=16, extra=['holidays = { country = "KR" }'])
FIRST_START = dt.date(2026, 1, 5)
AGENDA_DAY = dt.date(2027, 9, 7)  # a Tuesday (09-14..16 is Chuseok)


def patients(count: int) -> list[dict[str, str]]:
    # Four years of weekday starts: about 65 visits a clinic day, for 16 rooms.
    starts = weekday_starts(FIRST_START, 4 * 365)
    return [
        seed_course(n, starts[n * len(starts) // count], 9 * 60 + (n * 45) % (8 * 60))
        for n in range(count)
    ]


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one whole `visitplan` process.

    CPU time is printed too because the machines this runs on are often shared:
    wall-clock time then measures the neighbours as much as visitplan.
    """
    cpu = _children_cpu()
    began = time.perf_counter()
    done = subprocess.run(visitplan(*args), env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"visitplan {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(runs: list[tuple[float, float]]) -> str:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    return f"{wall:7.3f} s wall, {cpu:6.3f} s CPU"


def bench(label: str, url: str, csv_path: Path, clinic: Path, runs: int, mrn: str) -> None:
    env = {**os.environ, "VISITPLAN_DB": url, "VISITPLAN_CLINIC": str(clinic)}
    run(["db", "upgrade"], env)
    imported = run(["import", str(csv_path)], env)
    agenda = [run(["agenda", "--json", "--date", str(AGENDA_DAY)], env) for _ in range(runs)]
    week = [
        run(["agenda", "--json", "--date", str(AGENDA_DAY), "--days", "7"], env)
        for _ in range(runs)
    ]
    visits = [run(["visits", mrn, "--json"], env) for _ in range(runs)]
    baseline = [run(["--version"], env) for _ in range(runs)]
    inside = in_process(url, clinic, runs)
    print(f"{label}:", flush=True)
    print(f"  import (whole process)          {median([imported])}")
    print(f"  agenda --json, one day (median) {median(agenda)}")
    print(f"  agenda --json, 7 days (median)  {median(week)}")
    print(f"  visits MRN --json (median)      {median(visits)}")
    print(f"  visitplan --version (median)    {median(baseline)}")
    print(f"  agenda query + views, in process{inside:7.3f} s")


def in_process(url: str, clinic: Path, runs: int) -> float:
    """The agenda without interpreter start and imports: what the database costs."""
    from visitplan.catalog import ProtocolCatalog, load_clinic, protocol_dirs
    from visitplan.records.operations import open_desk

    with open_desk(url, load_clinic(clinic), ProtocolCatalog(protocol_dirs()), "bench") as desk:
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            desk.agenda(AGENDA_DAY)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        csv_path, clinic = tmp / "patients.csv", tmp / "clinic.toml"
        write_patients(csv_path, patients(options.patients))
        clinic.write_text(CLINIC, encoding="utf-8")
        print(f"{options.patients} patients, {options.patients * 7} visits", flush=True)
        mrn = f"B{options.patients // 2:06d}"
        bench("SQLite", f"sqlite:///{tmp / 'bench.sqlite3'}", csv_path, clinic, options.runs, mrn)
        pg = os.environ.get("VISITPLAN_TEST_PG_URL")
        if not pg:
            print("PostgreSQL: skipped (set VISITPLAN_TEST_PG_URL)")
            return
        from sqlalchemy import create_engine, text

        schema = f"vp_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(pg)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            joiner = "&" if "?" in pg else "?"
            url = f"{pg}{joiner}options={quote(f'-csearch_path={schema}')}"
            bench("PostgreSQL", url, csv_path, clinic, options.runs, mrn)
        finally:
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()

"""Records benchmark (run by hand; prints figures, asserts nothing).

Imports 10,000 patients with a course each (dextrose-prolotherapy: 7 visits, so
70,000 visits) through `visitplan import`, imports the same file again (it must add
nothing: the benchmark prints the courses stored after it), then times `visitplan
agenda --json` for a busy day and `visitplan visits MRN --json`, each as a whole
process. Then, into an empty database again, the same import while another process
runs `visitplan patient add` in a loop, as the front desk would during it: the
longest of those runs is the longest any writer waited (an idle `patient add` is
timed too, for scale). On SQLite and, when VISITPLAN_TEST_PG_URL is set, on
PostgreSQL (in schemas of its own, dropped afterwards).

    python benchmarks/records_bench.py [--patients N] [--runs N]

The clinic declares 12 clinicians with hours of their own (issue 13), and each row
names one of them: every course is planned against its clinician's visits too.

Targets (issues 3, 11, 12, 13): the import under 20 s, twice leaving one course per
row; `visitplan agenda --json` under 0.3 s; a `patient add` during the import
never refused, waiting at most a few seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from bench_setup import (
    add_clinicians,
    clinic_text,
    seed_course,
    visitplan,
    weekday_starts,
    write_patients,
)

# Twelve clinicians with hours of their own (a third all day, a third mornings, a third
# afternoons), declared in the clinic file; each row names one.
CLINICIAN_HOURS = ("mon-fri=09:00-18:00", "mon-fri=08:00-14:00", "mon-fri=12:00-18:00")
CLINICIANS = 12
CLINIC = clinic_text(
    timezone="Asia/Seoul", capacity=16, extra=['holidays = { country = "KR" }']
) + "".join(
    f'[[clinicians]]\nname = "Dr Bench {n}"\nhours = "{CLINICIAN_HOURS[n % 3]}"\n'
    for n in range(CLINICIANS)
)
FIRST_START = dt.date(2026, 1, 5)
AGENDA_DAY = dt.date(2027, 9, 7)  # a Tuesday (09-14..16 is Chuseok)


def patients(count: int) -> list[dict[str, str]]:
    # Four years of weekday starts: about 65 visits a clinic day, for 16 rooms.
    starts = weekday_starts(FIRST_START, 4 * 365)
    return [
        {
            **seed_course(n, starts[n * len(starts) // count], 9 * 60 + (n * 45) % (8 * 60)),
            "clinician": f"Dr Bench {n % CLINICIANS}",
        }
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


def bench(
    label: str,
    urls: Iterator[str],
    csv_path: Path,
    clinic: Path,
    runs: int,
    rows: list[dict[str, str]],
) -> None:
    mrn = f"B{len(rows) // 2:06d}"
    env = {**os.environ, "VISITPLAN_DB": next(urls), "VISITPLAN_CLINIC": str(clinic)}
    set_up(env["VISITPLAN_DB"], clinic, rows)
    imported = run(["import", str(csv_path)], env)
    again = run(["import", str(csv_path)], env)
    courses = count_courses(env["VISITPLAN_DB"])
    agenda = [run(["agenda", "--json", "--date", str(AGENDA_DAY)], env) for _ in range(runs)]
    week = [
        run(["agenda", "--json", "--date", str(AGENDA_DAY), "--days", "7"], env)
        for _ in range(runs)
    ]
    visits = [run(["visits", mrn, "--json"], env) for _ in range(runs)]
    baseline = [run(["--version"], env) for _ in range(runs)]
    idle = [
        run(["patient", "add", f"IDLE{n}", "--name", f"Synthetic Idle {n}"], env)
        for n in range(runs)
    ]
    inside = in_process(env["VISITPLAN_DB"], clinic, runs)
    busy_env = {**env, "VISITPLAN_DB": next(urls)}
    set_up(busy_env["VISITPLAN_DB"], clinic, rows)
    during, adds, refused = import_with_front_desk(busy_env, csv_path)
    print(f"{label}:", flush=True)
    print(f"  import (whole process)          {median([imported])}")
    print(f"  the same file again             {median([again])}; {courses} courses stored")
    print(f"  agenda --json, one day (median) {median(agenda)}")
    print(f"  agenda --json, 7 days (median)  {median(week)}")
    print(f"  visits MRN --json (median)      {median(visits)}")
    print(f"  visitplan --version (median)    {median(baseline)}")
    print(f"  patient add, idle (median)      {median(idle)}")
    print(f"  agenda query + views, in process{inside:7.3f} s")
    print(f"  import with patient add in a loop {during:7.3f} s wall")
    print(
        f"    {len(adds)} patient adds during it: median {statistics.median(adds):.3f} s, "
        f"longest {max(adds):.3f} s; refused: {len(refused)}"
        + (f" ({refused[0]})" if refused else "")
    )
    print(f"  load average (1, 5, 15 min)     {os.getloadavg()}", flush=True)


def import_with_front_desk(
    env: dict[str, str], csv_path: Path
) -> tuple[float, list[float], list[str]]:
    """The import's wall time, and each `patient add` run meanwhile (wall time, and
    the lines of those refused)."""
    stop = threading.Event()
    adds: list[float] = []
    refused: list[str] = []

    def front_desk() -> None:
        n = 0
        while not stop.is_set():
            args = visitplan("patient", "add", f"W{n:05d}", "--name", f"Synthetic Walk-in {n}")
            began = time.perf_counter()
            done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
            adds.append(time.perf_counter() - began)
            if done.returncode != 0:
                refused.append(done.stderr.strip())
            n += 1

    process = subprocess.Popen(
        visitplan("import", str(csv_path)), env=env, stdout=subprocess.DEVNULL
    )
    began = time.perf_counter()
    desk = threading.Thread(target=front_desk)
    desk.start()
    status = process.wait()
    elapsed = time.perf_counter() - began
    stop.set()
    desk.join()
    if status != 0:
        raise SystemExit("visitplan import failed while the front desk worked")
    return elapsed, adds, refused


def count_courses(url: str) -> int:
    from sqlalchemy import func, select

    from visitplan.records import store
    from visitplan.records.schema import ENROLLMENTS

    engine = store.make_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(ENROLLMENTS)).scalar_one())
    finally:
        engine.dispose()


def set_up(url: str, clinic: Path, rows: list[dict[str, str]]) -> None:
    """The schema, the clinic with its [[clinicians]], and any other clinician the
    file names."""
    from visitplan.catalog import ProtocolCatalog, load_clinic, protocol_dirs
    from visitplan.records.operations import open_desk

    settings = load_clinic(clinic)
    with open_desk(url, settings, ProtocolCatalog(protocol_dirs()), "bench") as desk:
        desk.load_clinic(settings, str(clinic))
        add_clinicians(desk, rows)


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
        rows = patients(options.patients)
        write_patients(csv_path, rows)
        clinic.write_text(CLINIC, encoding="utf-8")
        print(f"{options.patients} patients, {options.patients * 7} visits", flush=True)
        files = (f"sqlite:///{tmp / f'bench{n}.sqlite3'}" for n in range(2))
        bench("SQLite", files, csv_path, clinic, options.runs, rows)
        pg = os.environ.get("VISITPLAN_TEST_PG_URL")
        if not pg:
            print("PostgreSQL: skipped (set VISITPLAN_TEST_PG_URL)")
            return
        with pg_schemas(pg) as schemas:
            bench("PostgreSQL", schemas, csv_path, clinic, options.runs, rows)


@contextmanager
def pg_schemas(pg: str) -> Iterator[Iterator[str]]:
    """URLs of fresh PostgreSQL schemas, as many as asked for; all dropped at the end."""
    from sqlalchemy import create_engine, text

    admin = create_engine(pg)
    made: list[str] = []

    def fresh() -> Iterator[str]:
        while True:
            schema = f"vp_bench_{uuid.uuid4().hex[:10]}"
            with admin.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            made.append(schema)
            joiner = "&" if "?" in pg else "?"
            yield f"{pg}{joiner}options={quote(f'-csearch_path={schema}')}"

    try:
        yield fresh()
    finally:
        with admin.begin() as c:
            for schema in made:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()

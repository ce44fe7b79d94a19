"""Quick reads benchmark (run by hand; prints figures, asserts nothing).

On the 10,000-patient database (70,000 visits, built as records_bench.py builds it,
through the CSV import), times as whole processes: `visitplan agenda --json` for a
busy day and for 7 days, `visitplan visits MRN --json`, `visitplan patient show MRN
--json`, and `visitplan plan PROTOCOL --json`; in the same rounds, `python -c pass`
(the floor of starting the interpreter) and `khal list` for the same day, on a khal
calendar built from `visitplan export --all` of the same visits (one event a file,
as khal's vdir keeps them; khal's cache is filled before timing). Rounds alternate
the commands, so the machine's load falls on all alike; medians are printed, with
the CPU time and the load average. On SQLite and, when VISITPLAN_TEST_PG_URL is set,
on PostgreSQL (a schema of its own, dropped afterwards).

    python benchmarks/quick_reads_bench.py [--patients N] [--runs N] [--keep DIR]

Targets (issue 14): the three reads under 0.3 s, plan under 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_setup import add_keep_option, build_database, visitplan, work_folder
from records_bench import AGENDA_DAY, CLINIC, patients, pg_schemas, run, set_up

KHAL = Path(sys.executable).with_name("khal")


def commands(mrn: str) -> list[tuple[str, list[str]]]:
    day = str(AGENDA_DAY)
    return [
        ("visitplan agenda --json, one day", ["agenda", "--json", "--date", day]),
        ("visitplan agenda --json, 7 days", ["agenda", "--json", "--date", day, "--days", "7"]),
        ("visitplan visits MRN --json", ["visits", mrn, "--json"]),
        ("visitplan patient show MRN --json", ["patient", "show", mrn, "--json"]),
        ("visitplan plan --json", ["plan", "dextrose-prolotherapy", "--start", day, "--json"]),
    ]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process that is not visitplan (python, khal)."""
    usage = os.times()
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {done.stderr.strip()[:300]}")
    cpu = (after.children_user - usage.children_user) + (
        after.children_system - usage.children_system
    )
    return elapsed, cpu


def khal_calendar(folder: Path, env: dict[str, str]) -> Callable[[], tuple[float, float]]:
    """khal set up on the export of every visit; returns a timed `khal list` of the day."""
    calendar = folder / "khal" / "calendar"
    config = folder / "khal" / "khal.conf"
    khal_env = {"HOME": str(folder), "LANG": "C.UTF-8", "PATH": os.environ.get("PATH", "")}
    argv = [str(KHAL), "-c", str(config), "list", "-a", "visits", str(AGENDA_DAY), "1d"]
    if (folder / "khal" / "ready").exists():  # --keep: built by an earlier run
        print(f"khal: reusing {calendar}", flush=True)
        return lambda: timed(argv, khal_env)
    export = folder / "all.ics"
    began = time.perf_counter()
    subprocess.run(visitplan("export", "--all", "-o", str(export)), env=env, check=True)
    text = export.read_text(encoding="utf-8")
    if calendar.exists():
        shutil.rmtree(calendar.parent)
    calendar.mkdir(parents=True)
    head = text[: text.index("BEGIN:VEVENT")]
    zones = "".join(re.findall(r"BEGIN:VTIMEZONE\r?\n.*?END:VTIMEZONE\r?\n", head, re.S))
    prolog = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//visitplan benchmark//EN\r\n" + zones
    events = re.findall(r"BEGIN:VEVENT\r?\n.*?END:VEVENT\r?\n", text, re.S)
    for n, event in enumerate(events):
        (calendar / f"{n:06d}.ics").write_text(prolog + event + "END:VCALENDAR\r\n")
    config.write_text(
        f"[calendars]\n[[visits]]\npath = {calendar}\ntype = calendar\n"
        "[locale]\nlocal_timezone = Asia/Seoul\ndefault_timezone = Asia/Seoul\n"
        "timeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        f"[default]\ndefault_calendar = visits\n[sqlite]\npath = {folder / 'khal' / 'khal.db'}\n",
        encoding="utf-8",
    )
    first = timed(argv, khal_env)  # fills khal's cache from the 70,000 files
    listed = subprocess.run(argv, env=khal_env, capture_output=True, text=True, check=True)
    # One line an event starts with its times; its description's lines follow.
    events_listed = len(re.findall(r"^[0-9]{2}:[0-9]{2}-", listed.stdout, re.M))
    print(f"khal lists {events_listed} events on {AGENDA_DAY}", flush=True)
    (folder / "khal" / "ready").touch()
    print(
        f"khal: {len(events)} events exported and written in "
        f"{time.perf_counter() - began - first[0]:.1f} s; its cache filled in {first[0]:.1f} s",
        flush=True,
    )
    return lambda: timed(argv, khal_env)


def bench(
    label: str, env: dict[str, str], runs: int, mrn: str, khal: Callable[[], tuple[float, float]]
) -> None:
    # The first read of a clinic file validates it once: not what is timed.
    for _, argv in commands(mrn):
        run(argv, env)
    day = subprocess.run(visitplan(*commands(mrn)[0][1]), env=env, capture_output=True,
                         text=True, check=True)  # fmt: skip
    print(f"{label}: the agenda of {AGENDA_DAY} has {len(json.loads(day.stdout))} visits",
          flush=True)  # fmt: skip
    rows: dict[str, list[tuple[float, float]]] = {}
    load_before = os.getloadavg()
    for _ in range(runs):
        rows.setdefault("python -c pass", []).append(timed([sys.executable, "-c", "pass"], env))
        for name, argv in commands(mrn):
            rows.setdefault(name, []).append(run(argv, env))
        rows.setdefault("khal list, the same day", []).append(khal())
    load_after = os.getloadavg()
    print(f"{label} (median of {runs}; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after):", flush=True)  # fmt: skip
    for name, times in rows.items():
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        low, high = min(t[0] for t in times), max(t[0] for t in times)
        print(f"  {name:<36} {wall:6.3f} s wall ({low:.3f} to {high:.3f}), {cpu:6.3f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)
    add_keep_option(parser)
    options = parser.parse_args()
    rows = patients(options.patients)
    mrn = f"B{len(rows) // 2:06d}"
    with work_folder(options.keep) as (folder, scratch):
        url, clinic = build_database(folder, CLINIC, rows)
        cache = scratch / "cache"
        env = {**os.environ, "VISITPLAN_DB": url, "VISITPLAN_CLINIC": str(clinic),
               "XDG_CACHE_HOME": str(cache)}  # fmt: skip
        khal = khal_calendar(folder, env)
        bench("SQLite", env, options.runs, mrn, khal)
        with postgresql() as pg:
            if pg is None:
                print("PostgreSQL: skipped (no VISITPLAN_TEST_PG_URL, no server programs)")
                return
            csv_path = folder / "patients.csv"
            with pg_schemas(pg) as schemas:
                pg_env = {**env, "VISITPLAN_DB": next(schemas)}
                set_up(pg_env["VISITPLAN_DB"], clinic, rows)
                run(["import", str(csv_path)], pg_env)
                bench("PostgreSQL", pg_env, options.runs, mrn, khal)


@contextmanager
def postgresql() -> Iterator[str | None]:
    """VISITPLAN_TEST_PG_URL's server, else a throwaway one as the tests start it."""
    if os.environ.get("VISITPLAN_TEST_PG_URL"):
        yield os.environ["VISITPLAN_TEST_PG_URL"]
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.pg_server import find_bindir, throwaway_server

    bindir = find_bindir()
    if bindir is None:
        yield None
        return
    with throwaway_server(bindir) as url:
        yield url


if __name__ == "__main__":
    main()

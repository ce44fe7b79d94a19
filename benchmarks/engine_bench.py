"""Engine throughput and `visitplan plan` start-up, run by hand:

    python benchmarks/engine_bench.py [--plans 100000]

Plans the seed protocol for random start dates and random clinics (zone, open days,
holidays, closures) on one core, then times the whole `visitplan plan --json` process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.domain.clinic import WEEKDAYS, Clinic, ClinicCalendar
from visitplan.domain.engine import plan

ZONES = ["Asia/Seoul", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]
COUNTRIES = [None, "KR", "US", "DE", "GB", "AU"]


def random_clinic(rng: random.Random) -> Clinic:
    open_days = rng.sample(WEEKDAYS, rng.randint(3, 7))
    country = rng.choice(COUNTRIES)
    start = dt.date(2026, 1, 1)
    return Clinic.model_validate(
        {
            "timezone": rng.choice(ZONES),
            "hours": {d: "08:00-18:00" for d in open_days},
            "holidays": {"country": country} if country else None,
            "closures": [str(start + dt.timedelta(days=rng.randint(0, 1500))) for _ in range(10)],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--clinics", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(20261124)
    seed = ProtocolCatalog(protocol_dirs(env={})).get("dextrose-prolotherapy").protocol
    calendars = [ClinicCalendar(random_clinic(rng)) for _ in range(args.clinics)]
    first = dt.date(2026, 1, 1)
    jobs = [
        (
            rng.choice(calendars),
            first + dt.timedelta(days=rng.randint(0, 1460)),
            dt.time(rng.randint(8, 16), rng.choice([0, 15, 30, 45])),
        )
        for _ in range(args.plans)
    ]
    began = time.perf_counter()
    visits = 0
    for calendar, start, at in jobs:
        visits += len(plan(seed, calendar, start, at).visits)
    elapsed = time.perf_counter() - began
    print(
        f"engine: {args.plans} plans ({visits} visits) over {args.clinics} random clinics "
        f"in {elapsed:.2f} s = {args.plans / elapsed:,.0f} plans/s on one core"
    )

    command = [
        str(Path(sys.executable).with_name("visitplan")),
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2026-12-01",
        "--json",
    ]
    subprocess.run(command, check=True, capture_output=True)  # warm the OS file cache
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(
        f"`visitplan plan ... --json` as a whole process: median {statistics.median(times):.3f} s, "
        f"best {min(times):.3f} s, worst {max(times):.3f} s over {len(times)} runs"
    )


if __name__ == "__main__":
    main()

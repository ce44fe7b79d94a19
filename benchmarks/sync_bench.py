"""Feeds and CalDAV publishing at clinic scale, run by hand from the repository root:

    python benchmarks/sync_bench.py [--patients 10000] [--seconds 10] [--clients 50]

Builds a 10,000-patient SQLite database (one course each, through `visitplan import`'s
own code), gives one clinician enough patients for about 5,000 events in a year feed,
then:

1. starts `visitplan serve` as its own process and, from a separate client process,
   polls that clinician's feed with 50 concurrent keep-alive connections: full feeds
   (gzip, as calendar apps ask; and uncompressed), then conditional polls with the
   ETag (304s). Prints requests per second.
2. starts Radicale, runs `visitplan publish` for the same clinician (about 5,000
   objects), moves one visit and publishes again. Prints the wall time of each run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_setup import ROOT, add_keep_option, build_database, clinic_text, visitplan, work_folder

sys.path.insert(0, str(ROOT))  # the Radicale fixture of the tests

CLINIC = clinic_text(
    timezone="Asia/Seoul",
    capacity=60,
    hours="08:00-19:00",
    extra=['address = "1 Example-ro, Seoul"'],
    also={"sat": "09:00-13:00"},
)
PROTOCOL = "prolotherapy-knee-oa"
BENCH_CLINICIAN = "Dr Bench"
OTHERS = [f"Dr Other {i}" for i in range(12)]
FIRST = ["Min", "Ana", "Sam", "Lee", "Kai", "Noa", "Ray", "Ivy", "Jun", "Eli"]
LAST = ["Park", "Lima", "Stone", "Reed", "Moss", "Hale", "Cole", "Fox", "Yoon", "Diaz"]


def patients(count: int, bench_share: int) -> list[dict[str, str]]:
    """Courses starting from 25 days ago to 300 days ahead; the first ``bench_share``
    patients are the benchmarked clinician's."""
    rng = random.Random(6)
    today = dt.date.today()
    return [
        {
            "mrn": f"B{i:06d}",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "protocol": PROTOCOL,
            "start": (today + dt.timedelta(days=rng.randint(-25, 300))).isoformat(),
            "time": f"{rng.randint(8, 17):02d}:{rng.choice((0, 15, 30, 45)):02d}",
            "clinician": BENCH_CLINICIAN if i < bench_share else rng.choice(OTHERS),
        }
        for i in range(count)
    ]


def start_server(url: str, clinic_file: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            visitplan("serve", "--port", "0", "--db", url, "--clinic", str(clinic_file)),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    deadline = time.monotonic() + 30
    while not (found := re.search(r"127\.0\.0\.1:(\d+)/", log.read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"visitplan serve did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return process, int(found.group(1))


async def _client(
    port: int, path: str, headers: str, until: float, counts: list[int], sizes: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode()
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            body = await reader.readexactly(int(length.group(1))) if length else b""
            counts[status // 100] += 1
            sizes.append(len(body))
    finally:
        writer.close()


def _poll(port: int, path: str, headers: str, clients: int, seconds: float) -> tuple[float, str]:
    counts = [0] * 6
    sizes: list[int] = []

    async def main() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(port, path, headers, until, counts, sizes) for _ in range(clients))
        )

    began = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - began
    done = sum(counts)
    size = sum(sizes) / len(sizes) if sizes else 0
    return (
        done / elapsed,
        f"{done} responses ({counts[2]} 2xx, {counts[3]} 3xx, "
        f"{counts[4] + counts[5]} errors), {size / 1024:.0f} KiB each",
    )


def poll_in_child(port: int, path: str, headers: str, clients: int, seconds: float) -> None:
    """Run the clients in a separate process and print their figures."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        rate, detail = pool.apply(_poll, (port, path, headers, clients, seconds))
    label = headers.strip().replace("\r\n", "; ") or "no conditional headers"
    print(f"  {rate:8.0f} requests/s  [{label}]  {detail}")


def bench_feeds(url: str, clinic_file: Path, folder: Path, args: argparse.Namespace) -> None:
    import httpx

    made = subprocess.run(
        visitplan("feed", "create", f"clinician:{BENCH_CLINICIAN}", "--db", url,
                  "--clinic", str(clinic_file)),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    path = "/feeds/" + made.stdout.strip().rsplit("/feeds/", 1)[1]
    process, port = start_server(url, clinic_file, folder / "serve.log")
    try:
        began = time.perf_counter()
        first = httpx.get(
            f"http://127.0.0.1:{port}{path}", timeout=120, headers={"Accept-Encoding": "identity"}
        )
        events = first.content.count(b"BEGIN:VEVENT")
        print(
            f"feed of {BENCH_CLINICIAN}: {events} events, {len(first.content) / 1e6:.1f} MB, "
            f"first (uncached) response in {time.perf_counter() - began:.2f} s"
        )
        etag = first.headers["etag"]
        print(
            f"{args.clients} concurrent clients in a separate process, {args.seconds:.0f} s each:"
        )
        poll_in_child(port, path, "Accept-Encoding: gzip\r\n", args.clients, args.seconds)
        poll_in_child(port, path, "Accept-Encoding: identity\r\n", args.clients, args.seconds)
        poll_in_child(port, path, f"If-None-Match: {etag}\r\n", args.clients, args.seconds)
    finally:
        process.terminate()
        process.wait(10)


def seed_whole_collection(url: str, clinic_file: Path, calendar_url: str, auth: Any) -> int:
    """Fill the calendar with one PUT of the whole collection (a Radicale feature).

    Creating 5,000 objects one by one takes Radicale about half an hour (it checks
    each new UID against every object already there); this puts the same visits
    there in seconds, so the re-publish figures can be measured on any run. The
    first `visitplan publish` then finds each object at its href and takes it back.
    """
    import httpx

    from visitplan.domain.ical import build_calendar, calendar_bytes
    from visitplan.sync.feeds import FeedScope, FeedSettings
    from visitplan.sync.source import calendar_visits, export_options

    with open_bench_desk(url, clinic_file) as desk:
        settings = FeedSettings(FeedScope("clinician", BENCH_CLINICIAN))
        since = desk.now().date() - dt.timedelta(days=30)
        visits = calendar_visits(desk, settings.scope, since)
        body = calendar_bytes(build_calendar(visits, desk.clinic, export_options(desk, settings)))
    response = httpx.put(
        calendar_url, content=body, auth=auth, timeout=600,
        headers={"Content-Type": "text/calendar; charset=utf-8"},
    )  # fmt: skip
    response.raise_for_status()
    return len(visits)


def open_bench_desk(url: str, clinic_file: Path) -> Any:
    from visitplan.catalog import ProtocolCatalog, protocol_dirs
    from visitplan.domain.clinic import parse_clinic
    from visitplan.records.operations import open_desk

    clinic = parse_clinic(clinic_file.read_text(encoding="utf-8"), str(clinic_file))
    return open_desk(url, clinic, ProtocolCatalog(protocol_dirs(env={})), "bench")


def timed(label: str, command: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    print(f"{label}: {seconds:.2f} s ({done.stdout.strip()})")
    return seconds


def move_one_visit(url: str, clinic_file: Path) -> None:
    with open_bench_desk(url, clinic_file) as desk:
        visit = next(
            v
            for v in desk.visits(clinician=BENCH_CLINICIAN, since=dt.date.today())
            if v.status == "scheduled"
        )
        hour = 17 if visit.start.hour == 18 else 18
        desk.move_visit(visit.id, dt.datetime.combine(visit.start.date(), dt.time(hour, 0)))


def bench_publish(url: str, clinic_file: Path, folder: Path, seed: bool) -> None:
    from tests.support.sync import radicale

    (folder / "radicale").mkdir()
    # Radicale checks a new object's UID against every object in the calendar, reading
    # each one's cache entry: let it trust mtime and size instead of re-hashing files.
    tuning = "use_mtime_and_size_for_item_cache = True\n"
    with radicale(folder / "radicale", tuning) as server:
        secret = folder / "password"
        secret.write_text(server.password, encoding="utf-8")
        calendar_url = server.calendar_url("bench")
        command = visitplan(
            "publish", f"clinician:{BENCH_CLINICIAN}", "--caldav", calendar_url,
            "--user", server.user, "--password-file", str(secret), "--db", url,
            "--clinic", str(clinic_file),
        )  # fmt: skip
        if seed:
            began = time.perf_counter()
            auth = (server.user, server.password)
            count = seed_whole_collection(url, clinic_file, calendar_url, auth)
            seconds = time.perf_counter() - began
            print(f"seeded {count} objects with one collection PUT: {seconds:.2f} s")
            timed("first publish (takes every object back)", command)
        else:
            timed("first publish", [*command, "--create"])
        # Each a whole `visitplan publish` process; three runs each, the machine is shared.
        quiet = [timed("publish again, no change", command) for _ in range(3)]
        moved = []
        for _ in range(3):
            move_one_visit(url, clinic_file)
            moved.append(timed("publish again after moving one visit", command))
        print(
            f"median: no change {statistics.median(quiet):.2f} s, "
            f"one visit moved {statistics.median(moved):.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument(
        "--bench-share",
        type=int,
        default=780,
        help="patients of the benchmarked clinician (about 5,000 events)",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--skip-publish", action="store_true")
    parser.add_argument("--skip-feeds", action="store_true")
    parser.add_argument(
        "--seed",
        action="store_true",
        help="fill the calendar with one whole-collection PUT instead of one create per "
        "visit (Radicale takes about half an hour for those)",
    )
    add_keep_option(parser)
    args = parser.parse_args()
    with work_folder(args.keep) as (home, folder):
        rows = patients(args.patients, args.bench_share)
        url, clinic_file = build_database(home, CLINIC, rows)
        if not args.skip_feeds:
            bench_feeds(url, clinic_file, folder, args)
        if not args.skip_publish:
            bench_publish(url, clinic_file, folder, args.seed)


if __name__ == "__main__":
    main()

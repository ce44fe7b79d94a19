"""E-mail benchmark (run by hand; prints figures, asserts nothing).

Builds the 10,000-patient clinic of `records_bench.py` (70,000 visits, through the
CSV import), gives every patient consent and a synthetic address, and lets the outbox
owe what that calls for (``outbox.visits_changed`` for all patients at once: the cost
of consent given to a whole clinic). Invitations are then taken as sent, so what is
left is reminders; the sender runs as `visitplan notify send` does (the sender lock,
in-flight first, claims of 20, one SMTP session per 100 messages) at the end of the
day before a busy clinic day, and sends that day's reminders to aiosmtpd running as
its own process with a handler that discards what it receives.

    python benchmarks/notify_bench.py [--patients N] [--days N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bench_setup import add_keep_option, build_database, clinic_text, work_folder
from records_bench import AGENDA_DAY, patients

if TYPE_CHECKING:
    from visitplan.records.operations import Desk

ZONE = "Asia/Seoul"
CLINIC = clinic_text(
    timezone=ZONE,
    capacity=16,
    extra=[
        'holidays = { country = "KR" }',
        'email = "desk@bench-clinic.example"',
        'uid_domain = "bench-clinic.example"',
    ],
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_sink(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("aiosmtpd did not start") from None
            time.sleep(0.05)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def owe_everything(desk: Desk) -> None:
    """Consent and an address for every patient, and the outbox brought in line."""
    from sqlalchemy import func, select, update

    from visitplan.records import outbox
    from visitplan.records.schema import OUTBOX, PATIENTS

    with desk.write() as c:
        c.execute(update(OUTBOX).values(status="superseded"))  # a kept folder's last run
        email = func.lower(PATIENTS.c.mrn) + "@mail.example"
        c.execute(update(PATIENTS).values(notify="email", email=email))
        ids = [int(i) for i in c.execute(select(PATIENTS.c.id)).scalars()]
        began, cpu_began = time.perf_counter(), cpu()
        added = outbox.visits_changed(c, desk, (), desk._stamp(), patient_ids=ids)
        took, used = time.perf_counter() - began, cpu() - cpu_began
        # Every invitation went long ago: what is left to send is reminders.
        c.execute(
            update(OUTBOX)
            .where(OUTBOX.c.kind == "request", OUTBOX.c.status == "pending")
            .values(status="sent")
        )
    print(
        f"consent for {len(ids)} patients at once: {added} messages owed in {took:.1f} s "
        f"({used:.1f} s CPU), in the change's one transaction",
        flush=True,
    )


def send_days(desk: Desk, clock: Clock, first: dt.date, days: int) -> None:
    """One run at the end of each day from ``first``: that day's reminders."""
    from visitplan.records import sending
    from visitplan.sync.mail import deliver, smtp_settings

    tz = ZoneInfo(ZONE)
    port = free_port()
    sink = start_sink(port)
    settings = smtp_settings({"VISITPLAN_SMTP_URL": f"smtp://127.0.0.1:{port}"})
    sent = skipped = due = 0
    took = used = 0.0
    try:
        for day in range(days):
            end = dt.datetime.combine(first + dt.timedelta(days=day + 1), dt.time(0), tz)
            clock.at = end.astimezone(dt.UTC) - dt.timedelta(minutes=1)
            due += sending.due(desk, desk._stamp())
            began, cpu_began = time.perf_counter(), cpu()
            with sending.sender_lock(desk):
                report = deliver(desk, settings)
            took += time.perf_counter() - began
            used += cpu() - cpu_began
            sent += len(report.sent)
            skipped += report.skipped
            if report.stopped or report.failed:
                raise SystemExit(f"the run did not send everything: {report}")
    finally:
        sink.terminate()
        sink.wait(10)
    print(f"reminders due in {days} run(s), one at the end of each day from {first}: {due}; "
          f"sent {sent}, skipped {skipped}")  # fmt: skip
    print(
        f"sent {sent} messages in {took:.2f} s: {sent / max(took, 1e-9):.0f} messages/s "
        f"(sender CPU {used:.2f} s; SMTP server in its own process)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=1, help="days of reminders to send")
    add_keep_option(parser)
    options = parser.parse_args()

    from visitplan.catalog import ProtocolCatalog, protocol_dirs
    from visitplan.domain.clinic import parse_clinic
    from visitplan.records.operations import open_desk

    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    with work_folder(options.keep) as (folder, _scratch):
        url, _ = build_database(folder, CLINIC, patients(options.patients))
        first = AGENDA_DAY - dt.timedelta(days=1)  # when the reminders of AGENDA_DAY go
        clock = Clock(dt.datetime.combine(first, dt.time(0), ZoneInfo(ZONE)))
        catalog = ProtocolCatalog(protocol_dirs(env={}))
        clinic = parse_clinic(CLINIC, "clinic.toml")
        with open_desk(url, clinic, catalog, "bench", clock=clock) as desk:
            owe_everything(desk)
            send_days(desk, clock, first, options.days)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

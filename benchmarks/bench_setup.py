"""What the benchmarks share: a made-up clinic and its patients in an SQLite database.

The database is built through the records' own CSV import (`visitplan import`'s
code), so a benchmark measures the data a real clinic would have; a folder that
already holds one (``--keep DIR``) is reused, since building 70,000 visits takes a
while. Names are synthetic.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The console script of the interpreter running the benchmark: the installed visitplan.
VISITPLAN = Path(sys.executable).with_name("visitplan")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def visitplan(*args: str) -> list[str]:
    return [str(VISITPLAN), *args]


def clinic_text(
    *,
    timezone: str,
    capacity: int,
    hours: str = "09:00-18:00",
    days: Sequence[str] = WEEKDAYS,
    extra: Sequence[str] = (),
    also: Mapping[str, str] | None = None,
) -> str:
    """A clinic file open ``hours`` on ``days`` (plus ``also``, e.g. a short Saturday)."""
    lines = ['name = "Benchmark Clinic"', f'timezone = "{timezone}"', *extra]
    lines += [f"capacity = {capacity}", "[hours]"]
    lines += [f'{day} = "{hours}"' for day in days]
    lines += [f'{day} = "{span}"' for day, span in (also or {}).items()]
    return "\n".join(lines) + "\n"


def weekday_starts(first: dt.date, span_days: int) -> list[dt.date]:
    """Every Monday-to-Friday date from ``first`` for ``span_days`` days."""
    every = (first + dt.timedelta(days=n) for n in range(span_days))
    return [day for day in every if day.weekday() < 5]


def write_patients(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    """The import's CSV: a header from the first row's keys, then every row."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def build_database(
    folder: Path, clinic: str, rows: Sequence[Mapping[str, str]]
) -> tuple[str, Path]:
    """``folder``'s database (built from ``rows`` unless it is there) and clinic file."""
    from visitplan.catalog import ProtocolCatalog, protocol_dirs
    from visitplan.domain.clinic import parse_clinic
    from visitplan.records.operations import open_desk

    clinic_file = folder / "clinic.toml"
    clinic_file.write_text(clinic, encoding="utf-8")
    database = folder / "bench.sqlite3"
    url = f"sqlite:///{database}"
    if database.exists():
        print(f"database: reusing {database}", flush=True)
        return url, clinic_file
    csv_path = folder / "patients.csv"
    write_patients(csv_path, rows)
    began = time.perf_counter()
    parsed = parse_clinic(clinic, str(clinic_file))
    with open_desk(url, parsed, ProtocolCatalog(protocol_dirs(env={})), "bench") as desk:
        # The clinic first, with its [[clinicians]]: then the ones only the rows name.
        desk.load_clinic(parsed, str(clinic_file))
        add_clinicians(desk, rows)
        report = desk.import_csv(csv_path)
    print(
        f"database: {report.patients} patients, {report.visits} visits, built in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    return url, clinic_file


def add_clinicians(desk: Any, rows: Sequence[Mapping[str, str]]) -> None:
    """The clinicians the rows name, added to the records: an import takes only the
    clinic's own."""
    known = {c.name for c in desk.clinicians()}
    for name in sorted({row["clinician"] for row in rows if row.get("clinician")} - known):
        desk.add_clinician(name)


@contextmanager
def work_folder(keep: Path | None) -> Iterator[tuple[Path, Path]]:
    """(where the database lives, a scratch folder): ``keep`` if given, else the scratch."""
    with TemporaryDirectory(prefix="visitplan-bench-") as name:
        scratch = Path(name)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
        yield keep or scratch, scratch


def add_keep_option(parser: Any) -> None:
    parser.add_argument(
        "--keep",
        metavar="DIR",
        type=Path,
        help="build the database in DIR once and reuse it on later runs",
    )


def seed_course(n: int, start: dt.date, minutes: int) -> dict[str, str]:
    """Made-up patient ``n`` on the seed protocol, starting ``minutes`` after midnight."""
    return {
        "mrn": f"B{n:06d}",
        "name": f"Synthetic Patient {n}",
        "protocol": "dextrose-prolotherapy",
        "start": start.isoformat(),
        "time": f"{minutes // 60:02d}:{minutes % 60:02d}",
        "clinician": f"Dr Bench {n % 5}",
    }

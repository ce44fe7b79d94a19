"""A small stored clinic for the end-to-end export tests: two synthetic patients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.domain.clinic import Clinic, parse_clinic
from visitplan.records.operations import Desk, open_desk

CLINIC_TOML = """\
name = "Hudson Sports Medicine"
timezone = "America/New_York"
address = "12 River Rd, Suite 3; Hudson, NY"
email = "desk@hudson.example"
uid_domain = "hudson.example"
[hours]
mon = "08:00-17:00"
tue = "08:00-17:00"
wed = "08:00-17:00"
thu = "08:00-17:00"
fri = "08:00-17:00"
"""
ALEX = ("100234", "Alex Q. Example")
SAM = ("100577", "김가명 Sam O'Sample")
CREATED = dt.datetime(2026, 2, 20, 15, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Records:
    url: str
    clinic_file: Path
    clinic: Clinic

    def args(self) -> list[str]:
        return ["--db", self.url, "--clinic", str(self.clinic_file)]

    @contextmanager
    def desk(self, now: dt.datetime = CREATED) -> Iterator[Desk]:
        catalog = ProtocolCatalog(protocol_dirs(env={}))
        with open_desk(self.url, self.clinic, catalog, "tester", clock=lambda: now) as desk:
            yield desk


def stored_clinic(folder: Path) -> Records:
    """Two patients on the knee course, one at 09:00 and one at 10:00, from 2 March 2026."""
    clinic_file = folder / "clinic.toml"
    clinic_file.write_text(CLINIC_TOML, encoding="utf-8")
    records = Records(
        f"sqlite:///{folder / 'records.sqlite3'}", clinic_file, parse_clinic(CLINIC_TOML, "x")
    )
    with records.desk() as desk:
        for (mrn, name), time in ((ALEX, dt.time(9)), (SAM, dt.time(10))):
            desk.add_patient(mrn, name)
            desk.enroll(mrn, "prolotherapy-knee-oa", dt.date(2026, 3, 2), time)
    return records

"""Clinic and protocol fixtures: synthetic, written to tmp_path like a user would."""

from __future__ import annotations

from pathlib import Path

import pytest

from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.domain.clinic import Clinic, ClinicCalendar, parse_clinic

SEOUL_CLINIC = """\
name = "Example Clinic"
timezone = "Asia/Seoul"
address = "1 Example-ro, Seoul"
holidays = { country = "KR" }
closures = ["2026-12-31"]
[hours]
mon = "09:00-18:00"
tue = "09:00-18:00"
wed = "09:00-18:00"
thu = "09:00-18:00"
fri = "09:00-18:00"
"""

NEW_YORK_CLINIC = """\
name = "Hudson Sports Medicine"
timezone = "America/New_York"
holidays = { country = "US", subdivision = "NY" }
[hours]
mon = "08:00-17:00"
tue = "08:00-17:00"
wed = "08:00-17:00"
thu = "08:00-17:00"
fri = "08:00-17:00"
sat = "09:00-12:00"
"""


@pytest.fixture
def seoul_clinic() -> Clinic:
    return parse_clinic(SEOUL_CLINIC, "seoul.toml")


@pytest.fixture
def seoul_calendar(seoul_clinic: Clinic) -> ClinicCalendar:
    return ClinicCalendar(seoul_clinic)


@pytest.fixture
def seoul_clinic_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(SEOUL_CLINIC, encoding="utf-8")
    return path


@pytest.fixture
def new_york_clinic() -> Clinic:
    return parse_clinic(NEW_YORK_CLINIC, "new-york.toml")


@pytest.fixture
def catalog() -> ProtocolCatalog:
    """The bundled protocols only (ignores VISITPLAN_PROTOCOLS of the machine)."""
    return ProtocolCatalog(protocol_dirs(env={}))

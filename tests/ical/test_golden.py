"""Golden files: fixed ids and change times, both audiences, every privacy level.

Compared after normalising (lines unfolded, PRODID dropped) so that a new product
version or another folding of the same text does not count as a change. To accept
a deliberate change: VISITPLAN_UPDATE_GOLDEN=1 pytest tests/ical/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ical.samples import CLINIC, course
from visitplan.domain.ical import (
    AUDIENCES,
    PRIVACY_LEVELS,
    ExportOptions,
    build_calendar,
    calendar_bytes,
)

GOLDEN = Path(__file__).with_name("golden")


def normalise(data: bytes) -> str:
    text = data.decode("utf-8").replace("\r\n ", "")
    return "\n".join(line for line in text.split("\r\n") if not line.startswith("PRODID:"))


@pytest.mark.parametrize("privacy", PRIVACY_LEVELS)
@pytest.mark.parametrize("audience", AUDIENCES)
def test_export_matches_golden_file(audience: str, privacy: str) -> None:
    options = ExportOptions(audience=audience, privacy=privacy)  # type: ignore[arg-type]
    got = normalise(calendar_bytes(build_calendar(course(), CLINIC, options)))
    path = GOLDEN / f"{audience}-{privacy}.ics.txt"
    if os.environ.get("VISITPLAN_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")

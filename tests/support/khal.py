"""A real khal with its own config and a temporary calendar, for import tests."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

KHAL = Path(sys.executable).with_name("khal")


@dataclass(frozen=True)
class Khal:
    """khal run against ``folder``/config, showing times in ``zone``."""

    folder: Path
    zone: str

    @property
    def config(self) -> Path:
        return self.folder / "khal.conf"

    @property
    def calendar(self) -> Path:
        return self.folder / "calendar"

    def setup(self) -> Khal:
        self.calendar.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            "[calendars]\n[[visits]]\n"
            f"path = {self.calendar}\ntype = calendar\n"
            "[locale]\n"
            f"local_timezone = {self.zone}\ndefault_timezone = {self.zone}\n"
            "timeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
            "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
            "[default]\ndefault_calendar = visits\n"
            f"[sqlite]\npath = {self.folder / 'khal.db'}\n",
            encoding="utf-8",
        )
        return self

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [str(KHAL), "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            # A machine zone far from the clinic's: khal must use its config, not TZ.
            env={"HOME": str(self.folder), "TZ": "Pacific/Kiritimati", "LANG": "C.UTF-8"},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def import_file(self, path: Path) -> None:
        self.run("import", "--batch", "-a", "visits", str(path))

    def events(self, first: str, last: str) -> list[dict[str, Any]]:
        """Every event from ``first`` to ``last`` (YYYY-MM-DD), as khal lists it."""
        out = self.run(
            "list",
            "-a",
            "visits",
            "--once",
            "--day-format",
            "",
            "--json",
            "uid",
            "--json",
            "start",
            "--json",
            "end",
            "--json",
            "title",
            "--json",
            "status",
            first,
            last,
        )
        events: list[dict[str, Any]] = []
        for line in out.splitlines():
            if line.strip():
                events.extend(json.loads(line))
        return events

    def stored_files(self) -> list[Path]:
        return sorted(self.calendar.glob("*.ics"))


@pytest.fixture
def khal_for(tmp_path: Path) -> Any:
    """Call with a zone name; returns a configured ``Khal`` in a fresh folder."""

    def make(zone: str) -> Khal:
        return Khal(tmp_path / "khal", zone).setup()

    return make

"""Initials that hold letters only, and a calendar with no visits that is still valid."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.ical.parsers import READERS
from tests.ical.records import stored_clinic
from tests.ical.samples import CLINIC, visit
from tests.support.cli import run_visitplan
from tests.support.khal import Khal
from visitplan.domain.ical import (
    MAX_INITIALS,
    ExportOptions,
    Patient,
    build_calendar,
    calendar_bytes,
    initials,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("O'Brien-Kim 😀", "O.B.K."),
        ("Alex Q. Example", "A.Q.E."),
        ("jean-luc picard", "J.L.P."),
        ("D’Angelo Ma\u02bcafu", "D.A.M.A."),  # typographic and modifier apostrophes
        ("김가명", "김."),  # a Korean name as one word: its first syllable
        ("박 지민", "박.지."),
        ("محمد بن سلمان", "م.ب.س."),
        ("ʿAbd al-Raḥmān", "A.A.R."),  # a leading ʿayn is not a letter that starts a part
        ("E\u0301lodie Ørsted", "É.Ø."),  # a combining accent stays with its letter
        ("Straße ßen", "S.ß."),  # ß has no one-letter capital
        ("Maria Carmen de los Angeles Garcia Lopez", "M.C.D.L."),
        ("😀 🎉 !!!", ""),
        ("Agent 007", "A."),
        ("", ""),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


def test_more_parts_than_the_limit_keep_the_first_and_the_last() -> None:
    assert initials("Ana Beatriz Carla Dora Elena Fonseca") == "A.B.C.F."
    assert MAX_INITIALS == 4


LETTER = {"Lu", "Ll", "Lt", "Lo"}


@given(st.text())
def test_initials_hold_only_letters_and_dots_and_a_few_of_them(name: str) -> None:
    got = initials(name)
    assert re.fullmatch(rf"(?:[^.]\.){{0,{MAX_INITIALS}}}", got), got
    assert all(unicodedata.category(c) in LETTER for c in got[::2]), got


@given(
    st.lists(
        st.text(st.characters(categories=["Lu", "Ll", "Lo"]), min_size=1, max_size=8),
        min_size=1,
        max_size=MAX_INITIALS,
    ),
    st.sampled_from([" ", "-", "'", " - ", "  "]),
)
def test_initials_of_plain_parts_are_their_first_letters(parts: list[str], glue: str) -> None:
    def first(part: str) -> str:
        head = unicodedata.normalize("NFC", part)[0]
        return head.upper() if len(head.upper()) == 1 else head

    expected = "".join(f"{first(p)}." for p in parts)
    assert initials(glue.join(parts)) == expected


def test_a_staff_calendar_shows_the_sane_initials() -> None:
    patient = Patient("P-9", "O'Brien-Kim 😀")
    shown = visit(1, "2026-03-02", patient=patient)
    event = build_calendar([shown], CLINIC, ExportOptions()).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "O.B.K. MRN P-9: Treatment visit"


def test_an_empty_calendar_holds_the_clinic_zone_and_is_reproducible() -> None:
    data = calendar_bytes(build_calendar([], CLINIC, ExportOptions()))
    assert data == calendar_bytes(build_calendar([], CLINIC, ExportOptions()))
    calendar = icalendar.Calendar.from_ical(data)
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"]
    assert str(calendar.subcomponents[0]["TZID"]) == CLINIC.timezone


@pytest.mark.slow
def test_an_export_of_an_empty_range_is_valid_for_every_reader_and_khal(
    tmp_path: Path, visitplan_home: dict[str, str], khal_for: Callable[[str], Khal]
) -> None:
    records = stored_clinic(tmp_path)
    out = tmp_path / "empty.ics"
    done = run_visitplan(
        "export", *records.args(), "--all", "--from", "2030-01-01", "--to", "2030-01-31",
        "-o", str(out), env=visitplan_home,
    )  # fmt: skip
    assert done.status == 0, done.err
    data = out.read_bytes()
    calendar = icalendar.Calendar.from_ical(data)
    # RFC 5545 section 3.6: a VCALENDAR holds at least one component.
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"]
    assert str(calendar["METHOD"]) == "PUBLISH"
    zone = calendar.subcomponents[0]
    assert str(zone["TZID"]) == "America/New_York"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    for read in READERS.values():  # icalendar, the strict `ical`, vobject (validating)
        assert read(data) == []

    khal = khal_for("America/New_York")
    khal.import_file(out)
    assert khal.events("2030-01-01", "2030-12-31") == []
    # Asked again, the same bytes (standard output reads CRLF back as LF).
    again = run_visitplan(
        "export", *records.args(), "--all", "--from", "2030-01-01", "--to", "2030-01-31",
        env=visitplan_home,
    )  # fmt: skip
    assert again.out.encode() == data.replace(b"\r\n", b"\n")


def test_the_empty_calendar_uses_the_asked_dates() -> None:
    """A zone whose rules changed: the VTIMEZONE follows the range that was asked for."""
    winter = calendar_bytes(
        build_calendar([], CLINIC, ExportOptions(), empty_on=(dt.date(2006, 1, 1),) * 2)
    )
    assert b"BYDAY=1SU;BYMONTH=4" in winter  # the US rule before 2007
    assert b"BYDAY=2SU;BYMONTH=3" in calendar_bytes(
        build_calendar([], CLINIC, ExportOptions(), empty_on=(dt.date(2027, 1, 1),) * 2)
    )

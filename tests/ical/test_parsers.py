"""Independent parsers read back the same times, statuses and UIDs, whatever the text."""

from __future__ import annotations

import dataclasses
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar.parser import Contentline

from tests.ical.parsers import READERS, Seen
from tests.ical.samples import AWKWARD, CLINIC, course, two_patients
from visitplan.domain.ical import (
    AUDIENCES,
    CalendarVisit,
    ExportOptions,
    Patient,
    build_calendar,
    calendar_bytes,
    clean_text,
    fold,
)


def expected(visits: list[CalendarVisit]) -> list[tuple[str, object, object, str]]:
    return sorted(
        (f"{v.uid}@hudson.example", v.start, v.end, "CANCELLED" if v.cancelled else "CONFIRMED")
        for v in visits
    )


def essentials(seen: list[Seen]) -> list[tuple[str, object, object, str]]:
    return sorted((s.uid, s.start, s.end, s.status) for s in seen)


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("audience", AUDIENCES)
def test_every_parser_reads_back_times_statuses_and_uids(reader: str, audience: str) -> None:
    visits = course() if audience == "patient" else two_patients()
    options = ExportOptions(audience=audience, privacy="full")  # type: ignore[arg-type]
    data = calendar_bytes(build_calendar(visits, CLINIC, options))
    seen = READERS[reader](data)
    assert essentials(seen) == expected(visits)
    awkward = [s for s in seen if AWKWARD in s.description]
    assert len(awkward) == 1


# Every awkward character of the issue, plus what a careless copy and paste brings.
AWKWARD_TEXT = st.lists(
    st.one_of(
        st.sampled_from([*",;:\\\"'\n\r\t", "\r\n", "😀", "👩‍⚕️", "한국어", "العربية", "  "]),
        st.sampled_from(list(string.ascii_letters)),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=AWKWARD_TEXT,
    notes=AWKWARD_TEXT,
    label=AWKWARD_TEXT.filter(str.strip),
    mrn=AWKWARD_TEXT.filter(str.strip),
    clinic_name=AWKWARD_TEXT.filter(str.strip),
    address=AWKWARD_TEXT,
)
def test_awkward_names_and_notes_give_a_file_every_parser_accepts(
    name: str, notes: str, label: str, mrn: str, clinic_name: str, address: str
) -> None:
    clinic = dataclasses.replace(CLINIC, name=clinic_name, address=address)
    visits = [
        dataclasses.replace(
            v, patient=Patient(mrn, name), notes=notes, patient_notes=notes, label=label
        )
        for v in course()
    ]
    for audience in AUDIENCES:
        options = ExportOptions(audience=audience, privacy="full")  # type: ignore[arg-type]
        data = calendar_bytes(build_calendar(visits, clinic, options))
        assert b"\r" not in data.replace(b"\r\n", b"")
        for reader in READERS.values():
            seen = reader(data)
            assert essentials(seen) == expected(visits)
            if audience == "patient" and clean_text(notes).strip():
                assert all(
                    clean_text(notes).strip() in s.description
                    for s in seen
                    if s.status == "CONFIRMED"
                )


@settings(max_examples=300, deadline=None)
@given(
    line=st.text(
        alphabet=st.sampled_from(["a", "😀", "한", "ع", "\\", "^", ",", " ", "é"]), max_size=200
    )
)
def test_fast_folding_is_byte_for_byte_icalendars(line: str) -> None:
    assert fold(line.encode()) == Contentline(line).to_ical()


def test_calendar_bytes_equal_icalendars_own_writer() -> None:
    long = [dataclasses.replace(v, notes=AWKWARD * 5) for v in two_patients()]
    for audience in AUDIENCES:
        cal = build_calendar(
            long if audience == "staff" else course(), CLINIC, ExportOptions(audience=audience)
        )  # type: ignore[arg-type]
        assert calendar_bytes(cal) == cal.to_ical()

"""Stored UTC times come back as the clinic's wall-clock time, across clock changes."""

from __future__ import annotations

import datetime as dt

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from visitplan.records.reading import from_utc, to_utc

ZONES = ["Asia/Seoul", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"]


@settings(max_examples=400, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    # What a database driver returns: naive UTC, never a fold.
    stored=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31)).map(
        lambda moment: moment.replace(fold=0)
    ),
)
def test_a_stored_time_reads_back_as_pendulum_would_convert_it(
    zone: str, stored: dt.datetime
) -> None:
    tz = pendulum.timezone(zone)
    expected = pendulum.instance(stored.replace(tzinfo=dt.UTC)).in_timezone(tz)
    got = from_utc(stored, tz)
    assert isinstance(got, pendulum.DateTime)
    assert (got, got.fold, got.utcoffset(), got.timezone_name) == (
        expected,
        expected.fold,
        expected.utcoffset(),
        expected.timezone_name,
    )
    assert got.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert to_utc(got) == stored


def test_both_readings_of_an_ambiguous_hour_are_told_apart() -> None:
    tz = pendulum.timezone("America/New_York")
    # 2026-11-01 01:30 happens twice in New York: at 05:30 and at 06:30 UTC.
    first = from_utc(dt.datetime(2026, 11, 1, 5, 30), tz)
    second = from_utc(dt.datetime(2026, 11, 1, 6, 30), tz)
    assert (first.hour, first.minute, first.fold) == (1, 30, 0)
    assert (second.hour, second.minute, second.fold) == (1, 30, 1)
    assert first.utcoffset() == dt.timedelta(hours=-4)
    assert second.utcoffset() == dt.timedelta(hours=-5)


def test_every_quarter_hour_of_a_year_reads_back_as_pendulum_converts_it() -> None:
    # Every clock change of 2026 in zones with whole-hour and half-hour shifts.
    for zone in ("America/New_York", "Australia/Lord_Howe"):
        tz = pendulum.timezone(zone)
        stored = dt.datetime(2026, 1, 1)
        while stored.year == 2026:
            expected = pendulum.instance(stored.replace(tzinfo=dt.UTC)).in_timezone(tz)
            got = from_utc(stored, tz)
            assert (got, got.fold, got.utcoffset()) == (
                expected,
                expected.fold,
                expected.utcoffset(),
            ), stored
            stored += dt.timedelta(minutes=15)

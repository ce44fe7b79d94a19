"""The TUI's own reads over the records: they must agree with the desk's."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from tests.support.tui import TODAY, TuiClinic
from visitplan.records.views import VisitView
from visitplan.tui.records_adapter import RecordsData


def test_day_counts_agree_with_the_desks_visits(tui_clinic: TuiClinic) -> None:
    first, last = TODAY - dt.timedelta(days=14), TODAY + dt.timedelta(days=120)
    with tui_clinic.desk() as desk:
        desk.cancel_visit(desk.visits(mrn="P-1002")[1].id)  # cancelled ones are not counted
        data = RecordsData(desk)
        counts = data.day_counts(first, last)
        expected = Counter(
            v.start.date() for v in desk.visits(since=first, until=last) if v.status != "cancelled"
        )
    assert counts == dict(expected)
    assert counts[TODAY] == 3


def test_search_is_limited_and_matches_name_or_mrn(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        data = RecordsData(desk)
        assert [r.mrn for r in data.search_patients("", 2)] == ["P-1001", "P-1002"]
        assert [r.mrn for r in data.search_patients("cHLo", 10)] == ["P-1003"]
        assert [r.mrn for r in data.search_patients("1004", 10)] == ["P-1004"]
        assert data.search_patients("nobody", 10) == []


def test_a_remembered_read_is_dropped_as_soon_as_anything_changes(
    tui_clinic: TuiClinic,
) -> None:
    with tui_clinic.desk() as desk:
        data = RecordsData(desk)
        before = data.agenda(TODAY, 1)
        assert data.agenda(TODAY, 1) is before  # nothing changed: the same read
        with tui_clinic.desk() as other:
            other.cancel_visit(before[0].id)
        after = data.agenda(TODAY, 1)
        assert [v.mrn for v in after] == ["P-1002", "P-1003"]


def test_read_ahead_fills_the_first_agenda(
    tui_clinic: TuiClinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tui_clinic.desk() as desk:
        reads: list[dt.date] = []
        agenda = desk.agenda

        def counted(day: dt.date, days: int = 1, clinician: str | None = None) -> list[VisitView]:
            reads.append(day)
            return agenda(day, days, clinician)

        monkeypatch.setattr(desk, "agenda", counted)
        data = RecordsData(desk)
        data.read_ahead(TODAY).join(timeout=10)
        assert [v.mrn for v in data.agenda(TODAY, 1)] == ["P-1001", "P-1002", "P-1003"]
        assert reads == [TODAY]  # read once, ahead of the screen asking


def test_read_already_hands_over_the_read_ahead_once(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        data = RecordsData(desk)
        assert data.read_already(TODAY) is None  # nothing read ahead
        data.read_ahead(TODAY).join(timeout=10)
        assert data.read_already(TODAY + dt.timedelta(days=1)) is None  # another day
        data.read_ahead(TODAY).join(timeout=10)
        ready = data.read_already(TODAY)
        assert ready is not None
        assert [v.mrn for v in ready] == ["P-1001", "P-1002", "P-1003"]
        assert data.read_already(TODAY) is None  # later reads go through agenda()


def test_a_read_under_way_is_shared_not_repeated(
    tui_clinic: TuiClinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tui_clinic.desk() as desk:
        reads: list[dt.date] = []
        inside, release, second_asked = threading.Event(), threading.Event(), threading.Event()
        agenda, data_version = desk.agenda, desk.data_version

        def slow(day: dt.date, days: int = 1, clinician: str | None = None) -> list[VisitView]:
            reads.append(day)
            inside.set()
            release.wait(timeout=10)
            return agenda(day, days, clinician)

        def version() -> int:
            if inside.is_set():
                second_asked.set()
            return data_version()

        monkeypatch.setattr(desk, "agenda", slow)
        monkeypatch.setattr(desk, "data_version", version)
        data = RecordsData(desk)
        results: list[object] = []
        first = threading.Thread(target=lambda: results.append(data.agenda(TODAY, 1)))
        first.start()
        assert inside.wait(timeout=10)
        second = threading.Thread(target=lambda: results.append(data.agenda(TODAY, 1)))
        second.start()
        assert second_asked.wait(timeout=10)
        release.set()
        first.join(timeout=10)
        second.join(timeout=10)
        assert reads == [TODAY]
        assert len(results) == 2
        assert results[0] is results[1]

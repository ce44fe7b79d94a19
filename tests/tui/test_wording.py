"""The TUI's words: one date format, visits by patient and label, no command-line
options, history as sentences, and a footer that keeps Quit and the keys list."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from visitplan.records.views import HistoryEntry
from visitplan.tui.history_words import history_row
from visitplan.tui.widgets.footer import FooterKey, fitting
from visitplan.tui.widgets.row_list import wrap
from visitplan.tui.wording import refusal, with_weekdays

SEOUL = ZoneInfo("Asia/Seoul")


def test_iso_dates_get_their_weekday_once() -> None:
    assert with_weekdays("2026-12-24 is outside 2026-12-13 to 2026-12-15") == (
        "Thu 2026-12-24 is outside Sun 2026-12-13 to Tue 2026-12-15"
    )
    assert with_weekdays("Thu 2026-12-24 stays") == "Thu 2026-12-24 stays"
    assert with_weekdays("MRN X-2026-12-24, 2026-02-30") == "MRN X-2026-12-24, 2026-02-30"


def test_refusals_lose_cli_words_and_visit_ids() -> None:
    message = (
        "visit 12 cannot move to 2026-12-24 10:30: the clinic is closed on 2026-12-25 "
        "(Christmas Day) (--force books it anyway, as a deviation)"
    )
    said = refusal(message)
    assert said == (
        "The visit cannot move to Thu 2026-12-24 10:30: the clinic is closed on "
        "Fri 2026-12-25 (Christmas Day)"
    )
    assert refusal("enrollment 7 is already withdrawn") == "The course is already withdrawn"


def entry(action: str, before: dict[str, object] | None, after: dict[str, object]) -> HistoryEntry:
    return HistoryEntry(
        1,
        dt.datetime(2026, 12, 15, 1, 31, tzinfo=dt.UTC),
        "kim",
        action,
        "visit",
        "12",
        "P-1",
        before,
        after,
    )


def test_history_reads_as_sentences_in_the_clinics_zone() -> None:
    moved = entry(
        "moved",
        {"start_at": "2026-12-15T10:30:00+09:00", "deviation": None},
        {"start_at": "2026-12-17T14:00:00+09:00", "deviation": None},
    )
    row = history_row(moved, SEOUL, {"12": "Session 2 of 6"}, {})
    assert (row.subject, row.sentence) == (
        "Session 2 of 6",
        "Tue 2026-12-15 10:30 → Thu 2026-12-17 14:00, moved by kim",
    )
    assert f"{row.at:%Y-%m-%d %H:%M}" == "2026-12-15 10:31"  # Seoul, not UTC
    along = entry(
        "rescheduled",
        {"start_at": "2026-12-29T01:30:00+00:00", "reason": None},
        {
            "start_at": "2026-12-31T10:30:00+09:00",
            "reason": "moved with Session 3: done 2 days late",
        },
    )
    assert history_row(along, SEOUL, {"12": "Session 4 of 6"}, {}).sentence == (
        "Tue 2026-12-29 10:30 → Thu 2026-12-31 10:30, moved along with the course by kim; "
        "why: moved with Session 3: done 2 days late"
    )
    forced = entry(
        "moved",
        {"start_at": "2027-01-27T10:30:00+09:00"},
        {"start_at": "2027-02-03T14:00:00+09:00", "deviation": "2027-02-03 is outside its window"},
    )
    assert history_row(forced, SEOUL, {}, {}).sentence.endswith(
        "; booked as a deviation: Wed 2027-02-03 is outside its window"
    )
    changed = HistoryEntry(
        2,
        dt.datetime(2026, 12, 15, tzinfo=dt.UTC),
        "kim",
        "patient changed",
        "patient",
        "P-1",
        "P-1",
        {"phone": "1", "name": "Old Name"},
        {"phone": "2", "name": "New Name"},
    )
    row = history_row(changed, SEOUL, {}, {})
    assert row.sentence == "phone and name changed by kim"
    assert "Name" not in row.sentence


def key(action: str, description: str, shown: str = "k") -> FooterKey:
    return FooterKey(shown, shown, description, action, True)


def test_the_footer_keeps_quit_and_the_keys_list_and_drops_the_rest_in_order() -> None:
    keys = [key(f"a{n}", f"Action {n}") for n in range(20)]
    keys += [key("keys", "Keys", "?"), key("quit", "Quit", "^q")]
    shown = fitting(keys, 40)
    assert [k.action for k in shown][-2:] == ["keys", "quit"]
    assert [k.action for k in shown][:-2] == ["a0", "a1"]
    assert sum(k.width + 1 for k in shown) <= 40
    assert [k.action for k in fitting(keys, 1000)] == [k.action for k in keys]


def test_wrap_never_loses_a_word_and_keeps_to_the_width() -> None:
    text = "↷ booked as a deviation: Fri 2026-12-18 is outside its window"
    lines = wrap(text, 20)
    assert " ".join(lines) == text
    assert all(len(line) <= 20 for line in lines)
    assert wrap("Supercalifragilistic", 8) == ["Supercal", "ifragili", "stic"]

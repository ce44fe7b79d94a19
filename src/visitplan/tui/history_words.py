"""A patient's audit trail as sentences in the clinic's time zone.

The audit keeps field names and values (visit times as clinic-local ISO text); the
front desk reads "Session 2 of 6: Tue 2026-12-15 10:30 → Thu 2026-12-17 14:00,
moved by kim". Names, contact details and notes are never shown: the screen is
shared, and which field changed is what matters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from visitplan.records.views import HistoryEntry
from visitplan.tui.data import HistoryRow
from visitplan.tui.wording import day_text, moment_text, with_weekdays

_FIELD_NAMES = {
    "name": "name",
    "phone": "phone",
    "email": "e-mail",
    "notes": "notes",
    "notify": "consent to e-mail",
}


def history_row(
    entry: HistoryEntry,
    tz: dt.tzinfo,
    visit_labels: Mapping[str, str],
    course_titles: Mapping[str, str],
) -> HistoryRow:
    before, after = entry.before or {}, entry.after or {}
    who = entry.who
    if entry.entity == "visit":
        subject = visit_labels.get(str(entry.entity_id), "A visit")
        sentence = _visit_sentence(entry.action, before, after, who, tz)
    elif entry.entity == "enrollment":
        subject = course_titles.get(str(entry.entity_id), "The course")
        sentence = _course_sentence(entry.action, after, who)
    else:
        subject = "Patient record"
        sentence = _patient_sentence(entry.action, after, who)
    return HistoryRow(entry.at.astimezone(tz), who, subject, sentence)


def _when(value: Any, tz: dt.tzinfo) -> str:
    """A stored visit time (clinic-local ISO text) as the TUI shows times."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return moment_text(moment)


def _visit_sentence(
    action: str, before: Mapping[str, Any], after: Mapping[str, Any], who: str, tz: dt.tzinfo
) -> str:
    if action in ("moved", "rescheduled"):
        verb = "moved" if action == "moved" else "moved along with the course"
        if "start_at" in after:
            what = f"{_when(before.get('start_at'), tz)} → {_when(after['start_at'], tz)}, {verb}"
        else:
            what = f"window changed, {verb}"
        sentence = f"{what} by {who}"
        if after.get("deviation"):
            sentence += f"; booked as a deviation: {with_weekdays(str(after['deviation']))}"
        if after.get("reason"):
            sentence += f"; why: {with_weekdays(str(after['reason']))}"
        return sentence
    if action == "done":
        at = after.get("actual_at")
        return f"done at {_when(at, tz)}, recorded by {who}" if at else f"done, recorded by {who}"
    if action == "missed":
        return f"no-show, recorded by {who}"
    if action == "cancelled":
        return f"cancelled by {who}"
    return f"{action} by {who}"


def _course_sentence(action: str, after: Mapping[str, Any], who: str) -> str:
    if action == "enrolled":
        parts = [f"enrolled by {who}"]
        if after.get("start"):
            try:
                start = day_text(dt.date.fromisoformat(str(after["start"])))
            except ValueError:
                start = str(after["start"])
            time = f" at {after['time']}" if after.get("time") else ""
            parts.append(f"starting {start}{time}")
        if after.get("clinician"):
            parts.append(f"with {after['clinician']}")
        if after.get("visits"):
            parts.append(f"{after['visits']} visits")
        if after.get("version"):
            parts.append(f"protocol version {after['version']}")
        return ", ".join(parts)
    if action == "withdrawn":
        return f"withdrawn by {who}; its open visits were cancelled"
    return f"{action} by {who}"


def _patient_sentence(action: str, after: Mapping[str, Any], who: str) -> str:
    if action == "patient added":
        return f"added by {who}"
    if action == "patient changed":
        fields = [_FIELD_NAMES.get(key, "details") for key in after]
        return f"{' and '.join(dict.fromkeys(fields)) or 'details'} changed by {who}"
    return f"{action} by {who}"

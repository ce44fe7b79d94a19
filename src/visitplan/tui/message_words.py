"""A patient's e-mail messages (the outbox, issue 15) as the patient screen says them:
what was sent, about which visit, when, and where it stands, in the clinic's zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from visitplan.records.views import MessageView
from visitplan.tui.wording import moment_text

CONSENT = {
    "email": "e-mail: agreed",
    "none": "e-mail: not agreed",
}


def consent_text(notify: str) -> str:
    return CONSENT.get(notify, f"e-mail: {notify}")


def what(message: MessageView) -> str:
    if message.kind == "request":
        # The first invitation for a visit speaks of its first version (SEQUENCE 0).
        return "Invitation" if message.sequence == 0 else "Update"
    return {"cancel": "Cancellation", "reminder": "Reminder"}.get(message.kind, message.kind)


def state(message: MessageView, zone: ZoneInfo) -> str:
    def at(moment: dt.datetime) -> str:
        return moment_text(moment.astimezone(zone))

    status = message.status
    if status == "sent" and message.sent_at is not None:
        return f"sent {at(message.sent_at)}"
    if status == "pending":
        if message.next_at > message.created_at:  # a reminder, or a retry after a failure
            return f"pending, goes {at(message.next_at)}"
        return f"pending since {at(message.created_at)}"
    if status == "failed":
        return f"failed (queued {at(message.created_at)}): see the worklist, F6"
    if status == "superseded":
        return f"replaced by a later one (queued {at(message.created_at)})"
    if status == "skipped":
        return f"not sent: {message.error}" if message.error else "not sent"
    return f"{status}, queued {at(message.created_at)}"


def message_line(message: MessageView, labels: Mapping[int, str], zone: ZoneInfo) -> str:
    """'Reminder · Session 2 of 6 · pending, goes Sun 2026-12-27 09:00'."""
    label = labels.get(message.visit_id, "a visit")
    return f"✉ {what(message)} · {label} · {state(message, zone)}"

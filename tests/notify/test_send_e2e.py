"""`visitplan notify send` for real: the installed program, a real SMTP server
(aiosmtpd) on a free loopback port, and what arrives read back by the email package,
icalendar, the ``ical`` package and libical's iTIP check."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.notify.conftest import SmtpServer
from tests.notify.support import (
    NEVER_IN_SUBJECTS,
    PATIENT,
    Arrived,
    calendar_part,
    free_port,
    itip_problems,
    next_monday,
    strict_parse,
    the_event,
)
from tests.support.cli import VISITPLAN, Result, assert_one_line_error, run_visitplan
from visitplan.records.operations import Desk

pytestmark = pytest.mark.slow
MRN, NAME, EMAIL = PATIENT


@dataclass
class Clinic:
    url: str
    clinic_file: Path
    desk: Desk
    home: dict[str, str]

    def args(self) -> list[str]:
        return ["--db", self.url, "--clinic", str(self.clinic_file)]

    def send(self, smtp_url: str, *extra: str, env: dict[str, str] | None = None) -> Result:
        full = {**self.home, "VISITPLAN_SMTP_URL": smtp_url, **(env or {})}
        return run_visitplan("notify", "send", *self.args(), *extra, env=full)

    def enroll(self, mrn: str = MRN, email: str = EMAIL, notify: str = "email") -> list[int]:
        self.desk.add_patient(mrn, f"Synthetic {mrn} {NAME}", email=email, notify=notify)
        course = self.desk.enroll(mrn, "dextrose-prolotherapy", next_monday(), dt.time(10))
        return [v.id for v in course.visits]


@pytest.fixture
def clinic(
    tmp_path: Path,
    mail_clinic_file: Path,
    open_mail_desk: Callable[[str], Desk],
    visitplan_home: dict[str, str],
) -> Clinic:
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    return Clinic(url, mail_clinic_file, open_mail_desk(url), visitplan_home)


def requests_by_uid(arrived: list[Arrived]) -> dict[str, tuple[str, int, bytes]]:
    """UID -> (method, SEQUENCE, calendar bytes), checking each message on the way."""
    found: dict[str, tuple[str, int, bytes]] = {}
    for item in arrived:
        message = item.message
        method, data = calendar_part(message)
        event = the_event(data)
        assert itip_problems(data) == [], message["Subject"]
        assert [e.uid for e in strict_parse(data).events] == [str(event["UID"])]
        assert str(event["ATTENDEE"]) == f"mailto:{item.recipients[0]}"
        assert str(event["ORGANIZER"]) == "mailto:desk@clinic.example"
        assert str(event["UID"]) not in found, "two messages for one visit in one run"
        found[str(event["UID"])] = (method, int(event["SEQUENCE"]), data)
    return found


def assert_private_subjects(arrived: list[Arrived]) -> None:
    for item in arrived:
        subject = str(item.message["Subject"])
        for word in (*NEVER_IN_SUBJECTS, NAME, EMAIL):
            assert word not in subject, (word, subject)


def test_enrolling_sends_one_request_per_visit_and_a_second_run_sends_nothing(
    clinic: Clinic, smtp: SmtpServer
) -> None:
    visit_ids = clinic.enroll()
    done = clinic.send(smtp.url)
    assert done.status == 0, done.err
    assert done.out.startswith("sent 7, failed 0, to retry 0, skipped 0; 7 waiting")
    arrived = smtp.inbox.messages()
    assert len(arrived) == 7
    assert {(a.sender, a.recipients) for a in arrived} == {("desk@clinic.example", (EMAIL,))}
    stored = {clinic.desk.visit(i).uid: clinic.desk.visit(i) for i in visit_ids}
    requests = requests_by_uid(arrived)
    assert set(requests) == set(stored)
    for uid, (method, sequence, _) in requests.items():
        assert (method, sequence) == ("REQUEST", stored[uid].sequence)
    assert_private_subjects(arrived)
    assert len({a.message_id for a in arrived}) == 7

    sessions = smtp.inbox.sessions
    again = clinic.send(smtp.url)
    assert again.status == 0, again.err
    assert again.out.startswith("sent 0, failed 0")
    assert len(smtp.inbox.messages()) == 7
    assert smtp.inbox.sessions == sessions, "nothing due, yet the server was called"


def test_a_move_sends_the_same_uid_with_a_higher_sequence_and_a_cancel_cancels_it(
    clinic: Clinic, smtp: SmtpServer
) -> None:
    visit_ids = clinic.enroll()
    assert clinic.send(smtp.url).status == 0
    first = clinic.desk.visit(visit_ids[0])
    day = first.start.date() + dt.timedelta(days=1)
    change = clinic.desk.move_visit(first.id, dt.datetime.combine(day, dt.time(14, 0)))
    moved_uids = {first.uid, *(v.uid for v in change.moved)}
    assert clinic.send(smtp.url).status == 0
    after_move = smtp.inbox.messages()[7:]
    requests = requests_by_uid(after_move)
    assert set(requests) == moved_uids
    method, sequence, data = requests[first.uid]
    assert method == "REQUEST"
    assert sequence > first.sequence
    assert the_event(data).decoded("DTSTART").hour == 14
    assert all(str(a.message["Subject"]).startswith("Changed: ") for a in after_move), [
        str(a.message["Subject"]) for a in after_move
    ]

    clinic.desk.cancel_visit(first.id)
    assert clinic.send(smtp.url).status == 0
    (cancel,) = smtp.inbox.messages()[7 + len(after_move) :]
    method, data = calendar_part(cancel.message)
    event = the_event(data)
    assert method == "CANCEL"
    assert str(event["UID"]) == first.uid
    assert int(event["SEQUENCE"]) > sequence
    assert str(event["STATUS"]) == "CANCELLED"
    assert itip_problems(data) == []
    assert_private_subjects(smtp.inbox.messages())


def test_a_patient_without_consent_gets_nothing(clinic: Clinic, smtp: SmtpServer) -> None:
    clinic.enroll("M-2", "sam@mail.example", notify="none")
    done = clinic.send(smtp.url)
    assert done.status == 0, done.err
    assert smtp.inbox.messages() == []
    assert smtp.inbox.sessions == 0


def test_killed_mid_batch_then_run_again_every_message_arrives_once_but_the_one_in_flight(
    clinic: Clinic, smtp: SmtpServer
) -> None:
    clinic.enroll()
    clinic.enroll("M-2", "sam@mail.example")
    smtp.inbox.data_delay = 0.3
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("VISITPLAN_")}
        | clinic.home
        | {"VISITPLAN_SMTP_URL": smtp.url}
    )
    sender = subprocess.Popen(
        [str(VISITPLAN), "notify", "send", *clinic.args()],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(smtp.inbox.messages()) < 4:
        assert time.monotonic() < deadline, "the sender never got going"
        assert sender.poll() is None, "the sender ended before it was killed"
        time.sleep(0.02)
    sender.send_signal(signal.SIGKILL)
    sender.wait(10)
    before = len(smtp.inbox.messages())
    assert before < 14
    assert {m.status for m in clinic.desk.outbox_messages() if m.kind == "request"} >= {
        "sent",
        "sending",
    }

    smtp.inbox.data_delay = 0
    done = clinic.send(smtp.url)
    assert done.status == 0, done.err
    arrived = smtp.inbox.messages()
    counts = Counter(a.message_id for a in arrived)
    assert len(counts) == 14, "a message was lost"
    twice = [mid for mid, n in counts.items() if n > 1]
    assert len(twice) <= 1, counts
    assert max(counts.values()) <= 2, counts
    for mid in twice:  # the one in flight went again, byte for byte
        copies = {a.content for a in arrived if a.message_id == mid}
        assert len(copies) == 1
    assert {m.status for m in clinic.desk.outbox_messages() if m.kind == "request"} == {"sent"}


def test_a_server_that_is_down_is_one_line_and_the_next_run_sends(clinic: Clinic) -> None:
    clinic.enroll()
    port = free_port()
    down = clinic.send(f"smtp://127.0.0.1:{port}")
    assert_one_line_error(down, f"cannot reach the SMTP server 127.0.0.1:{port}", "wait")
    assert {m.status for m in clinic.desk.outbox_messages()} == {"pending"}
    server = SmtpServer(port=port).start()
    try:
        done = clinic.send(server.url)
        assert done.status == 0, done.err
        assert len(server.inbox.messages()) == 7
    finally:
        server.stop()


def test_a_refused_address_fails_onto_the_worklist_and_the_log_names_no_address(
    clinic: Clinic, smtp: SmtpServer
) -> None:
    visit_ids = clinic.enroll()
    smtp.inbox.refuse[EMAIL] = f"550 5.1.1 <{EMAIL}>: Recipient address rejected"
    done = clinic.send(smtp.url, "--verbose")
    assert done.status == 0, done.err
    assert done.out.startswith("sent 0, failed 7")
    failed = clinic.desk.failed_messages()
    assert sorted(m.visit_id for m in failed) == sorted(visit_ids)
    assert all(m.error == "550 5.1.1 <address>: Recipient address rejected" for m in failed)
    for m in failed:
        assert f"outbox {m.id} failed (550)" in done.err
    assert EMAIL not in done.err + done.out
    assert "desk@clinic.example" not in done.err
    # The worklist shows each of them, with what the server said and what to do.
    listed = run_visitplan("worklist", "--json", *clinic.args(), env=clinic.home)
    items = [i for i in json.loads(listed.out)["items"] if i["reason"] == "message-failed"]
    assert sorted(i["visit"]["id"] for i in items) == sorted(visit_ids)
    assert {i["detail"] for i in items} == {"550 5.1.1 <address>: Recipient address rejected"}
    assert all("check their address" in i["todo"] for i in items)


def test_a_temporary_refusal_is_tried_again_later_not_at_once(
    clinic: Clinic, smtp: SmtpServer
) -> None:
    clinic.enroll()
    smtp.inbox.refuse[EMAIL] = "451 4.7.1 Greylisted, try again later"
    done = clinic.send(smtp.url)
    assert done.status == 0, done.err
    assert done.out.startswith("sent 0, failed 0, to retry 7")
    deferred = [m for m in clinic.desk.outbox_messages() if m.kind == "request"]
    assert all(m.status == "pending" and m.attempts == 1 for m in deferred)
    assert all(m.next_at > dt.datetime.now(dt.UTC) for m in deferred)
    sessions = smtp.inbox.sessions
    assert clinic.send(smtp.url).status == 0
    assert smtp.inbox.sessions == sessions  # not due again yet: not even a connection


def test_a_password_in_the_url_is_refused_without_showing_it(clinic: Clinic) -> None:
    refused = clinic.send("smtp://desk:hunter2secret@127.0.0.1:2525")
    assert_one_line_error(refused, "VISITPLAN_SMTP_URL", "password in the URL is refused")
    assert "hunter2secret" not in refused.err


def test_a_clinic_without_email_cannot_send(
    clinic: Clinic, smtp: SmtpServer, tmp_path: Path
) -> None:
    clinic.enroll()
    bare = tmp_path / "bare.toml"
    bare.write_text('name = "Example Clinic"\ntimezone = "Asia/Seoul"\n', encoding="utf-8")
    loaded = run_visitplan("clinic", "load", str(bare), "--db", clinic.url, env=clinic.home)
    assert loaded.status == 0, loaded
    done = run_visitplan(
        "notify", "send", "--db", clinic.url,
        env={**clinic.home, "VISITPLAN_SMTP_URL": smtp.url},
    )  # fmt: skip
    assert_one_line_error(done, "the clinic has no email")
    assert smtp.inbox.messages() == []


def test_serve_notify_sends_beside_the_feeds(clinic: Clinic, smtp: SmtpServer) -> None:
    clinic.enroll()
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("VISITPLAN_")}
        | clinic.home
        | {"VISITPLAN_SMTP_URL": smtp.url}
    )
    server = subprocess.Popen(
        [str(VISITPLAN), "serve", *clinic.args(), "--port", "0", "--notify", "0.5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(smtp.inbox.messages()) < 7:
            assert time.monotonic() < deadline, "nothing was sent"
            assert server.poll() is None, "the server stopped"
            time.sleep(0.05)
        clinic.enroll("M-2", "sam@mail.example")  # a change while it serves
        while len(smtp.inbox.messages()) < 14:
            assert time.monotonic() < deadline, "the change waited"
            assert server.poll() is None, "the server stopped"
            time.sleep(0.05)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    # uvicorn shuts down, then ends itself with the signal it caught.
    assert server.returncode in (0, -signal.SIGTERM), err
    assert "Finished server process" in err
    assert "serving feeds on" in err
    assert "visitplan.notify outbox" in err
    assert " sent" in err
    assert EMAIL not in err
    assert "sam@mail.example" not in err
    assert len(requests_by_uid(smtp.inbox.messages())) == 14

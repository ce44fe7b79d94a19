"""What the e-mail tests share: a clinic that writes, a real SMTP server's inbox, and
readers for what arrives (the email package, icalendar, the ``ical`` package and
libical's own iTIP check)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import datetime as dt
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from typing import Any

import icalendar
from ical.calendar_stream import IcsCalendarStream

MAIL_CLINIC = """\
name = "Example Clinic"
timezone = "Asia/Seoul"
address = "1 Example-ro, Seoul"
email = "desk@clinic.example"
phone = "+82 2 0000 0000"
bring = "Your ID card"
uid_domain = "clinic.example"
[hours]
mon = "09:00-18:00"
tue = "09:00-18:00"
wed = "09:00-18:00"
thu = "09:00-18:00"
fri = "09:00-18:00"
"""
PATIENT = ("M-1001", "Alex Quincy Example", "alex.patient@mail.example")
# What no subject may hold by default: the seed protocol's labels, patient notes and
# staff notes name the procedure; the patient's name and MRN name the patient.
NEVER_IN_SUBJECTS = ("Alex", "Quincy", "M-1001", "Session", "Prolotherapy", "prolotherapy",
                     "dextrose", "gluteal", "piriformis", "Follow-up visit three")  # fmt: skip


def next_monday(weeks_ahead: int = 2) -> dt.date:
    """A Monday some weeks from today: the e-mail tests run on the real clock, and a
    visit in the past is owed no message."""
    today = dt.date.today()
    return today + dt.timedelta(days=7 * weeks_ahead - today.weekday())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Arrived:
    sender: str
    recipients: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what arrives, and answers as a test tells it."""

    arrived: list[Arrived] = field(default_factory=list)
    sessions: int = 0
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply
    data_delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self._lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Kept before the answer: a sender killed while it waits for the 250 has
        # delivered this one as far as the server is concerned.
        with self._lock:
            self.arrived.append(
                Arrived(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
            )
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Arrived]:
        with self._lock:
            return list(self.arrived)


def calendar_part(message: EmailMessage) -> tuple[str, bytes]:
    """The one inline text/calendar part: its method parameter and its bytes."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    data = parts[0].get_payload(decode=True)
    assert isinstance(data, bytes)
    return str(parts[0].get_param("method")), data


def text_part(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def the_event(data: bytes) -> icalendar.Event:
    cal = icalendar.Calendar.from_ical(data)
    (event,) = cal.walk("VEVENT")
    assert isinstance(event, icalendar.Event)
    return event


def strict_parse(data: bytes) -> Any:
    """The ``ical`` package validates every property it reads."""
    return IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))


@cache
def _libical() -> ctypes.CDLL:
    name = ctypes.util.find_library("ical") or "libical.so.3"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise AssertionError(
            f"libical is needed for the iTIP check ({exc}); apt-get install libical3"
        ) from None
    lib.icalparser_parse_string.restype = ctypes.c_void_p
    lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
    lib.icalrestriction_check.restype = ctypes.c_int
    lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_as_ical_string.restype = ctypes.c_char_p
    lib.icalcomponent_as_ical_string.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
    return lib


def itip_problems(data: bytes) -> list[str]:
    """libical's ``icalrestriction_check``: the RFC 5546 table of what each METHOD's
    components must and may hold. Empty when the message passes; else libical's
    X-LIC-ERROR lines (parse errors included)."""
    lib = _libical()
    component = lib.icalparser_parse_string(data)
    if not component:
        return ["libical could not parse it"]
    try:
        passed = lib.icalrestriction_check(component)
        text = lib.icalcomponent_as_ical_string(component).decode("utf-8")
    finally:
        lib.icalcomponent_free(component)
    unfolded = text.replace("\r\n ", "").replace("\n ", "")
    errors = [line for line in unfolded.splitlines() if line.startswith("X-LIC-ERROR")]
    return errors or ([] if passed else ["icalrestriction_check failed"])

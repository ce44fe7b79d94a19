"""Fixtures of the e-mail tests: a real aiosmtpd on a free loopback port, a clinic
file that names its address, and desks on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.notify.support import MAIL_CLINIC, Inbox, free_port
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic, parse_clinic
from visitplan.records.operations import Desk, open_desk


class SmtpServer:
    """A real SMTP server in this process (aiosmtpd runs its own event loop thread)."""

    def __init__(self, port: int | None = None, **options: object) -> None:
        self.inbox = Inbox()
        self.port = port or free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_clinic() -> Clinic:
    return parse_clinic(MAIL_CLINIC, "clinic.toml")


@pytest.fixture
def mail_clinic_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(MAIL_CLINIC, encoding="utf-8")
    return path


class Clock:
    """A desk's "now" that a test moves on."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    # 09:00 in Seoul on Monday 30 November 2026.
    return Clock(dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC))


@pytest.fixture
def mail_desk(
    db_url: str, mail_clinic: Clinic, catalog: ProtocolCatalog, clock: Clock
) -> Iterator[Desk]:
    """A desk of the writing clinic on an empty database (SQLite, and PostgreSQL where
    available), on the test's clock."""
    with open_desk(db_url, mail_clinic, catalog, "tester", clock=clock) as desk:
        yield desk


@pytest.fixture
def open_mail_desk(
    mail_clinic: Clinic, catalog: ProtocolCatalog
) -> Iterator[Callable[[str], Desk]]:
    """Desks on the real clock, for the tests that run the real `visitplan` beside."""
    opened: list[Desk] = []

    def make(url: str) -> Desk:
        desk = open_desk(url, mail_clinic, catalog, "tester")
        opened.append(desk)
        return desk

    yield make
    for desk in opened:
        desk.close()

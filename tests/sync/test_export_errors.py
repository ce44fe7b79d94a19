"""A clinic value no calendar can carry (CR/LF in `email` or `uid_domain`, issue 11).

The clinic file's own validation is the first line of defence; these tests build
the clinic past it (``dataclasses.replace`` does not validate) to show that the export,
the feed server and publishing still answer with one clear line and no 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.support.cli import assert_one_line_error, run_visitplan
from tests.support.sync import CalDAVServer
from visitplan.errors import InputError
from visitplan.records.operations import Desk
from visitplan.sync.feeds import FeedScope, FeedSettings
from visitplan.sync.publish import connect, publish
from visitplan.sync.server import make_feed_app
from visitplan.sync.source import DeskFeedSource, calendar_objects
from visitplan.sync.store import FeedStore

BAD = {"email": "desk@clinic.example\r\nX-INJECTED:1", "uid_domain": "clinic.example\nX:1"}


def _plan_with(desk: Desk, **values: str) -> None:
    """The desk's clinic with ``values`` set past validation (as only a bug could)."""
    state = desk.state
    desk._apply(replace(state, settings=replace(state.settings, **values)))


@pytest.mark.parametrize("field", sorted(BAD))
def test_the_feed_is_a_503_with_one_log_line_naming_it(
    clinic_desk: Desk,
    serve_app: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
    field: str,
) -> None:
    _feed, token = FeedStore(clinic_desk.engine).create(FeedSettings(FeedScope("clinic")), "t")
    good = FeedStore(clinic_desk.engine).create(FeedSettings(FeedScope("patient", "MRN-1"),
                                                             "patient"), "t")  # fmt: skip
    _plan_with(clinic_desk, **{field: BAD[field]})
    base = serve_app(make_feed_app(DeskFeedSource(clinic_desk), recheck_seconds=0))
    with caplog.at_level(logging.INFO, logger="visitplan"):
        response = httpx.get(f"{base}/feeds/{token}.ics")
        other = httpx.get(f"{base}/feeds/{good[1]}.ics")
    assert (response.status_code, response.text) == (503, "Service Unavailable")
    assert other.status_code == 503  # every feed holds the clinic's values
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors[0].startswith(f"feed 1 cannot be built: clinic file: {field} ")
    assert errors[1].startswith(f"feed 2 cannot be built: clinic file: {field} ")
    assert "Jin Park" not in caplog.text


def test_publish_stops_with_one_line_before_writing(
    clinic_desk: Desk, caldav_server: CalDAVServer
) -> None:
    _plan_with(clinic_desk, email=BAD["email"])
    s = caldav_server
    target = connect(s.calendar_url("c"), user=s.user, password=s.password, create=True)
    since = clinic_desk.now().date()
    objects = calendar_objects(clinic_desk, FeedSettings(FeedScope("clinic")), since)
    with pytest.raises(InputError, match="clinic file: email ") as raised:
        publish(target, objects, _NoLedger())
    assert "\n" not in raised.value.message.replace("\\n", "")


class _NoLedger:
    def entries(self) -> dict[str, object]:
        return {}

    def record(self, entry: object) -> None:
        raise AssertionError("nothing may be recorded")

    def forget_all(self) -> None:
        pass


def test_the_commands_answer_one_line_naming_the_field(
    clinic_desk: Desk, db_url: str, tmp_path: Path, radicale_server: CalDAVServer
) -> None:
    """Whichever refuses it first, the clinic file's validation or the export: one line."""
    clinic = tmp_path / "bad-clinic.toml"
    clinic.write_text(
        'name = "Example Clinic"\ntimezone = "Asia/Seoul"\n'
        'email = "desk@clinic.example\\r\\nX-INJECTED:1"\n[hours]\nmon = "09:00-18:00"\n',
        encoding="utf-8",
    )
    password = tmp_path / "password"
    password.write_text(radicale_server.password, encoding="utf-8")
    common = ("--db", db_url, "--clinic", str(clinic))
    exported = run_visitplan("export", "--all", *common)
    assert_one_line_error(exported, "email")
    published = run_visitplan(
        "publish", "--caldav", radicale_server.calendar_url("c"), "--create",
        "--user", radicale_server.user, "--password-file", str(password), *common,
    )  # fmt: skip
    assert_one_line_error(published, "email")

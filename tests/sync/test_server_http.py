"""The HTTP layer alone, against a real uvicorn, with feeds held in memory.

The end-to-end tests (records, export, `visitplan serve`) are in test_feeds_e2e.py;
these pin down the protocol details that do not need a database.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from visitplan.errors import InputError
from visitplan.sync.feeds import Feed, FeedScope, FeedSettings, Snapshot, new_token, token_hash
from visitplan.sync.server import make_feed_app

MODIFIED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@dataclass
class MemorySource:
    version: int = 1
    feeds: dict[str, Feed] = field(default_factory=dict)
    renders: list[tuple[FeedSettings, dt.date]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0
    broken: bool = False
    refused: bool = False  # the export refuses the data (InputError), not a bug

    def add(self, scope: str) -> str:
        token = new_token()
        feed = Feed(
            len(self.feeds) + 1,
            FeedSettings(FeedScope.parse(scope)),
            token_hash(token),
            MODIFIED,
            "tester",
        )
        self.feeds[feed.token_hash] = feed
        return token

    def snapshot(self) -> Snapshot:
        return Snapshot(str(self.version), dict(self.feeds))

    def render(self, settings: FeedSettings, since: dt.date) -> tuple[bytes, dt.datetime]:
        with self.lock:
            self.renders.append((settings, since))
        time.sleep(self.delay)
        if self.broken:
            raise ValueError("Patient Jin Park cannot be shown")
        if self.refused:
            raise InputError("clinic file: email 'desk@x\\r\\n' holds a line break")
        text = f"BEGIN:VCALENDAR\r\nX-SCOPE:{settings.scope}\r\nX-V:{self.version}\r\n"
        return (text + "END:VCALENDAR\r\n").encode(), MODIFIED


@pytest.fixture
def source() -> MemorySource:
    return MemorySource()


@pytest.fixture
def base(source: MemorySource, serve_app: Callable[[Any], str]) -> str:
    return serve_app(make_feed_app(source, recheck_seconds=0))


def test_a_feed_is_served_with_validators(source: MemorySource, base: str) -> None:
    token = source.add("clinician:Dr Kim")
    response = httpx.get(f"{base}/feeds/{token}.ics", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert b"X-SCOPE:clinician:Dr Kim" in response.content
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"] == "Mon, 02 Mar 2026 09:30:00 GMT"
    assert "private" in response.headers["cache-control"]


def test_the_etag_gives_304_and_a_change_gives_a_new_body(source: MemorySource, base: str) -> None:
    token = source.add("clinic")
    url = f"{base}/feeds/{token}.ics"
    first = httpx.get(url)
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    by_date = httpx.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert by_date.status_code == 304
    source.version = 2
    changed = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    assert b"X-V:2" in changed.content
    assert changed.headers["etag"] != first.headers["etag"]


def test_gzip_is_sent_when_asked_and_its_etag_still_validates(
    source: MemorySource, base: str
) -> None:
    token = source.add("clinic")
    url = f"{base}/feeds/{token}.ics"
    with httpx.Client() as client:
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        raw = client.send(client.build_request("GET", url), stream=True)
        wire = b"".join(raw.iter_raw())
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.headers["etag"] != plain.headers["etag"]
    assert gzip.decompress(wire) == plain.content
    for tag in (raw.headers["etag"], plain.headers["etag"]):
        assert httpx.get(url, headers={"If-None-Match": tag}).status_code == 304


def test_the_body_is_rendered_once_per_version(source: MemorySource, base: str) -> None:
    token = source.add("clinic")
    for _ in range(5):
        assert httpx.get(f"{base}/feeds/{token}.ics").status_code == 200
    assert len(source.renders) == 1
    source.version = 7
    httpx.get(f"{base}/feeds/{token}.ics")
    assert len(source.renders) == 2


def test_head_has_the_headers_and_no_body(source: MemorySource, base: str) -> None:
    token = source.add("clinic")
    get = httpx.get(f"{base}/feeds/{token}.ics", headers={"Accept-Encoding": "identity"})
    head = httpx.head(f"{base}/feeds/{token}.ics", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))


def test_unknown_and_revoked_tokens_get_a_bare_404(source: MemorySource, base: str) -> None:
    token = source.add("patient:MRN-1")
    unknown = httpx.get(f"{base}/feeds/{new_token()}.ics")
    nowhere = httpx.get(f"{base}/nothing/here")
    assert unknown.status_code == nowhere.status_code == 404
    assert unknown.text == nowhere.text == "Not Found"
    source.feeds.clear()
    revoked = httpx.get(f"{base}/feeds/{token}.ics")
    assert (revoked.status_code, revoked.text) == (404, "Not Found")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "PROPFIND"])
def test_other_methods_get_405(source: MemorySource, base: str, method: str) -> None:
    token = source.add("clinic")
    response = httpx.request(method, f"{base}/feeds/{token}.ics")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert "Traceback" not in response.text


def test_the_token_never_reaches_the_log(
    source: MemorySource, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = source.add("clinic")
    with caplog.at_level(logging.DEBUG):
        httpx.get(f"{base}/feeds/{token}.ics")
        httpx.get(f"{base}/feeds/{token}x.ics")
        httpx.post(f"{base}/feeds/{token}.ics")
        httpx.get(f"{base}/feed/{token}.ics")
    # The client's own loggers (httpx, httpcore) print its URL; only the server's count.
    text = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "GET /feeds/<token> (feed 1) 200" in text
    assert "GET /feeds/<token> 404" in text
    assert "POST /feeds/<token> 405" in text
    assert "GET <other path> 404" in text
    assert token not in text


def test_a_slow_rebuild_serves_the_previous_version_meanwhile(
    source: MemorySource, serve_app: Callable[[Any], str]
) -> None:
    base = serve_app(make_feed_app(source, recheck_seconds=0, fresh_wait_seconds=0.2))
    token = source.add("clinic")
    url = f"{base}/feeds/{token}.ics"
    old = httpx.get(url)
    source.version, source.delay = 2, 1.0
    meanwhile = httpx.get(url)
    assert meanwhile.status_code == 200
    assert meanwhile.headers["etag"] == old.headers["etag"]
    time.sleep(1.5)
    fresh = httpx.get(url)
    assert b"X-V:2" in fresh.content
    assert len(source.renders) == 2


def test_a_feed_that_cannot_be_built_is_a_bare_500_and_a_quiet_log(
    source: MemorySource, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = source.add("patient:MRN-9")
    source.broken = True
    with caplog.at_level(logging.INFO, logger="visitplan"):
        response = httpx.get(f"{base}/feeds/{token}.ics")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert "feed 1 could not be read (ValueError)" in caplog.text
    assert "Jin Park" not in caplog.text
    source.broken = False
    assert httpx.get(f"{base}/feeds/{token}.ics").status_code == 200


def test_a_feed_the_export_refuses_is_a_503_logged_once_with_its_reason(
    source: MemorySource, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = source.add("clinic")
    source.refused = True
    url = f"{base}/feeds/{token}.ics"
    with caplog.at_level(logging.INFO, logger="visitplan"):
        answers = [httpx.get(url) for _ in range(3)]
    assert {(a.status_code, a.text) for a in answers} == {(503, "Service Unavailable")}
    assert answers[0].headers["retry-after"] == "300"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    reason = "clinic file: email 'desk@x\\r\\n' holds a line break"
    assert errors == [f"feed 1 cannot be built: {reason}"]
    assert len(source.renders) == 1  # the same records give the same refusal: not rebuilt
    source.refused, source.version = False, 2
    assert httpx.get(url).status_code == 200


def test_a_feed_that_fails_later_serves_its_previous_version(
    source: MemorySource, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = source.add("clinic")
    url = f"{base}/feeds/{token}.ics"
    good = httpx.get(url)
    for failure in ("refused", "broken"):
        setattr(source, failure, True)
        source.version += 1
        with caplog.at_level(logging.INFO, logger="visitplan"):
            again = httpx.get(url)
        assert (again.status_code, again.headers["etag"]) == (200, good.headers["etag"])
        assert "its previous version is served" in caplog.text
        assert "Jin Park" not in caplog.text
        setattr(source, failure, False)

"""Feeds and the publish ledger in the database (``records.schema.FEEDS``, ``PUBLISHED``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Engine, delete, insert, select, update

from visitplan.errors import InputError
from visitplan.records.schema import FEEDS, PUBLISHED
from visitplan.sync.feeds import (
    Audience,
    Feed,
    FeedScope,
    FeedSettings,
    Privacy,
    new_token,
    token_hash,
)
from visitplan.sync.publish import Published, without_credentials


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _aware(stored: dt.datetime | None) -> dt.datetime | None:
    return None if stored is None else stored.replace(tzinfo=dt.UTC)


def _feed(row: Any) -> Feed:
    settings = FeedSettings(
        FeedScope.parse(row.scope), cast(Audience, row.audience), cast(Privacy, row.privacy)
    )
    created = _aware(row.created_at)
    assert created is not None
    return Feed(row.id, settings, row.token_hash, created, row.created_by, _aware(row.revoked_at))


class FeedStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, settings: FeedSettings, user: str) -> tuple[Feed, str]:
        """A new feed and its token: the only time the token is ever seen."""
        token = new_token()
        with self.engine.begin() as connection:
            result = connection.execute(
                insert(FEEDS).values(
                    token_hash=token_hash(token),
                    scope=str(settings.scope),
                    audience=settings.audience,
                    privacy=settings.privacy,
                    created_at=_utc_now(),
                    created_by=user,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            row = connection.execute(select(FEEDS).where(FEEDS.c.id == key[0])).one()
        return _feed(row), token

    def all(self) -> list[Feed]:
        with self.engine.connect() as connection:
            return [_feed(r) for r in connection.execute(select(FEEDS).order_by(FEEDS.c.id))]

    def active(self) -> dict[str, Feed]:
        """Feeds that may be served, by token hash."""
        query = select(FEEDS).where(FEEDS.c.revoked_at.is_(None))
        with self.engine.connect() as connection:
            return {r.token_hash: _feed(r) for r in connection.execute(query)}

    def revoke(self, feed_id: int, user: str) -> Feed:
        with self.engine.begin() as connection:
            row = connection.execute(select(FEEDS).where(FEEDS.c.id == feed_id)).one_or_none()
            if row is None:
                raise InputError(f"feed {feed_id}: no such feed (see `visitplan feed list`)")
            if row.revoked_at is not None:
                raise InputError(f"feed {feed_id} was already revoked on {row.revoked_at:%Y-%m-%d}")
            connection.execute(
                update(FEEDS)
                .where(FEEDS.c.id == feed_id)
                .values(revoked_at=_utc_now(), revoked_by=user)
            )
            row = connection.execute(select(FEEDS).where(FEEDS.c.id == feed_id)).one()
        return _feed(row)


class SqlLedger:
    """What was published to one calendar; each write commits on its own, so a run
    that dies half-way keeps what it did."""

    def __init__(self, engine: Engine, calendar_url: str) -> None:
        self.engine = engine
        # One calendar, one ledger, and no password stored (migration 0003s cleaned old rows).
        self.calendar_url = without_credentials(calendar_url)

    def entries(self) -> dict[str, Published]:
        query = select(PUBLISHED).where(PUBLISHED.c.calendar_url == self.calendar_url)
        with self.engine.connect() as connection:
            return {
                r.uid: Published(r.uid, r.href, r.etag, r.sequence, r.fingerprint)
                for r in connection.execute(query)
            }

    def record(self, entry: Published) -> None:
        values = {
            "href": entry.href,
            "etag": entry.etag,
            "sequence": entry.sequence,
            "fingerprint": entry.fingerprint,
            "published_at": _utc_now(),
        }
        mine = (PUBLISHED.c.calendar_url == self.calendar_url) & (PUBLISHED.c.uid == entry.uid)
        with self.engine.begin() as connection:
            if connection.execute(update(PUBLISHED).where(mine).values(**values)).rowcount == 0:
                connection.execute(
                    insert(PUBLISHED).values(
                        calendar_url=self.calendar_url, uid=entry.uid, **values
                    )
                )

    def forget_all(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(PUBLISHED).where(PUBLISHED.c.calendar_url == self.calendar_url)
            )

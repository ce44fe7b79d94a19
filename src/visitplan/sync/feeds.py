"""Feeds: what a subscription shows (its scope) and the secret in its URL.

A feed's token is the only thing that guards a patient list, so it is 128 random
bits, only its SHA-256 is stored, and it is compared in constant time. Nothing
here touches the network or the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from visitplan.errors import InputError

ScopeKind = Literal["clinic", "clinician", "patient"]
Audience = Literal["staff", "patient"]
Privacy = Literal["full", "initials", "none"]
AUDIENCES: tuple[Audience, ...] = ("staff", "patient")
# How far back a feed or a publish reaches: cancelled visits stay visible that long.
LOOKBACK_DAYS = 30
PRIVACY_LEVELS: tuple[Privacy, ...] = ("full", "initials", "none")


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Whose visits: the whole clinic, one clinician's, or one patient's."""

    kind: ScopeKind
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> FeedScope:
        kind, colon, value = text.strip().partition(":")
        value = value.strip()
        if kind == "clinic" and not colon:
            return cls("clinic")
        if kind in ("clinician", "patient") and value:
            return cls(kind, value)  # type: ignore[arg-type]
        raise InputError(f"scope {text!r}: expected 'clinic', 'clinician:NAME' or 'patient:MRN'")

    def __str__(self) -> str:
        return self.kind if self.kind == "clinic" else f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Everything a feed's body depends on besides the records themselves."""

    scope: FeedScope
    audience: Audience = "staff"
    privacy: Privacy = "initials"

    @classmethod
    def parse(
        cls, scope: str, audience: str | None = None, privacy: str = "initials"
    ) -> FeedSettings:
        """From command-line text; a patient scope means the patient audience unless told."""
        where = FeedScope.parse(scope)
        chosen = audience or ("patient" if where.kind == "patient" else "staff")
        return cls(where, cast(Audience, chosen), cast(Privacy, privacy))

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise InputError(f"audience {self.audience!r}: expected one of {', '.join(AUDIENCES)}")
        if self.privacy not in PRIVACY_LEVELS:
            raise InputError(
                f"privacy {self.privacy!r}: expected one of {', '.join(PRIVACY_LEVELS)}"
            )
        # The patient audience is one patient's own calendar: nobody else may show up in it.
        if self.audience == "patient" and self.scope.kind != "patient":
            raise InputError(
                f"audience 'patient' needs a patient scope (patient:MRN), not {self.scope}"
            )


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as stored: its settings and the hash of its token (never the token)."""

    id: int
    settings: FeedSettings
    token_hash: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_token() -> str:
    """128 bits from the OS's CSPRNG, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def token_hash(token: str) -> str:
    # A plain hash is enough: the token has 128 bits of entropy, so there is
    # nothing to brute-force that a slow hash would protect.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/feeds/{token}.ics"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the feed server must know before it can answer a poll."""

    version: str
    feeds: Mapping[str, Feed]  # active feeds by token hash


@dataclass(frozen=True, slots=True)
class FeedBody:
    """One serialized version of a feed, ready to send many times."""

    body: bytes
    gzipped: bytes
    etag: str  # quoted, strong: the hash of the body, so equal bodies share it
    last_modified: dt.datetime

    @classmethod
    def of(cls, body: bytes, last_modified: dt.datetime) -> FeedBody:
        import gzip

        digest = hashlib.sha256(body).hexdigest()[:32]
        # mtime=0: the same body always compresses to the same bytes.
        return cls(body, gzip.compress(body, 6, mtime=0), f'"{digest}"', last_modified)


@dataclass(frozen=True, slots=True)
class CacheKey:
    """A body stays right until the records change or the look-back moves on a day."""

    version: str
    since: dt.date


class BodyCache:
    """The newest body of each feed setting; an older version is never asked for again."""

    def __init__(self) -> None:
        self._entries: dict[FeedSettings, tuple[CacheKey, FeedBody]] = {}

    def get(self, settings: FeedSettings, key: CacheKey) -> FeedBody | None:
        entry = self._entries.get(settings)
        return entry[1] if entry is not None and entry[0] == key else None

    def latest(self, settings: FeedSettings) -> FeedBody | None:
        """The newest body of that feed, whatever version it was rendered for."""
        entry = self._entries.get(settings)
        return entry[1] if entry is not None else None

    def put(self, settings: FeedSettings, key: CacheKey, body: FeedBody) -> None:
        self._entries[settings] = (key, body)

    def __len__(self) -> int:
        return len(self._entries)

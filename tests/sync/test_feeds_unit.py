"""Scopes, settings and tokens: the rules a feed is made with."""

from __future__ import annotations

import base64

import pytest

from visitplan.errors import InputError
from visitplan.sync.feeds import (
    FeedScope,
    FeedSettings,
    feed_url,
    new_token,
    token_hash,
    token_matches,
)


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("clinic", FeedScope("clinic")),
        ("clinician:Dr Kim", FeedScope("clinician", "Dr Kim")),
        ("patient: MRN-7 ", FeedScope("patient", "MRN-7")),
        ("clinician:김 선생", FeedScope("clinician", "김 선생")),
    ],
)
def test_scopes_parse_and_print_back(text: str, scope: FeedScope) -> None:
    assert FeedScope.parse(text) == scope
    assert FeedScope.parse(str(scope)) == scope


@pytest.mark.parametrize("text", ["", "clinic:all", "clinician", "patient:", "ward:3", "Clinic"])
def test_bad_scopes_are_one_clear_line(text: str) -> None:
    with pytest.raises(InputError, match="expected 'clinic', 'clinician:NAME' or 'patient:MRN'"):
        FeedScope.parse(text)


def test_a_patient_audience_needs_a_patient_scope() -> None:
    with pytest.raises(InputError, match="needs a patient scope"):
        FeedSettings(FeedScope("clinician", "Dr Kim"), "patient")
    assert FeedSettings(FeedScope("patient", "MRN-1"), "patient").audience == "patient"


@pytest.mark.parametrize(
    ("scope", "audience", "expected"),
    [
        ("patient:MRN-1", None, "patient"),
        ("patient:MRN-1", "staff", "staff"),
        ("clinician:Dr Kim", None, "staff"),
        ("clinic", None, "staff"),
    ],
)
def test_a_patient_scope_means_the_patient_audience_unless_told(
    scope: str, audience: str | None, expected: str
) -> None:
    settings = FeedSettings.parse(scope, audience, "none")
    assert settings.scope == FeedScope.parse(scope)
    assert (settings.audience, settings.privacy) == (expected, "none")


def test_settings_from_bad_text_are_one_clear_line() -> None:
    with pytest.raises(InputError, match="privacy 'everything'"):
        FeedSettings.parse("clinic", None, "everything")
    with pytest.raises(InputError, match="needs a patient scope"):
        FeedSettings.parse("clinic", "patient")


def test_tokens_carry_128_random_bits_and_only_their_hash_is_kept() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in list(tokens)[:20]:
        assert len(base64.urlsafe_b64decode(token + "==")) == 16
        stored = token_hash(token)
        assert len(stored) == 64
        assert token not in stored
        assert token_matches(token, stored)
        assert not token_matches(token[:-1] + ("A" if token[-1] != "A" else "B"), stored)


def test_the_url_holds_the_token_once() -> None:
    assert (
        feed_url("https://clinic.example/cal/", "abc") == "https://clinic.example/cal/feeds/abc.ics"
    )

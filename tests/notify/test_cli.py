"""Consent and the outbox from the command line, and the SMTP settings as typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.notify.support import PATIENT, next_monday
from tests.support.cli import Result, assert_one_line_error, run_visitplan
from visitplan.errors import InputError
from visitplan.records.patients import check_patient
from visitplan.sync.mail import smtp_settings

MRN, NAME, EMAIL = PATIENT


@pytest.fixture
def common(tmp_path: Path, mail_clinic_file: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'records.sqlite3'}", "--clinic", str(mail_clinic_file)]


def add_consenting(common: list[str], home: dict[str, str]) -> Result:
    return run_visitplan(
        "patient", "add", MRN, "--name", NAME, "--email", EMAIL, "--notify", "email",
        *common, env=home,
    )  # fmt: skip


def test_consent_is_recorded_shown_and_refused_without_an_address(
    common: list[str], visitplan_home: dict[str, str]
) -> None:
    home = visitplan_home
    refused = run_visitplan(
        "patient", "add", MRN, "--name", NAME, "--notify", "email", *common, env=home
    )
    assert_one_line_error(refused, "notify email needs the patient's e-mail address")
    odd = run_visitplan("patient", "add", MRN, "--name", NAME, "--notify", "sms", *common, env=home)
    assert_one_line_error(odd, "--notify", "invalid choice")
    added = add_consenting(common, home)
    assert added.status == 0, added.err
    shown = run_visitplan("patient", "show", MRN, *common, env=home)
    assert "e-mail messages: invitations and reminders" in shown.out
    document = json.loads(run_visitplan("patient", "show", MRN, "--json", *common, env=home).out)
    assert document["notify"] == "email"
    plain = run_visitplan("patient", "add", "M-2", "--name", "Sam Sample", *common, env=home)
    assert plain.status == 0
    assert (
        json.loads(run_visitplan("patient", "show", "M-2", "--json", *common, env=home).out)[
            "notify"
        ]
        == "none"
    )


def test_the_outbox_listed_and_previewed(common: list[str], visitplan_home: dict[str, str]) -> None:
    home = visitplan_home
    add_consenting(common, home)
    start = next_monday().isoformat()
    enrolled = run_visitplan(
        "enroll", MRN, "dextrose-prolotherapy", "--start", start, *common, env=home
    )
    assert enrolled.status == 0, enrolled.err
    listed = json.loads(run_visitplan("notify", "list", "--json", *common, env=home).out)
    assert [m["kind"] for m in listed].count("request") == 7
    assert {m["status"] for m in listed} == {"pending"}
    assert {m["mrn"] for m in listed} == {MRN}
    assert (
        run_visitplan(
            "notify", "list", "--status", "failed", "--json", *common, env=home
        ).out.strip()
        == "[]"
    )
    table = run_visitplan("notify", "list", "--limit", "2", *common, env=home)
    assert table.out.splitlines()[0].split() == [
        "ID",
        "STATUS",
        "KIND",
        "VISIT",
        "MRN",
        "DUE",
        "TRIES",
        "SUBJECT",
        "OR",
        "WHY",
    ]
    assert len(table.out.splitlines()) == 3

    preview = run_visitplan("notify", "preview", MRN, *common, env=home)
    assert preview.status == 0, preview.err
    assert preview.out.count("== outbox ") == 14
    assert f"To: {EMAIL}" in preview.out
    assert "Subject: Appointment: Treatment visit at Example Clinic" in preview.out
    assert "-- text/calendar; method=REQUEST" in preview.out
    assert "METHOD:REQUEST" in preview.out
    assert "Subject: Reminder: " in preview.out
    # Previewing sends nothing and changes nothing.
    again = json.loads(run_visitplan("notify", "list", "--json", *common, env=home).out)
    assert again == listed
    raw = run_visitplan("notify", "preview", MRN, "--raw", *common, env=home)
    assert raw.out.count("Message-ID: <") == 14

    run_visitplan("patient", "add", "M-2", "--name", "Sam Sample", *common, env=home)
    none = run_visitplan("notify", "preview", "M-2", *common, env=home)
    assert none.out.strip() == "M-2 has not agreed to e-mail (notify none): nothing is sent"


def test_sending_needs_a_mail_server(common: list[str], visitplan_home: dict[str, str]) -> None:
    missing = run_visitplan("notify", "send", *common, env=visitplan_home)
    assert_one_line_error(missing, "VISITPLAN_SMTP_URL is not set")
    wrong = run_visitplan(
        "notify",
        "send",
        *common,
        env={**visitplan_home, "VISITPLAN_SMTP_URL": "http://mail.example"},
    )
    assert_one_line_error(wrong, "VISITPLAN_SMTP_URL", "use smtp:// or smtps://")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://desk@mail.example", ("mail.example", 587, "starttls", "desk")),
        ("smtps://desk@mail.example", ("mail.example", 465, "implicit", "desk")),
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, "starttls", None)),
        ("smtp://front%40desk@[::1]:25", ("::1", 25, "starttls", "front@desk")),
    ],
)
def test_urls_that_are_understood(url: str, expected: tuple[object, ...]) -> None:
    got = smtp_settings({"VISITPLAN_SMTP_URL": url})
    assert (got.host, got.port, got.tls, got.user) == expected


def test_the_password_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    url = {"VISITPLAN_SMTP_URL": "smtp://desk@mail.example"}
    assert smtp_settings({**url, "VISITPLAN_SMTP_PASSWORD": "s3cret"}).password == "s3cret"
    secret = tmp_path / "pw"
    secret.write_text("from file\nignored\n", encoding="utf-8")
    assert smtp_settings(url, password_file=str(secret)).password == "from file"
    assert "s3cret" not in repr(smtp_settings({**url, "VISITPLAN_SMTP_PASSWORD": "s3cret"}))
    with pytest.raises(InputError, match="cannot read the SMTP password file"):
        smtp_settings(url, password_file=str(tmp_path / "absent"))
    with pytest.raises(InputError, match="names no user"):
        smtp_settings({"VISITPLAN_SMTP_URL": "smtp://mail.example", "VISITPLAN_SMTP_PASSWORD": "x"})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_url_as_typed_is_settings_or_one_line(text: str) -> None:
    try:
        got = smtp_settings({"VISITPLAN_SMTP_URL": text})
    except InputError as exc:
        message = exc.message
    else:
        message = ""
    if message:
        assert "\n" not in message
        return
    assert got.host
    assert 0 < got.port < 65536


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[!-~]{0,12}", fullmatch=True))
def test_a_password_in_the_url_is_always_refused_and_never_repeated(user: str, tail: str) -> None:
    password = "Zq9" + tail.translate({ord(c): None for c in "@/#?"})
    with pytest.raises(InputError, match="password in the URL is refused") as refused:
        smtp_settings({"VISITPLAN_SMTP_URL": f"smtp://{user}:{password}@mail.example:587"})
    assert "Zq9" not in refused.value.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.one_of(st.none(), st.just(EMAIL)))
def test_any_consent_value_as_typed_is_email_none_or_one_line(text: str, email: str | None) -> None:
    """What the CLI's choices, a form or a CSV cell may hand the Desk."""
    try:
        fields = check_patient(MRN, NAME, None, email, notify=text)
    except InputError as exc:
        refused = exc.message
    else:
        refused = ""
    if refused:
        assert "\n" not in refused
        assert refused.startswith(f"MRN {MRN}: notify ")
        return
    assert fields["notify"] == (text.strip().lower() or "none")
    assert fields["notify"] == "none" or fields["email"] == EMAIL

"""The two secure ways to the server, for real: STARTTLS with a login on smtp://, and
TLS from the first byte on smtps://, against a certificate this test makes (trusted
through SSL_CERT_FILE, as an operator would add a clinic's own CA)."""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.notify.conftest import SmtpServer
from tests.notify.support import PATIENT, next_monday
from tests.support.cli import assert_one_line_error, run_visitplan
from visitplan.records.operations import Desk

pytestmark = pytest.mark.slow
USER, PASSWORD = "desk", "correct horse battery"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def records(tmp_path: Path, mail_clinic_file: Path, open_mail_desk: Any) -> Iterator[list[str]]:
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    desk: Desk = open_mail_desk(url)
    mrn, name, email = PATIENT
    desk.add_patient(mrn, name, email=email, notify="email")
    desk.enroll(mrn, "dextrose-prolotherapy", next_monday(), dt.time(10))
    return ["--db", url, "--clinic", str(mail_clinic_file)]


def _env(home: dict[str, str], cert: Path, url: str, **more: str) -> dict[str, str]:
    return {**home, "SSL_CERT_FILE": str(cert), "VISITPLAN_SMTP_URL": url, **more}


def test_starttls_and_a_login_with_the_password_from_a_file(
    records: list[str], certificate: tuple[Path, Path], tmp_path: Path,
    visitplan_home: dict[str, str],
) -> None:  # fmt: skip
    server = SmtpServer(
        tls_context=_server_context(certificate), require_starttls=True,
        authenticator=_authenticator, auth_required=True,
    ).start()  # fmt: skip
    secret = tmp_path / "smtp-password"
    secret.write_text(f"{PASSWORD}\n", encoding="utf-8")
    try:
        url = f"smtp://{USER}@127.0.0.1:{server.port}"
        wrong = tmp_path / "wrong"
        wrong.write_text("not it\n", encoding="utf-8")
        refused = run_visitplan(
            "notify", "send", *records, "--password-file", str(wrong),
            env=_env(visitplan_home, certificate[0], url),
        )  # fmt: skip
        assert_one_line_error(refused, "refused the login (535)")
        assert server.inbox.messages() == []
        done = run_visitplan(
            "notify", "send", *records,
            env=_env(visitplan_home, certificate[0], url, VISITPLAN_SMTP_PASSWORD_FILE=str(secret)),
        )  # fmt: skip
        assert done.status == 0, done.err
        assert len(server.inbox.messages()) == 7
    finally:
        server.stop()


def test_smtps_from_the_first_byte_with_a_certificate_that_must_be_trusted(
    records: list[str], certificate: tuple[Path, Path], visitplan_home: dict[str, str]
) -> None:
    server = SmtpServer(ssl_context=_server_context(certificate)).start()
    try:
        url = f"smtps://127.0.0.1:{server.port}"
        untrusted = {**visitplan_home, "VISITPLAN_SMTP_URL": url}
        refused = run_visitplan("notify", "send", *records, env=untrusted)
        assert_one_line_error(refused, "cannot reach the SMTP server", "CERTIFICATE_VERIFY_FAILED")
        assert server.inbox.messages() == []
        trusted = _env(visitplan_home, certificate[0], url)
        done = run_visitplan("notify", "send", *records, env=trusted)
        assert done.status == 0, done.err
        assert len(server.inbox.messages()) == 7
    finally:
        server.stop()

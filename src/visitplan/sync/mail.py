"""Sending the outbox through SMTP: `visitplan notify send`, and `serve --notify`.

The mail server is ``VISITPLAN_SMTP_URL``: ``smtp://[user@]host[:587]`` speaks
STARTTLS (required, except to a relay on this machine), ``smtps://[user@]host[:465]``
TLS from the first byte. The password comes from ``VISITPLAN_SMTP_PASSWORD`` or
the first line of a file (``--password-file``, ``VISITPLAN_SMTP_PASSWORD_FILE``),
never from the URL or the command line.

What the server answers decides a message's fate: 250 after DATA, sent; 4xx,
tried again later (``sending.deferred``); 5xx for the recipient or the content,
failed. A server that cannot be reached, refuses the login or the clinic's own
address, or drops the connection stops the run (``SmtpUnavailable``): nothing more
is claimed, and the next run goes on. The log names outbox ids and SMTP codes,
never an address: a server's reply text can quote one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self
from urllib.parse import unquote, urlsplit

from visitplan.errors import InputError
from visitplan.records import sending
from visitplan.records.messages import require_sender

if TYPE_CHECKING:
    from visitplan.records.operations import Desk

log = logging.getLogger("visitplan.notify")

BATCH = 20  # claimed at once: a crash leaves these few to send again
PER_CONNECTION = 100  # many servers refuse more messages in one session
INTERVAL = 30.0  # seconds between runs of `serve --notify`
LONGEST_PAUSE = 900.0  # its longest wait after the server could not be reached
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


class SmtpUnavailable(Exception):
    """The run cannot go on (one line saying why); messages wait for the next."""


class _Temporary(Exception):
    pass


class _Permanent(Exception):
    pass


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    tls: Literal["implicit", "starttls"]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def local(self) -> bool:
        """A relay on this machine: the one place mail may go without TLS."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


def smtp_settings(
    env: Mapping[str, str] | None = None, password_file: str | None = None
) -> SmtpSettings:
    """The mail server from the environment, or one line saying what is wrong."""
    env = os.environ if env is None else env
    text = env.get("VISITPLAN_SMTP_URL", "").strip()
    if not text:
        raise InputError(
            "VISITPLAN_SMTP_URL is not set: the mail server to send through, "
            "like smtp://desk@mail.example:587 (STARTTLS) or smtps://desk@mail.example"
        )
    where = "VISITPLAN_SMTP_URL"
    authority = text.partition("://")[2].partition("/")[0]
    if ":" in authority.rpartition("@")[0]:
        # Looked for before parsing: a URL too broken to parse may still hold one.
        raise InputError(
            f"{where}: a password in the URL is refused (process lists and logs show URLs); "
            "put it in VISITPLAN_SMTP_PASSWORD or a password file"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise InputError(f"{where}: not a URL like smtp://user@host:587 ({exc})") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise InputError(f"{where}: {parts.scheme or 'no'} scheme; use smtp:// or smtps://")
    if not host:
        raise InputError(f"{where}: no host, as in smtp://user@host:587")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(f"{where}: only smtp[s]://[user@]host[:port], nothing after the port")
    user = unquote(parts.username) if parts.username else None
    password = _password(env, password_file)
    if password is not None and user is None:
        raise InputError(f"{where}: a password is set but the URL names no user (user@host)")
    tls: Literal["implicit", "starttls"] = "implicit" if parts.scheme == "smtps" else "starttls"
    default_port = 465 if tls == "implicit" else 587
    return SmtpSettings(host, port or default_port, tls, user, password)


def _password(env: Mapping[str, str], password_file: str | None) -> str | None:
    path = password_file or env.get("VISITPLAN_SMTP_PASSWORD_FILE")
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InputError(f"{path}: cannot read the SMTP password file: {reason}") from None
        return lines[0] if lines else ""
    return env.get("VISITPLAN_SMTP_PASSWORD")


class SmtpSession:
    """One connection to the mail server, logged in, for a run's messages."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self.sent = 0

    def __enter__(self) -> Self:
        return self.open()

    def open(self) -> Self:
        """Connect, secure and log in; ``SmtpUnavailable`` says why not."""
        s = self.settings
        try:
            if s.tls == "implicit":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            self._smtp = smtp
            smtp.ehlo()
            if s.tls == "starttls":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                elif not s.local:
                    raise SmtpUnavailable(
                        f"the SMTP server {s.where} does not offer STARTTLS; nothing is sent "
                        "in the clear (use smtps:// or a relay on this machine)"
                    )
            if s.user is not None:
                smtp.login(s.user, s.password or "")
        except SmtpUnavailable:
            self.close()
            raise
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SmtpUnavailable(
                f"the SMTP server {s.where} refused the login ({exc.smtp_code}); check the "
                "user in VISITPLAN_SMTP_URL and the password"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SmtpUnavailable(f"cannot reach the SMTP server {s.where}: {_why(exc)}") from None
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def send(self, message: sending.Outgoing) -> None:
        """Hand one message over; raises what the server's answer means."""
        smtp = self._smtp
        assert smtp is not None, "send() outside the session"
        options = [] if message.recipient.isascii() else ["SMTPUTF8"]
        try:
            smtp.sendmail(message.sender, [message.recipient], message.content, options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise (_Temporary if 400 <= code < 500 else _Permanent)(_reply(code, reply)) from None
        except smtplib.SMTPDataError as exc:
            kind = _Temporary if 400 <= exc.smtp_code < 500 else _Permanent
            raise kind(_reply(exc.smtp_code, exc.smtp_error)) from None
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Temporary(_reply(exc.smtp_code, exc.smtp_error)) from None
            # Every message would be refused alike: the clinic's address is the problem.
            raise SmtpUnavailable(
                f"the SMTP server {self.settings.where} refuses the clinic's address as "
                f"sender ({exc.smtp_code}); check the clinic file's email"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise _Permanent("the mail server cannot deliver to a non-ASCII address") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpUnavailable(
                f"the SMTP server {self.settings.where} dropped the connection: {_why(exc)}"
            ) from None
        self.sent += 1


def _reply(code: int, text: bytes | str) -> str:
    """The server's answer for the outbox, with any address in it taken out."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {_ADDRESS.sub('<address>', ' '.join(text.split()))}"


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code}"
    return str(exc) or type(exc).__name__


@dataclass
class SendReport:
    """What one run did, by outbox id."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    skipped: int = 0
    waiting: int = 0
    next_due: dt.datetime | None = None  # aware UTC
    stopped: str | None = None  # why the run stopped early (the server, not a message)


def deliver(
    desk: Desk,
    settings: SmtpSettings,
    *,
    session: Callable[[SmtpSettings], SmtpSession] = SmtpSession,
    batch: int = BATCH,
) -> SendReport:
    """Send what is due now; the caller holds ``sending.sender_lock``.

    Messages a stopped sender left in flight go first, as they were. The server is
    only reached if something is due, so a run with nothing to send sends nothing.
    """
    require_sender(desk.clinic)
    report = SendReport()
    now = _now(desk)
    if sending.due(desk, now):
        try:
            _run(desk, settings, session, batch, report)
        except SmtpUnavailable as exc:
            report.stopped = str(exc)
    count, first = sending.waiting(desk)
    report.waiting, report.next_due = count, first.replace(tzinfo=dt.UTC) if first else None
    return report


def _run(
    desk: Desk,
    settings: SmtpSettings,
    session: Callable[[SmtpSettings], SmtpSession],
    batch: int,
    report: SendReport,
) -> None:
    current: SmtpSession | None = None
    try:
        messages = sending.in_flight(desk)
        while True:
            if not messages:
                claimed = sending.claim(desk, _now(desk), batch)
                report.skipped += len(claimed.skipped)
                report.failed += claimed.failed
                for outbox_id in claimed.failed:
                    log.warning("outbox %d failed (no address mail can go to)", outbox_id)
                messages = claimed.messages
                if not messages:
                    if claimed.skipped or claimed.failed:
                        continue
                    return
            for index, message in enumerate(messages):
                if current is None or current.sent >= PER_CONNECTION:
                    if current is not None:
                        current.close()
                        current = None
                    try:
                        current = session(settings).open()
                    except SmtpUnavailable:
                        sending.release(desk, [m.id for m in messages[index:]])
                        raise
                try:
                    _one(desk, current, message, report)
                except SmtpUnavailable:
                    # This one may have arrived: it stays in flight, to go again as it
                    # is. The rest of the batch never left.
                    sending.release(desk, [m.id for m in messages[index + 1 :]])
                    raise
            messages = []
    finally:
        if current is not None:
            current.close()


def _one(desk: Desk, current: SmtpSession, message: sending.Outgoing, report: SendReport) -> None:
    try:
        current.send(message)
    except _Temporary as exc:
        when = sending.deferred(desk, message.id, _now(desk), str(exc))
        if when is None:
            report.failed.append(message.id)
            log.warning("outbox %d failed: %s, and kept failing", message.id, _code(exc))
        else:
            report.deferred.append(message.id)
            log.warning("outbox %d deferred (%s), next attempt %s UTC", message.id, _code(exc),
                        f"{when:%Y-%m-%d %H:%M}")  # fmt: skip
        return
    except _Permanent as exc:
        sending.refused(desk, message.id, _now(desk), str(exc))
        report.failed.append(message.id)
        log.warning("outbox %d failed (%s)", message.id, _code(exc))
        return
    sending.delivered(desk, message.id, _now(desk))
    report.sent.append(message.id)
    log.info("outbox %d sent", message.id)


def _code(exc: Exception) -> str:
    """Only the SMTP code of a reply goes to the log (the rest can quote an address)."""
    first = str(exc).split(" ", 1)[0]
    return first if first.isdigit() else type(exc).__name__.strip("_").lower()


def _now(desk: Desk) -> dt.datetime:
    """The desk's clock as the outbox stores times (naive UTC)."""
    return desk._stamp()


class SenderBeside:
    """`serve --notify`: the outbox sent every ``every`` seconds while the block runs
    (None: not at all). The settings are checked when it is made, before the server
    starts, so a mistake is one line, not a silent thread; the block holds the
    sender lock."""

    def __init__(self, desk: Desk, every: float | None) -> None:
        self.desk, self.every = desk, every
        self._stack = ExitStack()
        self._stop = threading.Event()
        self._settings: SmtpSettings | None = None
        if every is None:
            return
        if not every > 0:
            raise InputError(f"--notify {every:g}: the seconds between runs must be more than 0")
        self._settings = smtp_settings()
        require_sender(desk.clinic)

    def __enter__(self) -> Self:
        if self._settings is None or self.every is None:
            return self
        self._stack.enter_context(sending.sender_lock(self.desk))
        worker = threading.Thread(
            target=_keep_sending,
            args=(self.desk, self._settings, self._stop, self.every),
            daemon=True,
            name="visitplan-notify",
        )
        worker.start()
        self._stack.callback(worker.join, 60)
        self._stack.callback(self._stop.set)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stack.close()


def _keep_sending(desk: Desk, settings: SmtpSettings, stop: threading.Event, every: float) -> None:
    pause = every
    while not stop.is_set():
        try:
            report = deliver(desk, settings)
        except Exception as exc:
            # The message could name a patient or the database: the log gets the type.
            log.error("the sender failed (%s); trying again in %.0f s", type(exc).__name__, pause)
            report = None
        if report is not None and report.stopped:
            log.error("%s; trying again in %.0f s", report.stopped, pause)
        if report is None or report.stopped:
            stop.wait(pause)
            pause = min(pause * 2, max(LONGEST_PAUSE, every))
            continue
        pause = every
        stop.wait(every)

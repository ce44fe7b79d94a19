"""What is kept when the TUI meets an error it did not expect: a crash report that
says where it happened, and nothing about anyone.

The report holds the exception's type, the chain of causes, each frame's file,
line and function (with the line of source code, which is ours), and the versions
of Python, visitplan and its libraries. It holds no local variables and no
exception messages: a driver error quotes the SQL parameters (names, MRNs), a
KeyError its key, a records refusal the MRN, and a report is sent on to whoever
looks after the installation. Type and place are enough to find the bug.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import traceback
from importlib import metadata
from pathlib import Path

LIBRARIES = ("textual", "rich", "sqlalchemy", "pendulum", "pydantic", "icalendar", "platformdirs")


def report_folder() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("visitplan"))


def report_text(error: BaseException, context: dict[str, str] | None = None) -> str:
    lines = [
        "visitplan crash report",
        f"when: {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
        f"python: {platform.python_version()} ({platform.platform()})",
        *(f"{name}: {_version(name)}" for name in ("visitplan", *LIBRARIES)),
        *(f"{key}: {value}" for key, value in (context or {}).items()),
        "",
        "Exception messages and local variables are left out: they can hold patient data.",
        "",
    ]
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    for depth, exc in enumerate(reversed(chain)):
        if depth:
            lines += ["", "which led to:"]
        lines.append(f"{type(exc).__module__}.{type(exc).__qualname__}")
        for frame in traceback.extract_tb(exc.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    return "\n".join(lines) + "\n"


def write_report(error: BaseException, context: dict[str, str] | None = None) -> Path | None:
    """The report's path, or None if it could not be written (the message says so)."""
    try:
        folder = report_folder()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{os.getpid()}.txt"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(report_text(error, context))
    except OSError:
        return None
    return path


def crash_message(error: BaseException, report: Path | None) -> str:
    where = (
        f"A crash report without patient data is in {report}; please send it to whoever "
        "looks after visitplan."
        if report is not None
        else "The crash report could not be written."
    )
    return (
        f"stopped after an unexpected error ({type(error).__name__}). Every change "
        f"saved before it is kept; a form that was open was not saved. {where}"
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def terminal_missing() -> str | None:
    """Why the TUI cannot start here (no terminal on standard input or output), or None."""
    for stream, name in ((sys.stdin, "input"), (sys.stdout, "output")):
        try:
            interactive = stream is not None and stream.isatty()
        except ValueError:  # closed
            interactive = False
        if not interactive:
            return (
                f"the terminal UI needs a terminal, and standard {name} is not one; "
                "in scripts use the commands (visitplan --help)"
            )
    return None

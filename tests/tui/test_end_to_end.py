"""The real `visitplan` in a real terminal (tmux) on a real SQLite file: keys in,
screen out, and the database checked afterwards."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clinics import SEOUL_CLINIC
from tests.support.tui import TuiClinic
from visitplan.cli.main import _command_names, build_parser

pytestmark = pytest.mark.slow

VISITPLAN = Path(sys.executable).with_name("visitplan")


class Terminal:
    """One tmux server of our own (its own socket), one 80x24 window."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        # Where a shell around the program writes its exit status (tmux's own
        # #{pane_dead_status} is not always filled in when the pane dies).
        self.status_file = socket.with_name("exit-status")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = [f"{k}={v}" for k, v in env.items()]
        wrapped = [
            "sh",
            "-c",
            f'"$@"; echo $? > {shlex.quote(str(self.status_file))}',
            "sh",
            "env",
            "-i",
            *exports,
            *command,
        ]
        self.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "vp", *wrapped)
        self.tmux("set-option", "-t", "vp", "remain-on-exit", "on")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "vp")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "vp", key)
            time.sleep(0.15)

    def wait_for(self, text: str, timeout: float = 15, *, gone: str | None = None) -> str:
        """The screen once it shows ``text`` (and no longer shows ``gone``).

        A capture can fall between two paints of one update (the title repainted,
        the list not yet), so what must have changed is waited for, not sampled once.
        """
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen and (gone is None or gone not in screen):
                return screen
            time.sleep(0.1)
        missing = f"{text!r}" + (f" without {gone!r}" if gone else "")
        raise AssertionError(f"{missing} did not appear; the screen was:\n{screen}")

    def exit_status(self, timeout: float = 10) -> int:
        """The program's exit status, once it has exited."""
        deadline = time.monotonic() + timeout
        while not self.status_file.exists() or not self.status_file.read_text().strip():
            assert time.monotonic() < deadline, "the program did not exit"
            time.sleep(0.05)
        return int(self.status_file.read_text())

    def exited(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.tmux("display-message", "-p", "-t", "vp", "#{pane_dead}").strip() == "1":
                return True
            time.sleep(0.1)
        return False


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: the end-to-end test drives the TUI through it")
    term = Terminal(tmp_path / "tmux.sock")
    yield term
    term.tmux("kill-server")


def test_the_tui_command_is_registered_for_the_bare_visitplan() -> None:
    parser = build_parser()
    assert "tui" in _command_names(parser)
    args = parser.parse_args(["tui", "--today", "2026-12-14"])
    assert args.run.__module__ == "visitplan.cli.tui_command"


def test_go_to_a_date_and_cancel_a_visit_in_the_real_program(
    terminal: Terminal, tui_clinic: TuiClinic, tmp_path: Path
) -> None:
    clinic_file = tmp_path / "clinic.toml"
    clinic_file.write_text(SEOUL_CLINIC, encoding="utf-8")
    env = {
        "VISITPLAN_DB": f"sqlite:///{tui_clinic.path}",
        "VISITPLAN_CLINIC": str(clinic_file),
        "VISITPLAN_PROTOCOLS": "",
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
        "TERM": "xterm-256color",
        "USER": "frontdesk",
    }
    # The bare command, as staff start it; it opens on the machine's today.
    terminal.start([str(VISITPLAN)], env)
    terminal.wait_for("· today ·")
    terminal.keys("g")
    terminal.wait_for("Go to date")
    terminal.keys("C-a", "C-k", "2026-12-14", "Enter")
    terminal.wait_for("Mon 2026-12-14")
    terminal.wait_for("· 3 visits")
    screen = terminal.wait_for("Chloe Test · P-1003")
    assert "○ scheduled" in screen
    terminal.keys("Down", "Down", "x")
    terminal.wait_for("Cancel ESWT 2 of 3 for Chloe Test (P-1003)?")
    terminal.keys("y")
    terminal.wait_for("· 2 visits", gone="Chloe Test · P-1003")
    terminal.keys("C-q")
    assert terminal.exited(), terminal.screen()
    with tui_clinic.desk() as desk:
        visits = desk.visits(mrn="P-1003")
        assert [v.status for v in visits] == ["completed", "cancelled", "scheduled", "scheduled"]
        last = desk.history("P-1003")[-1]
        assert (last.action, last.who) == ("cancelled", "frontdesk")


def tui_env(tui_clinic: TuiClinic, tmp_path: Path) -> dict[str, str]:
    clinic_file = tmp_path / "clinic.toml"
    clinic_file.write_text(SEOUL_CLINIC, encoding="utf-8")
    return {
        "VISITPLAN_DB": f"sqlite:///{tui_clinic.path}",
        "VISITPLAN_CLINIC": str(clinic_file),
        "VISITPLAN_PROTOCOLS": "",
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PATH": os.environ.get("PATH", ""),
        "TERM": "xterm-256color",
        "USER": "frontdesk",
    }


def test_a_patient_opened_from_the_agenda_closes_back_into_it(
    terminal: Terminal, tui_clinic: TuiClinic, tmp_path: Path
) -> None:
    """The path that crashed (o, then Esc), and the F-keys after it, at 80x24."""
    terminal.start([str(VISITPLAN), "tui", "--today", "2026-12-14"], tui_env(tui_clinic, tmp_path))
    screen = terminal.wait_for("Ada Example · P-1001")
    assert "Agenda — Example Clinic" in screen
    terminal.keys("o")
    screen = terminal.wait_for("Ada Example · MRN P-1001")
    assert "Patient P-1001 — Example Clinic" in screen
    assert "Session 1 of 6" in screen
    terminal.keys("Escape")
    screen = terminal.wait_for("Mon 2026-12-14 · today · 3 visits")
    assert "Agenda — Example Clinic" in screen
    assert "Ada Example · P-1001" in screen
    terminal.keys("F3")
    screen = terminal.wait_for("Dan Placeholder")
    assert "Patients — Example Clinic" in screen
    terminal.keys("F2")
    screen = terminal.wait_for("Mon 2026-12-14 · today · 3 visits", gone="Dan Placeholder")
    assert "Agenda — Example Clinic" in screen
    # Opened again, then F3 and F2: the agenda, not the patient left open on it.
    terminal.keys("o")
    terminal.wait_for("Ada Example · MRN P-1001")
    terminal.keys("F3")
    terminal.wait_for("Dan Placeholder")
    terminal.keys("F2")
    screen = terminal.wait_for("Mon 2026-12-14 · today · 3 visits", gone="Dan Placeholder")
    assert "Agenda — Example Clinic" in screen
    assert "Patient P-1001" not in screen
    assert "? Keys ^q Quit" in screen.splitlines()[-1]
    terminal.keys("C-q")
    assert terminal.exited(), terminal.screen()
    assert terminal.exit_status() == 0


def test_an_unexpected_error_says_so_writes_a_report_and_exits_non_zero(
    terminal: Terminal, tui_clinic: TuiClinic, tmp_path: Path
) -> None:
    # The real program, with one action made to fail (nothing else is changed).
    program = (
        "import sys\n"
        "from visitplan.tui.screens.agenda import AgendaScreen\n"
        "def broken(self):\n"
        "    raise KeyError('Ada Example P-1001')\n"
        "AgendaScreen.action_today = broken\n"
        "from visitplan.cli.main import main\n"
        "sys.exit(main(['tui', '--today', '2026-12-14']))\n"
    )
    terminal.start([sys.executable, "-c", program], tui_env(tui_clinic, tmp_path))
    terminal.wait_for("Ada Example · P-1001")
    terminal.keys("t")
    assert terminal.exited(), terminal.screen()
    assert terminal.exit_status() == 1
    # Joined lines from the top of the history: the message wraps at 80 columns.
    shown = terminal.tmux("capture-pane", "-p", "-J", "-S", "-100", "-t", "vp")
    screen = " ".join(shown.split())
    assert "visitplan: stopped after an unexpected error (KeyError)." in screen
    assert "Traceback" not in screen
    reports = list((tmp_path / "state" / "visitplan").glob("crash-*.txt"))
    assert len(reports) == 1
    report = reports[0].read_text(encoding="utf-8")
    assert str(reports[0]) in screen
    assert "builtins.KeyError" in report
    assert "line 4, in broken" in report  # where it happened
    assert "textual: " in report
    assert "visitplan: " in report
    # No exception message, no local variables: nothing about the patient.
    assert "Ada" not in report
    assert "P-1001" not in report
    assert oct(reports[0].stat().st_mode & 0o777) == "0o600"


def test_without_a_terminal_it_says_so_in_one_line_and_exits_2(
    tui_clinic: TuiClinic, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(VISITPLAN)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=tui_env(tui_clinic, tmp_path),
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("visitplan: the terminal UI needs a terminal")

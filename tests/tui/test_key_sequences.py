"""Random key sequences, as a new user's fingers would produce them, on `visitplan
demo`'s clinic: whatever is pressed, the app never falls over, keeps running, and
shows the title of the screen on top."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.screen import ModalScreen
from textual.widgets import Label

from tests.support.tui import TuiClinic, screen_text, settle
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.tui.app import VisitplanApp

# Every key bound on any screen, plus what people press without thinking.
SCREEN_KEYS = [
    "left_square_bracket",
    "right_square_bracket",
    "t",
    "g",
    "w",
    "d",
    "n",
    "v",
    "x",
    "o",
    "e",
    "W",
    "i",
    "h",
    "y",
    "ctrl+n",
    "ctrl+f",
    "ctrl+o",
    "ctrl+s",
    "pageup",
    "pagedown",
    "home",
    "end",
    "c",
    "s",
    "X",
    "question_mark",
    "space",
    "E",  # the patient screen: edit the record
    "C",  # the month: close a day
    "u",  # a visit: undo its outcome
]
MOVEMENT = ["escape", "enter", "up", "down", "left", "right", "tab", "shift+tab", "backspace"]
AREAS = ["f2", "f3", "f4", "f5", "f6"]
LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789-:")
KEYS = st.sampled_from(SCREEN_KEYS + MOVEMENT + AREAS + LETTERS)
SIZES = [(80, 24), (120, 40)]


HOMES = {
    "agenda": "AgendaScreen",
    "patients": "PatientsScreen",
    "month": "MonthScreen",
    "protocols": "ProtocolsScreen",
    "worklist": "WorklistScreen",
}


def check_the_screen_on_top(app: VisitplanApp) -> None:
    """The area's own home is at the bottom of its stack, and the header shows the
    title of the screen on top (a form or question over a screen keeps that
    screen's header, and shows its own heading)."""
    stack = app.screen_stack
    assert type(stack[0]).__name__ == HOMES[str(app.current_mode)]
    top = app.screen
    assert top is stack[-1]
    assert top.is_attached
    under = next(s for s in reversed(stack) if not isinstance(s, ModalScreen))
    assert under.title
    assert under.title != app.title
    text = screen_text(app)
    assert f"{under.title} — {app.sub_title}" in text.splitlines()[0]
    if isinstance(top, ModalScreen):
        heading = top.query_one(".question", Label)
        assert str(heading.content).split("\n")[0][:20] in " ".join(text.split())


def run_keys(clinic: TuiClinic, size: tuple[int, int], keys: list[str]) -> None:
    async def drive() -> None:
        app = clinic.app()
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
            await settle(pilot)
            assert app.is_running
            assert app.return_code is None
            check_the_screen_on_top(app)
        # run_test re-raises any exception the app met, with its traceback.

    asyncio.run(drive())


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(keys=st.lists(KEYS, min_size=100, max_size=140))
def test_random_keys_never_crash_the_app(
    size: tuple[int, int],
    keys: list[str],
    demo_db_file: Path,
    tmp_path: Path,
    seoul_clinic: Clinic,
    catalog: ProtocolCatalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Random keys can type a file name into the export form and save it: keep it here.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "Documents"))
    path = tmp_path / "demo-copy.sqlite3"
    shutil.copyfile(demo_db_file, path)
    run_keys(TuiClinic(path, seoul_clinic, catalog), size, keys)

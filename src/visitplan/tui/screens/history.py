"""A patient's audit history as sentences, newest first, in the clinic's time."""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from visitplan.tui.data import HistoryRow
from visitplan.tui.screens.base import Modal, deliver_latest
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.wording import moment_text


class HistoryScreen(Modal[None]):
    HOLDS_INPUT = False  # read only: an F-key may close it

    def __init__(self, mrn: str) -> None:
        super().__init__()
        self.mrn = mrn
        self.rows: list[HistoryRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"History of {self.mrn}, newest first (esc closes)", classes="question")
            yield RowList(("When", "What"), id="history")

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        rows = self.vp.data.history(self.mrn)
        deliver_latest(self, self._show, rows)

    def _show(self, rows: Sequence[HistoryRow]) -> None:
        self.rows = list(reversed(rows))  # the records give oldest first
        table = self.query_one(RowList)
        table.set_rows(
            [(moment_text(row.at), row.subject) for row in self.rows],
            notes=[row.sentence for row in self.rows],
        )
        table.focus()

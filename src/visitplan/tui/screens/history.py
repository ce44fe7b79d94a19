"""A patient's audit history: who changed what, when (newest first)."""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from visitplan.tui.data import HistoryRow
from visitplan.tui.screens.base import Modal


class HistoryScreen(Modal[None]):
    def __init__(self, mrn: str) -> None:
        super().__init__()
        self.mrn = mrn

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"History of {self.mrn} (esc closes)", classes="question")
            yield DataTable[str](id="history", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("When (UTC)", "Who", "What")
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        rows = self.vp.data.history(self.mrn)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: Sequence[HistoryRow]) -> None:
        table = self.query_one(DataTable)
        for row in reversed(rows):  # the records give oldest first
            table.add_row(f"{row.at:%Y-%m-%d %H:%M}", row.who, row.what)
        table.focus()

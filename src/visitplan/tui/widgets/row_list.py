"""A fast read-only table: a header line and rows of plain text with a cursor.

Textual's DataTable measures and renders every cell through Rich; with the several
hundred visits of a busy day that is most of a keypress's time. Here a row is
formatted once, as one line of text, and a screen's worth of lines is drawn
straight from those strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = 2  # spaces between columns


class RowList(ScrollView, can_focus=True):
    """Rows of cells under column titles; enter (or a double click) selects a row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-list--header", "row-list--cursor"}
    DEFAULT_CSS = """
    RowList {
        height: 1fr;
        background: $surface;
    }
    RowList > .row-list--header {
        text-style: bold;
        background: $panel;
    }
    RowList > .row-list--cursor {
        background: $block-cursor-blurred-background;
    }
    RowList:focus > .row-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        def __init__(self, row_list: RowList, index: int) -> None:
            super().__init__()
            self.row_list = row_list
            self.index = index

    class Selected(Message):
        def __init__(self, row_list: RowList, index: int) -> None:
            super().__init__()
            self.row_list = row_list
            self.index = index

    def __init__(self, columns: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self.rows: list[tuple[str, ...]] = []
        self._lines: list[str] = []
        self._header = ""

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def set_rows(self, rows: Sequence[Sequence[str]], cursor: int = 0) -> None:
        """Replace every row; the cursor goes to ``cursor`` (kept within the rows)."""
        self.rows = [tuple(row) for row in rows]
        widths = [cell_len(title) for title in self.columns]
        for row in self.rows:
            for index, cell in enumerate(row):
                widths[index] = max(widths[index], cell_len(cell))
        self._header = self._format(self.columns, widths)
        self._lines = [self._format(row, widths) for row in self.rows]
        width = max((cell_len(line) for line in [self._header, *self._lines]), default=0)
        self.virtual_size = Size(width, len(self.rows) + 1)
        self.cursor = max(0, min(cursor, len(self.rows) - 1))
        self.refresh()

    @staticmethod
    def _format(cells: Sequence[str], widths: Sequence[int]) -> str:
        padded = [set_cell_size(cell, width) for cell, width in zip(cells, widths, strict=False)]
        return " " + (" " * GAP).join(padded).rstrip()

    def watch_cursor(self, cursor: int) -> None:
        if not self.rows:
            return
        # Keep the cursor's row in view, below the header line.
        visible = max(1, self.size.height - 1)
        top = round(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False)
        elif cursor >= top + visible:
            self.scroll_to(y=cursor - visible + 1, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, cursor))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        x = round(self.scroll_x)
        if y == 0:
            text, style = self._header, self.get_component_rich_style("row-list--header")
        else:
            index = round(self.scroll_y) + y - 1
            if index >= len(self._lines):
                return Strip.blank(width, self.rich_style)
            text = self._lines[index]
            style = (
                self.get_component_rich_style("row-list--cursor")
                if index == self.cursor
                else Style()
            )
        line = set_cell_size(text[x:] if x else text, width)
        return Strip([Segment(line, self.rich_style + style)], width)

    def action_cursor(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(self.cursor + step, len(self.rows) - 1))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, index: int) -> None:
        if self.rows:
            self.cursor = index % len(self.rows)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.rows):
            self.cursor = index
            if event.chain >= 2:
                self.action_select()

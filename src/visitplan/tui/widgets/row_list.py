"""A fast read-only table: a header line and rows of plain text with a cursor.

Textual's DataTable measures and renders every cell through Rich; with the several
hundred visits of a busy day that is most of a keypress's time. Here a row is
formatted once per width, as lines of text, and a screen's worth of lines is drawn
straight from those strings.

A row may carry a note (why a visit moved, a warning): it is shown whole, on lines
of its own under the row, wrapped to the width, never cut. Columns marked as
optional are left out, last first, when the width has no room for them (what
they say is then on the screen's detail line).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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
NOTE_INDENT = 4


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
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-list--header",
        "row-list--cursor",
        "row-list--note",
        "row-list--dim",
    }
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
    RowList > .row-list--note {
        color: $text-warning;
    }
    RowList > .row-list--dim {
        color: $text-muted;
        text-style: italic;
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

    def __init__(
        self,
        columns: Sequence[str],
        *,
        optional: Sequence[int] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        # Column indexes that may be left out when narrow, the first given first.
        self.optional = tuple(optional)
        self.rows: list[tuple[str, ...]] = []
        self.notes: list[str] = []
        self.dim: frozenset[int] = frozenset()
        self.shown_columns: tuple[int, ...] = ()
        self._header = ""
        # Each line on screen: its text, the row it belongs to, and whether it is a note.
        self._lines: list[tuple[str, int, bool]] = []
        self._first_line: list[int] = []
        self._laid_out_for = -1

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def set_rows(
        self,
        rows: Sequence[Sequence[str]],
        cursor: int = 0,
        *,
        notes: Sequence[str] | None = None,
        dim: Collection[int] = (),
    ) -> None:
        """Replace every row; the cursor goes to ``cursor`` (kept within the rows).
        ``notes[i]`` is shown under row ``i``; rows in ``dim`` are drawn dimmed."""
        self.rows = [tuple(row) for row in rows]
        self.notes = list(notes) if notes is not None else [""] * len(self.rows)
        self.dim = frozenset(dim)
        self._layout(self._width())
        self.cursor = max(0, min(cursor, len(self.rows) - 1))
        self.refresh()

    def _width(self) -> int:
        return self.size.width or 80

    def _layout(self, width: int) -> None:
        widths = [cell_len(title) for title in self.columns]
        for row in self.rows:
            for index, cell in enumerate(row[: len(widths)]):
                widths[index] = max(widths[index], cell_len(cell))
        shown = list(range(len(self.columns)))
        for drop in self.optional:
            if _line_width(widths, shown) <= width:
                break
            if drop in shown:
                shown.remove(drop)
        self.shown_columns = tuple(shown)
        self._header = _format(self.columns, widths, shown)
        lines: list[tuple[str, int, bool]] = []
        first: list[int] = []
        note_width = max(10, width - NOTE_INDENT - 1)
        for index, row in enumerate(self.rows):
            first.append(len(lines))
            lines.append((_format(row, widths, shown), index, False))
            note = self.notes[index] if index < len(self.notes) else ""
            if note:
                for part in wrap(note, note_width):
                    lines.append((" " * NOTE_INDENT + part, index, True))
        self._lines = lines
        self._first_line = first
        self._laid_out_for = width
        self.virtual_size = Size(_line_width(widths, shown), len(lines) + 1)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for:
            self._layout(event.size.width)
            self._scroll_to_cursor()
            self.refresh()

    def _row_lines(self, row: int) -> tuple[int, int]:
        """The first and last line of ``row``."""
        first = self._first_line[row]
        if row + 1 < len(self._first_line):
            return first, self._first_line[row + 1] - 1
        return first, len(self._lines) - 1

    def _scroll_to_cursor(self) -> None:
        if not self.rows:
            return
        visible = max(1, self.size.height - 1)
        top = round(self.scroll_y)
        first, last = self._row_lines(self.cursor)
        if first < top:
            self.scroll_to(y=first, animate=False)
        elif last >= top + visible:
            self.scroll_to(y=max(first, last - visible + 1), animate=False)

    def watch_cursor(self, cursor: int) -> None:
        if not self.rows or cursor >= len(self.rows):
            return
        self._scroll_to_cursor()
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
            text, row, is_note = self._lines[index]
            style = Style()
            if is_note:
                style += self.get_component_rich_style("row-list--note")
            if row in self.dim:
                style += self.get_component_rich_style("row-list--dim")
            if row == self.cursor:
                style += self.get_component_rich_style("row-list--cursor")
            if is_note:
                x = 0  # notes are wrapped to the width: they never scroll sideways
        line = set_cell_size(text[x:] if x else text, width)
        return Strip([Segment(line, self.rich_style + style)], width)

    def action_cursor(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(self.cursor + step, len(self.rows) - 1))

    def action_page(self, direction: int) -> None:
        if not self.rows:
            return
        # As many rows as fill the visible lines (rows with notes take more).
        lines = max(1, self.size.height - 2)
        row = self.cursor
        while lines > 0 and 0 <= row + direction < len(self.rows):
            row += direction
            first, last = self._row_lines(row)
            lines -= last - first + 1
        self.cursor = row

    def action_jump(self, index: int) -> None:
        if self.rows:
            self.cursor = index % len(self.rows)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._lines):
            self.cursor = self._lines[index][1]
            if event.chain >= 2:
                self.action_select()


def _line_width(widths: Sequence[int], shown: Sequence[int]) -> int:
    return 1 + sum(widths[i] for i in shown) + GAP * max(0, len(shown) - 1)


def _format(cells: Sequence[str], widths: Sequence[int], shown: Sequence[int]) -> str:
    padded = [set_cell_size(cells[i] if i < len(cells) else "", widths[i]) for i in shown]
    return " " + (" " * GAP).join(padded).rstrip()


def wrap(text: str, width: int) -> list[str]:
    """Words on lines of at most ``width`` cells (a longer word is cut across lines)."""
    lines: list[str] = []
    line = ""
    for whole in text.split():
        word = whole
        while cell_len(word) > width:
            if line:
                lines.append(line)
                line = ""
            head = set_cell_size(word, width)
            lines.append(head)
            word = word[len(head) :]
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines

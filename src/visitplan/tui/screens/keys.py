"""Every key of a screen, with what it does: the footer shows what fits, this
shows them all."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label

from visitplan.tui.screens.base import Modal
from visitplan.tui.widgets.row_list import RowList


def keys_of(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, what it does) for every key active on ``screen``, once per action: the
    footer's keys first, in its order, then the ones it never shows (moving about)."""
    app = screen.app
    entries: list[tuple[str, str, bool]] = []
    seen: dict[str, int] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or not active.enabled:
            continue
        key = app.get_key_display(binding)
        if binding.action in seen:
            index = seen[binding.action]
            shown, what, first_shown = entries[index]
            entries[index] = (f"{shown} or {key}", what, first_shown or binding.show)
            continue
        seen[binding.action] = len(entries)
        entries.append((key, binding.tooltip or binding.description, binding.show))
    ordered = [e for e in entries if e[2]] + [e for e in entries if not e[2]]
    return [(key, what) for key, what, _ in ordered]


class KeysScreen(Modal[None]):
    HOLDS_INPUT = False  # nothing typed here: an F-key may close it

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.heading = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Keys on {self.heading} (esc closes)", classes="question")
            yield RowList(("Key", "What it does"), id="keys")

    def on_mount(self) -> None:
        keys = self.query_one(RowList)
        keys.set_rows(self.keys)
        keys.focus()

"""Textual's footer, rebuilt only when the keys it shows have changed.

Textual's Footer rebuilds its row of keys (a widget per key, each styled on
mounting) whenever the screen says its bindings may have changed. A screen that
opens and focuses a widget says so three times in a row, with the same keys each
time: two thirds of that work came before the agenda's first paint.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """The same footer (same name for the styles), skipping rebuilds that change nothing."""

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._built_for: Hashable | None = None

    def _keys_to_show(self) -> Hashable:
        """Everything the footer's keys are built from."""
        bindings = tuple(
            (name, active.binding, active.enabled, active.tooltip)
            for name, active in self.screen.active_bindings.items()
        )
        return bindings, self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE

    async def recompose(self) -> None:
        keys = self._keys_to_show()
        if keys == self._built_for:
            return
        await super().recompose()
        self._built_for = keys

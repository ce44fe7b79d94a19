"""The footer: one line of the screen's keys, as many as fit, then always the key
that lists them all (?) and Quit.

Textual's Footer builds a widget per key and rebuilds them all, later, whenever the
bindings may have changed; at 80 columns its keys ran under the command palette's
key ("^ppalet te5"). Ours is one widget that draws its line from the screen's
bindings each time it is painted. It never rebuilds anything after the fact, so it
can never act on a screen that has been closed meanwhile (the NoScreen crash: a
rebuild scheduled by the patient screen ran after Esc had removed it).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

SEPARATOR = " "  # the key is set off by its colour, as in Textual's compact footer
# Shown at the right end on every screen, whatever else has to go.
PINNED = ("keys", "quit")


@dataclass(frozen=True, slots=True)
class FooterKey:
    key: str  # as Textual names it, for a click
    shown: str  # as the person reads it
    description: str
    action: str
    enabled: bool

    @property
    def width(self) -> int:
        return cell_len(self.shown) + 1 + cell_len(self.description)


def footer_keys(screen: Screen[object]) -> list[FooterKey]:
    """The keys a footer shows for ``screen``: one per action, in binding order."""
    app = screen.app
    keys: list[FooterKey] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.show or not binding.description or binding.action in seen:
            continue
        seen.add(binding.action)
        keys.append(
            FooterKey(
                binding.key.split(",")[0],
                app.get_key_display(binding),
                binding.description,
                binding.action,
                active.enabled,
            )
        )
    return keys


def fitting(keys: list[FooterKey], width: int) -> list[FooterKey]:
    """The keys that fit in ``width`` cells: the pinned ones always, the others in
    order while there is room."""
    pinned = sorted((k for k in keys if k.action in PINNED), key=lambda k: PINNED.index(k.action))
    room = width - 1 - sum(k.width + len(SEPARATOR) for k in pinned)
    chosen = []
    for key in keys:
        if key.action in PINNED:
            continue
        if key.width + len(SEPARATOR) > room:
            break  # in order: a later key never jumps ahead of an earlier one
        chosen.append(key)
        room -= key.width + len(SEPARATOR)
    return chosen + pinned


class Footer(Widget):
    DEFAULT_CSS = """
    Footer {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    Footer > .footer--key {
        color: $footer-key-foreground;
    }
    """
    COMPONENT_CLASSES = {"footer--key", "footer--description"}  # noqa: RUF012

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()  # drawn again when next painted, if still on screen

    def render(self) -> Text:
        keys = fitting(footer_keys(self.screen), self.size.width)
        key_style = self.get_component_rich_style("footer--key", partial=True)
        line = Text(" ", no_wrap=True, overflow="crop")
        spans = []
        for index, key in enumerate(keys):
            if index:
                line.append(SEPARATOR)
            start = line.cell_len
            dim = Style(dim=True) if not key.enabled else Style()
            line.append(key.shown, key_style + Style(bold=True) + dim)
            line.append(" " + key.description, dim)
            spans.append((start, line.cell_len, key.key))
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return

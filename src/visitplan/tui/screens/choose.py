"""Choosing one of a few things (whose visits the agenda shows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from visitplan.tui.screens.base import Modal

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Choice(Generic[V]):
    """What was chosen (its value may itself be None: "everyone")."""

    value: V


class ChoiceScreen(Modal[Choice[V]], Generic[V]):
    """Enter chooses the highlighted line; esc leaves everything as it was."""

    HOLDS_INPUT = False  # nothing typed: an F-key may close it

    def __init__(self, heading: str, choices: Sequence[tuple[str, V]], current: V) -> None:
        super().__init__()
        self.heading = heading
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="question")
            yield OptionList(
                *(Option(label, id=str(index)) for index, (label, _) in enumerate(self.choices)),
                id="choices",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        values = [value for _, value in self.choices]
        options.highlighted = values.index(self.current) if self.current in values else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Choice(self.choices[event.option_index][1]))

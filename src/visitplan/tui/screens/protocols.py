"""Protocols: browse the protocol files and read each course in words."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from visitplan.catalog import ProtocolFile
from visitplan.domain.protocol import course_in_words
from visitplan.tui.screens.base import ClinicScreen
from visitplan.tui.widgets.footer import Footer


def protocol_text(entry: ProtocolFile) -> str:
    """The protocol as staff read it: title, source, then one line per visit."""
    protocol = entry.protocol
    visits = sum(v.count for v in protocol.visits)
    lines = [
        f"{protocol.title}",
        f"id {entry.id} · version {protocol.version} · {visits} visits",
        "",
    ]
    if protocol.description:
        lines += [protocol.description.strip(), ""]
    if protocol.reference:
        doi = f" doi:{protocol.reference.doi}" if protocol.reference.doi else ""
        lines += [f"Source: {protocol.reference.citation}{doi}", ""]
    lines += [f"• {line}" for line in course_in_words(protocol)]
    return "\n".join(lines)


class ProtocolsScreen(ClinicScreen):
    TITLE = "Protocols"
    BINDINGS = [  # noqa: RUF012
        Binding("e", "enroll", "Enroll in this"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(
                *(Option(entry.protocol.title, id=entry.id) for entry in self.vp.catalog.all()),
                id="protocol-list",
            )
            with VerticalScroll(id="protocol-detail"):
                yield Static(id="protocol-text", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if options.option_count:
            options.highlighted = 0

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            entry = self.vp.catalog.get(event.option.id)
            self.query_one("#protocol-text", Static).update(protocol_text(entry))

    def selected_protocol(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    def action_enroll(self) -> None:
        from visitplan.tui.screens.enroll import EnrollScreen

        self.app.push_screen(EnrollScreen(protocol_id=self.selected_protocol()))

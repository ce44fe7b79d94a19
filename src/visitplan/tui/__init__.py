"""The clinic's terminal UI (Textual). Built by ``visitplan.tui.app.make_app``."""

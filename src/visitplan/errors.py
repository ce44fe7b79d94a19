"""The one error type a user ever sees: a single line, exit status 2."""

from __future__ import annotations

from collections.abc import Sequence


class InputError(Exception):
    """Bad input from a person or a file; the message is one line that names the problem.

    ``cli_hint`` is what the command line adds in its own words (the option that
    would help); other front ends say it their own way, or not at all.
    """

    exit_status = 2

    def __init__(self, message: str, *, cli_hint: str | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.message = " ".join(message.split())
        self.cli_hint = cli_hint

    @property
    def cli_message(self) -> str:
        return f"{self.message} ({self.cli_hint})" if self.cli_hint else self.message

    @property
    def lines(self) -> tuple[str, ...]:
        """What the command line prints, one line each."""
        return (self.cli_message,)


class InputErrors(InputError):
    """Several problems found in one pass (an import's bad rows): one line for each,
    then the message, which sums them up (and is all a screen needs to show)."""

    def __init__(self, problems: Sequence[str], summary: str) -> None:
        super().__init__(summary)
        self.problems = tuple(" ".join(p.split()) for p in problems)

    @property
    def lines(self) -> tuple[str, ...]:
        return (*self.problems, self.cli_message)


class NeedsOverride(InputError):
    """Refused unless the person confirms: ``override`` names the confirmation (the
    command line's ``--force`` or ``--another``; a question in the TUI)."""

    def __init__(self, message: str, *, override: str, consequence: str) -> None:
        super().__init__(message, cli_hint=f"--{override} {consequence}")
        self.override = override
        self.consequence = consequence

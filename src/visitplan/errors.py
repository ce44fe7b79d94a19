"""The one error type a user ever sees: a single line, exit status 2."""

from __future__ import annotations

from collections.abc import Sequence


class InputError(Exception):
    """Bad input from a person or a file; the message is one line that names the problem."""

    exit_status = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
        self.message = " ".join(message.split())

    @property
    def lines(self) -> tuple[str, ...]:
        """What the command line prints, one line each."""
        return (self.message,)


class InputErrors(InputError):
    """Several problems found in one pass (an import's bad rows): one line for each,
    then the message, which sums them up (and is all a screen needs to show)."""

    def __init__(self, problems: Sequence[str], summary: str) -> None:
        super().__init__(summary)
        self.problems = tuple(" ".join(p.split()) for p in problems)

    @property
    def lines(self) -> tuple[str, ...]:
        return (*self.problems, self.message)

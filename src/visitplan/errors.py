"""The one error type a user ever sees: a single line, exit status 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a person or a file; the message is one line that names the problem."""

    exit_status = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
        self.message = " ".join(message.split())

"""The JSON Schema of every document the commands print with ``--json``, made from the
definitions in ``visitplan.cli.documents`` (the ones the builders are checked
against), so the schema cannot drift from what is printed.

    python -m visitplan.cli.json_schema docs/visitplan-json.schema.json

writes it (without a path: prints it); a test keeps the committed file equal to it.
``commands`` names the schema of each command's output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from visitplan.cli.documents import OUTPUTS

SCHEMA_ID = "https://visitplan.example/visitplan-json.schema.json"


@cache
def adapter(command: str) -> Any:
    """A strict validator of the output of ``command`` (its words, as in OUTPUTS)."""
    from pydantic import TypeAdapter

    return TypeAdapter(OUTPUTS[command])


def schema() -> dict[str, Any]:
    from pydantic import TypeAdapter

    inputs = [(name, "serialization", TypeAdapter(kind)) for name, kind in OUTPUTS.items()]
    by_command, definitions = TypeAdapter.json_schemas(inputs)  # type: ignore[arg-type]
    commands = {name: by_command[(name, "serialization")] for name in OUTPUTS}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "visitplan --json output",
        "description": "What each visitplan command prints with --json: `commands` names "
        "the document of each (by its words on the command line); every time is ISO 8601 "
        "with the offset of the clinic's zone.",
        "anyOf": list(_distinct(commands.values())),
        "commands": commands,
        "$defs": definitions.get("$defs", {}),
    }


def _distinct(schemas: Any) -> list[Any]:
    seen: list[Any] = []
    for item in schemas:
        if item not in seen:
            seen.append(item)
    return seen


def schema_text() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    text = schema_text()
    if not args:
        sys.stdout.write(text)
        return 0
    Path(args[0]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

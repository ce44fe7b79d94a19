"""What the file models share: pydantic checks a protocol or clinic file, and hands the
rest of visitplan plain frozen dataclasses (``protocol.py``, ``clinic.py``).

The split keeps pydantic where it earns its place, at the edge where people's files
come in, and out of every run that only uses values validated before: `visitplan
plan` on kept files never imports it (``parsed_files``). Each model names the value it
becomes (``VALUE``) and has the same fields, in the same order, with the same
defaults (a test compares every pair).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from visitplan.errors import InputError


class FileModel(BaseModel):
    """A table of a visitplan file: unknown keys refused, values frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    VALUE: ClassVar[type]
    # A rule over the whole value (anchors, clinicians): the domain's own, run on the
    # value once every field is valid (it raises ValueError).
    WHOLE_VALUE_RULE: ClassVar[Callable[[Any], None] | None] = None

    def to_value(self) -> Any:
        """This table, and every table inside it, as the domain's value."""
        return as_value(self)

    def checked_value(self) -> Any:
        """The domain's value, once it meets the whole-value rule (ValueError if not);
        built once, for the rule and the caller alike."""
        found = self.to_value()
        rule = type(self).WHOLE_VALUE_RULE
        if rule is not None:
            rule(found)
        return found


def validated(model: type[FileModel], data: Any, source: str) -> Any:
    """``data`` read from ``source``, checked by ``model``, as the domain's value; any
    problem becomes one InputError line naming ``source``."""
    try:
        return model.model_validate(data).checked_value()
    except ValueError as exc:
        raise InputError(f"{source}: {what_is_wrong(exc)}") from None


def what_is_wrong(exc: ValueError) -> str:
    """A refusal by a model (pydantic's ValidationError) or by a whole-value rule."""
    return describe_validation(exc) if isinstance(exc, ValidationError) else str(exc)


def as_value(item: Any) -> Any:
    if isinstance(item, FileModel):
        fields = type(item).model_fields
        return type(item).VALUE(**{name: as_value(getattr(item, name)) for name in fields})
    if isinstance(item, tuple):
        return tuple(as_value(part) for part in item)
    if isinstance(item, Mapping):
        return {key: as_value(part) for key, part in item.items()}
    return item


def describe_validation(exc: ValidationError) -> str:
    """The first pydantic error as 'field.path: what is wrong'."""
    errors = exc.errors(include_url=False)
    # A list whose items failed is also reported as too short ("0 items after
    # validation"): not a problem of its own.
    errors = [
        e
        for e in errors
        if not (
            e["type"] == "too_short"
            and any(o is not e and o["loc"][: len(e["loc"])] == e["loc"] for o in errors)
        )
    ]
    error = errors[0]
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "missing field"
    extra = len(errors) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return f"{path}: {message}{more}" if path else f"{message}{more}"

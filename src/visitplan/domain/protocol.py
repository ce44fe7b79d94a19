"""Protocol files: the declarative description of a course of visits.

A protocol is validated once, when it is read; everything downstream (the engine,
the records, the exports) may then trust it. The same models generate the JSON
Schema in ``protocols/protocol.schema.json``.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from visitplan.errors import InputError

VisitKind = Literal["treatment", "follow-up", "assessment", "consultation", "imaging", "review"]

_KEY = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
_LABEL_FIELDS = {"n", "total"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offset(_Strict):
    """A span of calendar time. Months are calendar months, clamped at month end."""

    days: Annotated[int, Field(ge=0)] = 0
    weeks: Annotated[int, Field(ge=0)] = 0
    months: Annotated[int, Field(ge=0)] = 0

    def is_zero(self) -> bool:
        return self.days == 0 and self.weeks == 0 and self.months == 0

    def words(self) -> str:
        parts = []
        for amount, unit in ((self.months, "month"), (self.weeks, "week"), (self.days, "day")):
            if amount:
                parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
        return " and ".join(parts) if parts else "0 days"


class Repeat(_Strict):
    """N occurrences of one visit, ``every`` apart."""

    count: Annotated[int, Field(ge=1, le=200)]
    every: Offset
    measured_from: Literal["previous", "first"] = Field(
        default="previous",
        description="Each occurrence is measured from the one before it (default) "
        "or from the first occurrence (a fixed grid).",
    )

    @field_validator("every")
    @classmethod
    def _positive(cls, every: Offset) -> Offset:
        if every.is_zero():
            raise ValueError("the interval must be longer than zero")
        return every


class Window(_Strict):
    """How far, in days, a visit may fall before or after its target date."""

    before: int = Field(default=0, description="days before the target")
    after: int = Field(default=0, description="days after the target")

    @model_validator(mode="after")
    def _contains_target(self) -> Window:
        if self.before < 0 or self.after < 0:
            raise ValueError(
                f"a window must contain its own target (before = {self.before}, "
                f"after = {self.after}; both must be 0 or more)"
            )
        return self


class Reference(_Strict):
    citation: str
    doi: str | None = None
    url: str | None = None


class VisitDefinition(_Strict):
    key: Annotated[str, Field(pattern=_KEY, description="stable id, e.g. 'session'")]
    label: Annotated[str, Field(min_length=1, description="may use {n} and {total}")]
    kind: VisitKind
    duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    anchor: str = Field(
        default="previous",
        description="'start', 'previous', or an earlier visit's key, optionally "
        "with '.first' or '.last' (required for a repeated visit)",
    )
    offset: Offset = Offset()
    repeat: Repeat | None = None
    window: Window = Window()
    notes: str = Field(default="", description="for staff: what is done at this visit")
    patient_notes: str = Field(default="", description="for the patient's own calendar")
    assessments: tuple[str, ...] = ()

    @field_validator("label")
    @classmethod
    def _known_placeholders(cls, label: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(label) if name is not None}
        except ValueError as exc:
            raise ValueError(f"label {label!r} is not a valid template: {exc}") from None
        unknown = names - _LABEL_FIELDS
        if unknown:
            raise ValueError(
                f"label {label!r} uses {sorted(unknown)}; only {{n}} and {{total}} are known"
            )
        return label

    @property
    def count(self) -> int:
        return self.repeat.count if self.repeat else 1

    def occurrence_key(self, n: int) -> str:
        return f"{self.key}-{n}" if self.count > 1 else self.key

    def label_for(self, n: int) -> str:
        return self.label.format(n=n, total=self.count)


class Protocol(_Strict):
    """A whole course, as read from ``protocols/<id>.toml``."""

    title: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(min_length=1)]
    description: str = ""
    reference: Reference | None = None
    visits: Annotated[tuple[VisitDefinition, ...], Field(min_length=1)]

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """The course unrolled into numbered steps (computed once per protocol)."""
        return tuple(steps(self))

    @model_validator(mode="after")
    def _anchors_point_back(self) -> Protocol:
        seen: dict[str, VisitDefinition] = {}
        for index, visit in enumerate(self.visits):
            where = f"visits[{index}].anchor"
            if visit.key in seen:
                raise ValueError(f"visits[{index}].key: {visit.key!r} is used twice")
            resolve_anchor(visit.anchor, seen, first=not seen, where=where)
            seen[visit.key] = visit
        keys = [v.occurrence_key(n) for v in self.visits for n in range(1, v.count + 1)]
        if len(keys) != len(set(keys)):
            raise ValueError(
                "visit keys collide once numbered (e.g. 'session' repeated "
                "and a separate 'session-2'); rename one"
            )
        return self


@dataclass(frozen=True, slots=True)
class AnchorRef:
    """What a visit's first occurrence is measured from.

    ``visit`` is None for the start of the course; otherwise the key of an earlier
    visit definition and which of its occurrences.
    """

    visit: str | None
    occurrence: Literal["first", "last"] = "last"


def resolve_anchor(
    anchor: str, earlier: Mapping[str, VisitDefinition], *, first: bool, where: str
) -> AnchorRef:
    if anchor == "start":
        return AnchorRef(None)
    if anchor == "previous":
        if first:
            raise ValueError(
                f"{where}: 'previous' on the first visit has nothing before it; use 'start'"
            )
        return AnchorRef(list(earlier)[-1], "last")
    key, _, which = anchor.partition(".")
    if which not in ("", "first", "last"):
        raise ValueError(f"{where}: {anchor!r}: after the dot only 'first' or 'last' is known")
    if key not in earlier:
        raise ValueError(
            f"{where}: {anchor!r} is not an earlier visit (an anchor may only point back to "
            f"a visit listed before it; earlier visits: {', '.join(earlier) or 'none'})"
        )
    if not which:
        if earlier[key].count > 1:
            raise ValueError(f"{where}: {key!r} repeats; say {key}.first or {key}.last")
        which = "last"
    return AnchorRef(key, "first" if which == "first" else "last")


@dataclass(frozen=True, slots=True)
class Step:
    """One visit of the course, numbered: the unit the engine plans."""

    key: str
    definition: VisitDefinition
    occurrence: int
    anchor: str | None  # key of the step it is measured from; None: the course start
    offset: Offset

    @property
    def label(self) -> str:
        return self.definition.label_for(self.occurrence)


def steps(protocol: Protocol) -> Iterator[Step]:
    """The course unrolled into numbered steps, each naming the step it hangs on."""
    earlier: dict[str, VisitDefinition] = {}
    last_key: dict[str, str] = {}
    first_key: dict[str, str] = {}
    for visit in protocol.visits:
        ref = resolve_anchor(visit.anchor, earlier, first=not earlier, where=visit.key)
        for n in range(1, visit.count + 1):
            key = visit.occurrence_key(n)
            if n == 1:
                if ref.visit is None:
                    anchor = None
                else:
                    table = first_key if ref.occurrence == "first" else last_key
                    anchor = table[ref.visit]
                offset = visit.offset
            else:
                assert visit.repeat is not None
                if visit.repeat.measured_from == "first":
                    anchor = visit.occurrence_key(1)
                    offset = _times(visit.repeat.every, n - 1)
                else:
                    anchor = visit.occurrence_key(n - 1)
                    offset = visit.repeat.every
            yield Step(key, visit, n, anchor, offset)
        earlier[visit.key] = visit
        first_key[visit.key] = visit.occurrence_key(1)
        last_key[visit.key] = visit.occurrence_key(visit.count)


def _times(offset: Offset, k: int) -> Offset:
    return Offset(days=offset.days * k, weeks=offset.weeks * k, months=offset.months * k)


def dependents(protocol: Protocol, key: str) -> set[str]:
    """Every step whose date hangs on ``key``, directly or through a chain."""
    out: set[str] = set()
    for step in steps(protocol):
        if step.anchor is not None and (step.anchor == key or step.anchor in out):
            out.add(step.key)
    return out


_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_protocol(text: str, source: str) -> Protocol:
    """Validate protocol text; any problem becomes one InputError line naming ``source``."""
    data = load_toml(text, source)
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_validation(exc)}") from None


def load_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _LINE.search(message)
        where = f" (line {match.group(1)})" if match else ""
        reason = _LINE.sub("", message).strip()
        raise InputError(f"{source}: TOML syntax error{where}: {reason}") from None


def describe_validation(exc: ValidationError) -> str:
    """The first pydantic error as 'field.path: what is wrong'."""
    error = exc.errors(include_url=False)[0]
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
    extra = len(exc.errors()) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return f"{path}: {message}{more}" if path else f"{message}{more}"


def course_in_words(protocol: Protocol) -> list[str]:
    """One sentence per visit definition: what happens when, relative to what."""
    labels = {step.key: step.label for step in protocol.steps}
    firsts = [step for step in protocol.steps if step.occurrence == 1]
    lines = []
    for step in firsts:
        visit = step.definition
        base = "the start of the course" if step.anchor is None else labels[step.anchor]
        when = "on" if step.offset.is_zero() else f"{step.offset.words()} after"
        if visit.count == 1:
            what = visit.label_for(1)
        else:
            what = f"{visit.count} visits, {visit.label_for(1)} to {visit.label_for(visit.count)}"
        sentence = f"{what} ({visit.kind}, {visit.duration_minutes} min): {when} {base}"
        if visit.repeat:
            measured = "previous one" if visit.repeat.measured_from == "previous" else "first one"
            sentence += f", then every {visit.repeat.every.words()}, each from the {measured}"
        window = visit.window
        sentence += f"; window {window.before} day(s) before to {window.after} day(s) after."
        lines.append(sentence)
    return lines


def protocol_json_schema() -> dict[str, Any]:
    """The JSON Schema of protocol files, for editors that check TOML as people type."""
    schema = Protocol.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://visitplan.invalid/protocol.schema.json"
    return schema


def schema_text() -> str:
    """The schema as checked in under protocols/ (stable key order, final newline)."""
    import json

    return json.dumps(protocol_json_schema(), indent=2, ensure_ascii=False) + "\n"

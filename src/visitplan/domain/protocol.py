"""Protocol files: the declarative description of a course of visits.

A protocol is validated once, when it is read; everything downstream (the engine,
the records, the exports) may then trust it. The same models generate the JSON
Schema in ``protocols/protocol.schema.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from visitplan.domain import limits
from visitplan.errors import InputError

VisitKind = Literal["treatment", "follow-up", "assessment", "consultation", "imaging", "review"]

_KEY = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"

# Text fields, by how much they may hold; every one may reach a calendar entry.
Line = Annotated[str, Field(max_length=limits.MAX_LABEL), AfterValidator(limits.check_line)]
LongLine = Annotated[
    str,
    Field(max_length=limits.MAX_LINE),
    AfterValidator(partial(limits.check_line, limit=limits.MAX_LINE)),
]
Text = Annotated[str, Field(max_length=limits.MAX_TEXT), AfterValidator(limits.check_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Offset(_Strict):
    """A span of calendar time. Months are calendar months, clamped at month end."""

    days: Annotated[int, Field(ge=0, le=limits.MAX_OFFSET_DAYS)] = 0
    weeks: Annotated[int, Field(ge=0, le=limits.MAX_OFFSET_WEEKS)] = 0
    months: Annotated[int, Field(ge=0, le=limits.MAX_OFFSET_MONTHS)] = 0

    @property
    def longest_days(self) -> int:
        """The most days this offset can span (a month counted at its longest)."""
        return self.days + 7 * self.weeks + limits.MONTH_DAYS * self.months

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

    count: Annotated[int, Field(ge=1, le=limits.MAX_REPEAT)]
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

    before: int = Field(default=0, le=limits.MAX_WINDOW_DAYS, description="days before the target")
    after: int = Field(default=0, le=limits.MAX_WINDOW_DAYS, description="days after the target")

    @model_validator(mode="after")
    def _contains_target(self) -> Window:
        if self.before < 0 or self.after < 0:
            raise ValueError(
                f"a window must contain its own target (before = {self.before}, "
                f"after = {self.after}; both must be 0 or more)"
            )
        return self


class Reference(_Strict):
    citation: LongLine
    doi: Line | None = None
    url: LongLine | None = None


class VisitDefinition(_Strict):
    key: Annotated[
        str, Field(pattern=_KEY, max_length=limits.MAX_KEY, description="stable id, e.g. 'session'")
    ]
    label: Annotated[
        str,
        Field(min_length=1, max_length=limits.MAX_LABEL, description="may use {n} and {total}"),
        AfterValidator(limits.check_label),
    ]
    kind: VisitKind
    duration_minutes: Annotated[int, Field(gt=0, le=limits.MAX_DURATION_MINUTES)]
    anchor: str = Field(
        default="previous",
        max_length=limits.MAX_KEY + len(".first"),
        description="'start', 'previous', or an earlier visit's key, optionally "
        "with '.first' or '.last' (required for a repeated visit)",
    )
    offset: Offset = Offset.model_construct()
    repeat: Repeat | None = None
    window: Window = Window.model_construct()
    notes: Text = Field(default="", description="for staff: what is done at this visit")
    patient_notes: Text = Field(default="", description="for the patient's own calendar")
    assessments: Annotated[tuple[Line, ...], Field(max_length=limits.MAX_ASSESSMENTS)] = ()

    @property
    def count(self) -> int:
        return self.repeat.count if self.repeat else 1

    def occurrence_key(self, n: int) -> str:
        return f"{self.key}-{n}" if self.count > 1 else self.key

    def label_for(self, n: int) -> str:
        return self.label.format(n=n, total=self.count)


class Protocol(_Strict):
    """A whole course, as read from ``protocols/<id>.toml``."""

    title: Annotated[Line, Field(min_length=1)]
    version: Annotated[Line, Field(min_length=1)]
    description: Text = ""
    reference: Reference | None = None
    visits: Annotated[
        tuple[VisitDefinition, ...], Field(min_length=1, max_length=limits.MAX_VISIT_DEFINITIONS)
    ]

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
        if len(keys) > limits.MAX_STEPS:
            raise ValueError(
                f"the course has {len(keys)} visits once repeats are counted; "
                f"at most {limits.MAX_STEPS} are allowed"
            )
        if len(keys) != len(set(keys)):
            raise ValueError(
                "visit keys collide once numbered (e.g. 'session' repeated "
                "and a separate 'session-2'); rename one"
            )
        self._span_within_limit()
        return self

    def _span_within_limit(self) -> None:
        """Bound the course's length, so that every date the engine computes from any
        allowed start stays representable (the argument is in ``limits``)."""
        reach: dict[str, int] = {}
        for step in steps(self):
            base = 0 if step.anchor is None else reach[step.anchor]
            reach[step.key] = base + step.offset.longest_days
            end = reach[step.key] + step.definition.window.after
            if end > limits.MAX_COURSE_DAYS:
                raise ValueError(
                    f"visit {step.key} may end {end:,} days after the start of the course "
                    f"(a month counted as {limits.MONTH_DAYS} days, with its window); "
                    f"a course may span at most {limits.MAX_COURSE_DAYS:,} days"
                )


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
    # Derived, not read from a file: k times a valid interval may exceed one field's
    # limit, while the course as a whole is bounded by Protocol._span_within_limit.
    return Offset.model_construct(
        days=offset.days * k, weeks=offset.weeks * k, months=offset.months * k
    )


_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_protocol(text: str, source: str) -> Protocol:
    """Validate protocol text; any problem becomes one InputError line naming ``source``."""
    data = load_toml(text, source)
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_validation(exc)}") from None


def load_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text as data, refused in one line when it is too large, not TOML, or
    nested deeper than any visitplan file needs."""
    if len(text) > limits.MAX_FILE_BYTES:
        raise InputError(
            f"{source}: {len(text):,} characters; a file may hold at most "
            f"{limits.MAX_FILE_BYTES:,} bytes"
        )
    # The estimate may count a little more than the parsed depth; the exact limit is
    # applied to the parsed data below, this one only keeps tomllib from the worst.
    if limits.nesting_upper_bound(text, stop_above=2 * limits.MAX_NESTING) > 2 * limits.MAX_NESTING:
        raise InputError(
            f"{source}: tables, arrays or dotted keys are nested more than "
            f"{limits.MAX_NESTING} deep"
        )
    import tomllib  # here, not above: a file validated before is not parsed again

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _LINE.search(message)
        where = f" (line {match.group(1)})" if match else ""
        reason = _LINE.sub("", message).strip()
        raise InputError(f"{source}: TOML syntax error{where}: {reason}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        data = None
    try:
        if data is None:
            raise ValueError(
                f"tables, arrays or dotted keys are nested more than {limits.MAX_NESTING} deep"
            )
        limits.check_nesting(data)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None
    return data


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

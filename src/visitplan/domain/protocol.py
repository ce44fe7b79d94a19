"""Protocols: the declarative description of a course of visits, as plain values.

A protocol file is validated once, when it is read (``protocol_file``: pydantic, which
also generates the JSON Schema); everything downstream (the engine, the records, the
exports) then trusts these frozen values. A run that finds a file validated before
uses them without importing pydantic (``parsed_files``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from visitplan.domain import limits
from visitplan.errors import InputError

VisitKind = Literal["treatment", "follow-up", "assessment", "consultation", "imaging", "review"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Offset:
    """A span of calendar time. Months are calendar months, clamped at month end."""

    days: int = 0
    weeks: int = 0
    months: int = 0

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


@dataclass(frozen=True, kw_only=True, slots=True)
class Repeat:
    """N occurrences of one visit, ``every`` apart, each measured from the previous
    occurrence or from the first (a fixed grid)."""

    count: int
    every: Offset
    measured_from: Literal["previous", "first"] = "previous"


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """How far, in days, a visit may fall before or after its target date."""

    before: int = 0
    after: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Reference:
    citation: str
    doi: str | None = None
    url: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class VisitDefinition:
    """One visit of a protocol file, perhaps repeated: its label may use {n} and
    {total}; ``anchor`` is 'start', 'previous' or an earlier visit's key (with
    '.first' or '.last' for a repeated one)."""

    key: str
    label: str
    kind: VisitKind
    duration_minutes: int
    anchor: str = "previous"
    offset: Offset = Offset()
    repeat: Repeat | None = None
    window: Window = Window()
    notes: str = ""
    patient_notes: str = ""
    assessments: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return self.repeat.count if self.repeat else 1

    def occurrence_key(self, n: int) -> str:
        return f"{self.key}-{n}" if self.count > 1 else self.key

    def label_for(self, n: int) -> str:
        return self.label.format(n=n, total=self.count)


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """A whole course, as read from ``protocols/<id>.toml``."""

    title: str
    version: str
    description: str = ""
    reference: Reference | None = None
    visits: tuple[VisitDefinition, ...]

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """The course unrolled into numbered steps (computed once per protocol)."""
        return tuple(steps(self))


def check_course(protocol: Protocol) -> None:
    """Refuse, with ValueError, a course whose anchors do not point back, whose
    numbered keys collide, or that spans more days than the engine serves."""
    seen: dict[str, VisitDefinition] = {}
    for index, visit in enumerate(protocol.visits):
        where = f"visits[{index}].anchor"
        if visit.key in seen:
            raise ValueError(f"visits[{index}].key: {visit.key!r} is used twice")
        resolve_anchor(visit.anchor, seen, first=not seen, where=where)
        seen[visit.key] = visit
    keys = [v.occurrence_key(n) for v in protocol.visits for n in range(1, v.count + 1)]
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
    _span_within_limit(protocol)


def _span_within_limit(protocol: Protocol) -> None:
    """Bound the course's length, so that every date the engine computes from any
    allowed start stays representable (the argument is in ``limits``)."""
    reach: dict[str, int] = {}
    for step in steps(protocol):
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
    # limit, while the course as a whole is bounded by check_course.
    return Offset(days=offset.days * k, weeks=offset.weeks * k, months=offset.months * k)


_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_protocol(text: str, source: str) -> Protocol:
    """Validate protocol text; any problem becomes one InputError line naming ``source``."""
    from visitplan.domain.protocol_file import validate_protocol

    return validate_protocol(load_toml(text, source), source)


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

"""The protocol file's schema: pydantic models that check ``protocols/<id>.toml`` and
become the plain values of ``protocol.py``. The same models generate the JSON Schema
in ``protocols/protocol.schema.json``, so their names and docstrings are the schema's.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from visitplan.domain import limits
from visitplan.domain import protocol as value
from visitplan.domain.file_models import FileModel, validated

_KEY = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"

# Text fields, by how much they may hold; every one may reach a calendar entry.
Line = Annotated[str, Field(max_length=limits.MAX_LABEL), AfterValidator(limits.check_line)]
LongLine = Annotated[
    str,
    Field(max_length=limits.MAX_LINE),
    AfterValidator(partial(limits.check_line, limit=limits.MAX_LINE)),
]
Text = Annotated[str, Field(max_length=limits.MAX_TEXT), AfterValidator(limits.check_text)]


class Offset(FileModel):
    """A span of calendar time. Months are calendar months, clamped at month end."""

    VALUE = value.Offset

    days: Annotated[int, Field(ge=0, le=limits.MAX_OFFSET_DAYS)] = 0
    weeks: Annotated[int, Field(ge=0, le=limits.MAX_OFFSET_WEEKS)] = 0
    months: Annotated[int, Field(ge=0, le=limits.MAX_OFFSET_MONTHS)] = 0


class Repeat(FileModel):
    """N occurrences of one visit, ``every`` apart."""

    VALUE = value.Repeat

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
        if every.to_value().is_zero():
            raise ValueError("the interval must be longer than zero")
        return every


class Window(FileModel):
    """How far, in days, a visit may fall before or after its target date."""

    VALUE = value.Window

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


class Reference(FileModel):
    VALUE = value.Reference

    citation: LongLine
    doi: Line | None = None
    url: LongLine | None = None


class VisitDefinition(FileModel):
    VALUE = value.VisitDefinition

    key: Annotated[
        str, Field(pattern=_KEY, max_length=limits.MAX_KEY, description="stable id, e.g. 'session'")
    ]
    label: Annotated[
        str,
        Field(min_length=1, max_length=limits.MAX_LABEL, description="may use {n} and {total}"),
        AfterValidator(limits.check_label),
    ]
    kind: value.VisitKind
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


class Protocol(FileModel):
    """A whole course, as read from ``protocols/<id>.toml``."""

    VALUE = value.Protocol
    WHOLE_VALUE_RULE = value.check_course

    title: Annotated[Line, Field(min_length=1)]
    version: Annotated[Line, Field(min_length=1)]
    description: Text = ""
    reference: Reference | None = None
    visits: Annotated[
        tuple[VisitDefinition, ...], Field(min_length=1, max_length=limits.MAX_VISIT_DEFINITIONS)
    ]


def validate_protocol(data: Any, source: str) -> value.Protocol:
    """Data read from a protocol file, checked, as the domain's value; any problem
    becomes one InputError line naming ``source``."""
    checked: value.Protocol = validated(Protocol, data, source)
    return checked


def protocol_json_schema() -> dict[str, Any]:
    """The JSON Schema of protocol files, for editors that check TOML as people type."""
    schema = Protocol.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://visitplan.invalid/protocol.schema.json"
    return schema


def schema_text() -> str:
    """The schema as checked in under protocols/ (stable key order, final newline)."""
    return json.dumps(protocol_json_schema(), indent=2, ensure_ascii=False) + "\n"

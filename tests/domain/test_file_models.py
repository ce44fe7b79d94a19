"""The file models (pydantic, where files come in) and the domain's plain values they
become agree: the same fields in the same order with the same defaults, and the
clinic's stored JSON is the text pydantic writes for it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.domain.test_engine_properties import clinics, protocols
from tests.notify.support import MAIL_CLINIC
from tests.support.clinics import NEW_YORK_CLINIC, SEOUL_CLINIC
from visitplan.domain import clinic_file, protocol_file
from visitplan.domain.clinic import Clinic, clinic_json, parse_clinic
from visitplan.domain.file_models import FileModel, as_value
from visitplan.domain.protocol import Protocol, parse_protocol

MODELS = sorted(
    (m for m in FileModel.__subclasses__() if m.__module__.startswith("visitplan.")),
    key=lambda m: (m.__module__, m.__name__),
)
PROTOCOLS = Path(__file__).parents[2] / "protocols"


def test_every_file_model_is_checked_here() -> None:
    names = {f"{m.__module__}.{m.__name__}" for m in MODELS}
    assert names == {
        "visitplan.domain.clinic_file.Clinic",
        "visitplan.domain.clinic_file.Clinician",
        "visitplan.domain.clinic_file.Closure",
        "visitplan.domain.clinic_file.HolidaySource",
        "visitplan.domain.clinic_file.Reminders",
        "visitplan.domain.protocol_file.Offset",
        "visitplan.domain.protocol_file.Protocol",
        "visitplan.domain.protocol_file.Reference",
        "visitplan.domain.protocol_file.Repeat",
        "visitplan.domain.protocol_file.VisitDefinition",
        "visitplan.domain.protocol_file.Window",
    }


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_file_model_and_its_value_have_the_same_fields_and_defaults(
    model: type[FileModel],
) -> None:
    fields = dataclasses.fields(model.VALUE)
    assert [f.name for f in fields] == list(model.model_fields)
    for field in fields:
        info = model.model_fields[field.name]
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            assert info.is_required(), field.name
            continue
        expected = (
            field.default if field.default is not dataclasses.MISSING else field.default_factory()
        )
        assert not info.is_required(), field.name
        assert as_value(info.get_default(call_default_factory=True)) == expected, field.name


@pytest.mark.parametrize("path", sorted(PROTOCOLS.glob("*.toml")), ids=lambda p: p.stem)
def test_a_protocol_file_becomes_plain_values(path: Path) -> None:
    protocol = parse_protocol(path.read_text(encoding="utf-8"), path.name)
    assert type(protocol) is Protocol
    assert not _pydantic_inside(protocol)
    again = protocol_file.Protocol.model_validate(dataclasses.asdict(protocol)).to_value()
    assert again == protocol


@pytest.mark.parametrize("text", [SEOUL_CLINIC, NEW_YORK_CLINIC, MAIL_CLINIC])
def test_a_clinic_file_becomes_plain_values_and_stores_as_pydantic_writes_it(text: str) -> None:
    clinic = parse_clinic(text, "clinic.toml")
    assert type(clinic) is Clinic
    assert not _pydantic_inside(clinic)
    stored = clinic_json(clinic)
    assert stored == clinic_file.Clinic.model_validate_json(stored).model_dump_json()
    assert clinic_file.stored_clinic(stored) == clinic


_awkward = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clinics(), _awkward, _awkward)
def test_any_clinic_stores_as_pydantic_writes_it(clinic: Clinic, name: str, address: str) -> None:
    # Names and addresses with quotes, backslashes and any script must come back as
    # pydantic's own JSON, so that stored settings and feed fingerprints stay the same.
    renamed = dataclasses.replace(clinic, name=name or "C", address=address)
    stored = clinic_json(renamed)
    assert stored == clinic_file.Clinic.model_validate_json(stored).model_dump_json()
    assert clinic_file.stored_clinic(stored) == renamed


@settings(max_examples=40, deadline=None)
@given(protocols())
def test_any_protocol_survives_the_round_trip(protocol: Protocol) -> None:
    assert not _pydantic_inside(protocol)
    data = dataclasses.asdict(protocol)
    assert protocol_file.validate_protocol(data, "generated.toml") == protocol


def test_a_closure_date_is_written_as_an_iso_date() -> None:
    clinic = parse_clinic('closures = ["2026-12-25"]\n', "c.toml")
    assert clinic.closures[0].date == dt.date(2026, 12, 25)
    assert '"closures":[{"date":"2026-12-25","reason":"clinic closed"}]' in clinic_json(clinic)


def _pydantic_inside(item: Any) -> bool:
    """Whether any part of ``item`` is still a pydantic model."""
    if isinstance(item, FileModel):
        return True
    if dataclasses.is_dataclass(item):
        return any(_pydantic_inside(getattr(item, f.name)) for f in dataclasses.fields(item))
    if isinstance(item, tuple | list):
        return any(_pydantic_inside(part) for part in item)
    if isinstance(item, dict):
        return any(_pydantic_inside(part) for part in item.values())
    return False

"""Protocol and clinic files: every kind of mistake is one line naming file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.domain.clinic import parse_clinic
from visitplan.domain.protocol import course_in_words, parse_protocol, schema_text, steps
from visitplan.errors import InputError

ROOT = Path(__file__).resolve().parents[2]

GOOD_VISIT = """
[[visits]]
key = "session"
label = "Session {n} of {total}"
kind = "treatment"
duration_minutes = 45
anchor = "start"
repeat = { count = 2, every = { weeks = 2 } }
"""


def error_for(text: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_protocol(text, "bad.toml")
    return caught.value.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('title = "T"\nversion = \n', "bad.toml: TOML syntax error (line 2): "),
        (
            'title = "T"\nversion = "1"\ncolour = "red"\n' + GOOD_VISIT,
            "bad.toml: colour: unknown field",
        ),
        ('version = "1"\n' + GOOD_VISIT, "bad.toml: title: missing field"),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT.replace("weeks = 2", "weeks = 0"),
            "bad.toml: visits[0].repeat.every: Value error, the interval must be longer than zero",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT.replace("weeks = 2", "weeks = -1"),
            "bad.toml: visits[0].repeat.every.weeks: Input should be greater than or equal to 0",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT.replace('"start"', '"nowhere"'),
            "bad.toml: visits[0].anchor: 'nowhere' is not an earlier visit",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT.replace('"start"', '"previous"'),
            "bad.toml: visits[0].anchor: 'previous' on the first visit has nothing before it",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT.replace('"start"', '"session.last"'),
            "bad.toml: visits[0].anchor: 'session.last' is not an earlier visit",
        ),
        (
            'title = "T"\nversion = "1"\n'
            + GOOD_VISIT
            + GOOD_VISIT.replace('"session"', '"review"').replace(
                'anchor = "start"', 'anchor = "session"'
            ),
            "bad.toml: visits[1].anchor: 'session' repeats; say session.first or session.last",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT + "window = { before = -2, after = 1 }\n",
            "bad.toml: visits[0].window: Value error, a window must contain its own target",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT.replace("{total}", "{patient}"),
            "bad.toml: visits[0].label: Value error, label 'Session {n} of {patient}' uses",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT.replace('"treatment"', '"surgery"'),
            "bad.toml: visits[0].kind: Input should be",
        ),
        (
            'title = "T"\nversion = "1"\n' + GOOD_VISIT + GOOD_VISIT,
            "bad.toml: visits[1].key: 'session' is used twice",
        ),
    ],
)
def test_bad_protocol_files_get_one_line_naming_field(body: str, expected: str) -> None:
    message = error_for(body)
    assert message.startswith(expected.replace("Value error, ", ""))
    assert "\n" not in message


def test_a_forward_or_circular_anchor_is_refused() -> None:
    # An anchor may only point back, so a circle cannot even be written down.
    text = (
        'title = "T"\nversion = "1"\n'
        + GOOD_VISIT.replace('"start"', '"review"')
        + (GOOD_VISIT.replace('"session"', '"review"').replace('"start"', '"session.last"'))
    )
    assert "visits[0].anchor: 'review' is not an earlier visit" in error_for(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('timezone = "Mars/Olympus"\n', "c.toml: timezone: unknown time zone 'Mars/Olympus'"),
        ('holidays = { country = "XX" }\n', "c.toml: holidays: unknown country code 'XX'"),
        (
            'holidays = { country = "US", subdivision = "ZZ" }\n',
            "c.toml: holidays: 'US' has no subdivision 'ZZ'",
        ),
        (
            '[hours]\nmon = "18:00-09:00"\n',
            "c.toml: hours: mon: '18:00-09:00' closes before it opens",
        ),
        ('[hours]\nfunday = "09:00-10:00"\n', "c.toml: hours.funday.[key]: Input should be"),
        ('[hours]\nmon = "9 to 5"\n', "c.toml: hours: mon: '9 to 5' is not opening hours"),
        ('closures = ["2026-02-30"]\n', "c.toml: closures[0].date: Input should be a valid date"),
        ("capacity = 0\n", "c.toml: capacity: Input should be greater than or equal to 1"),
        ("[hours]\n", "c.toml: hours: the clinic is never open"),
    ],
)
def test_bad_clinic_files(text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_clinic(text, "c.toml")
    assert caught.value.message.replace("Value error, ", "").startswith(expected)


def test_bundled_protocols_are_valid_and_the_seed_is_the_case_report() -> None:
    catalog = ProtocolCatalog(protocol_dirs(env={}))
    assert len(catalog.ids) >= 3
    seed = catalog.get("dextrose-prolotherapy").protocol
    assert seed.reference is not None
    assert seed.reference.doi == "10.7759/cureus.102370"
    keys = [s.key for s in steps(seed)]
    assert keys == [
        "session-1",
        "session-2",
        "session-3",
        "session-4",
        "session-5",
        "session-6",
        "follow-up",
    ]
    assert [s.label for s in steps(seed)][2] == "Session 3 of 6"
    words = course_in_words(seed)
    assert words[1].startswith("Follow-up (follow-up, 30 min): 3 months after Session 6 of 6;")
    assert words[0].startswith(
        "6 visits, Session 1 of 6 to Session 6 of 6 (treatment, 45 min): on the start"
    )


def test_schema_is_up_to_date_and_accepts_the_bundled_files() -> None:
    checked_in = (ROOT / "protocols" / "protocol.schema.json").read_text(encoding="utf-8")
    assert checked_in == schema_text(), (
        "run: visitplan protocols schema > protocols/protocol.schema.json"
    )
    schema = json.loads(checked_in)
    assert set(schema["required"]) == {"title", "version", "visits"}
    assert schema["additionalProperties"] is False


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    other = tmp_path / "more"
    other.mkdir()
    (other / "dextrose-prolotherapy.toml").write_text("", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        ProtocolCatalog(protocol_dirs([other], env={}))
    message = caught.value.message
    assert "'dextrose-prolotherapy' is defined twice" in message
    assert str(other / "dextrose-prolotherapy.toml") in message
    assert str(ROOT / "protocols" / "dextrose-prolotherapy.toml") in message

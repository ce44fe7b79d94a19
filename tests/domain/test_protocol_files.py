"""Protocol and clinic files: every kind of mistake is one line naming file and field."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from visitplan.catalog import ProtocolCatalog, protocol_dirs, read_protocol_file
from visitplan.domain.clinic import ClinicCalendar, parse_clinic
from visitplan.domain.engine import plan
from visitplan.domain.limits import LAST_DAY, MAX_FILE_BYTES, plan_at_the_extremes
from visitplan.domain.protocol import course_in_words, parse_protocol, steps
from visitplan.domain.protocol_file import schema_text
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


# -- limits: what would crash planning later is refused when the file is read --------

PROTOCOL_HEAD = 'title = "T"\nversion = "1"\n'
ONE_VISIT = """
[[visits]]
key = "s"
label = "{label}"
kind = "treatment"
duration_minutes = 30
anchor = "start"
"""


def one_visit(extra: str = "", label: str = "S") -> str:
    return PROTOCOL_HEAD + ONE_VISIT.replace("{label}", label) + extra


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (one_visit(label="S {n:s}"), "visits[0].label: label 'S {n:s}': write {n} plainly"),
        (one_visit(label="S {total!r}"), "visits[0].label: label 'S {total!r}': write {total}"),
        (one_visit(label="S {n.real}"), "uses {n.real}; only {n} and {total} are known"),
        (one_visit(label="S {0}"), "uses {0}; only {n} and {total} are known"),
        (one_visit(label="S {"), "is not a valid template"),
        (one_visit(label="x" * 201), "visits[0].label: String should have at most 200 characters"),
        (one_visit(label="a\\u0007b"), "visits[0].label: the control character '\\x07'"),
        (one_visit(label="a\\nb"), "visits[0].label: the control character '\\n'"),
        (one_visit("offset = { days = 1000000000 }\n"), "offset.days: Input should be less than"),
        (one_visit("offset = { weeks = 2000 }\n"), "offset.weeks: Input should be less than"),
        (one_visit("offset = { months = 100000 }\n"), "offset.months: Input should be less than"),
        (one_visit("window = { before = 1000000000000 }\n"), "window.before: Input should be"),
        (one_visit("window = { after = 367 }\n"), "window.after: Input should be less than"),
        (one_visit("duration_minutes = 1441\n").replace("duration_minutes = 30\n", ""), "1440"),
        (
            one_visit("repeat = { count = 200, every = { months = 3 } }\n", label="S {n}"),
            "visit s-109 may end 10,044 days after the start of the course",
        ),
        (
            one_visit(
                "repeat = { count = 200, every = { months = 3 }, measured_from = 'first' }\n",
                label="S {n}",
            ),
            "a course may span at most 10,000 days",
        ),
        (
            PROTOCOL_HEAD
            + "".join(
                ONE_VISIT.replace('"s"', f'"v{i}"').replace("{label}", "V {n}")
                + "repeat = { count = 100, every = { days = 1 } }\n"
                for i in range(6)
            ),
            "the course has 600 visits once repeats are counted; at most 500",
        ),
        (one_visit("notes = '" + "n" * 10_001 + "'\n"), "notes: String should have at most"),
        (one_visit('notes = "a\\u0000b"\n'), "visits[0].notes: the control character '\\x00'"),
        (PROTOCOL_HEAD.replace('"T"', '"' + "t" * 201 + '"') + ONE_VISIT, "title: String"),
    ],
)
def test_what_planning_cannot_take_is_refused_in_the_file(text: str, expected: str) -> None:
    message = error_for(text)
    assert expected in message
    assert message.startswith("bad.toml: ")
    assert "\n" not in message


def test_literal_braces_and_crlf_notes_are_fine() -> None:
    protocol = parse_protocol(
        one_visit('notes = "line one\\r\\nline two"\n', label="S {{n}} {n}/{total}"), "ok.toml"
    )
    visit = protocol.visits[0]
    assert visit.label_for(1) == "S {n} 1/1"
    assert visit.notes == "line one\nline two"


def test_the_longest_course_allowed_plans_from_both_ends_of_the_calendar() -> None:
    # 500 visits, each a day after the previous with no window: on a clinic open one
    # day a week most land off target, and the drift adds up along the whole chain.
    body = PROTOCOL_HEAD + "".join(
        ONE_VISIT.replace('"s"', f'"v{i}"')
        .replace("{label}", "V {n}")
        .replace('anchor = "start"', 'anchor = "start"' if i == 0 else 'anchor = "previous"')
        + ("offset = { days = 1 }\n" if i else "")
        + "repeat = { count = 100, every = { days = 19 } }\n"
        for i in range(5)
    )
    protocol = parse_protocol(body, "long.toml")
    assert len(protocol.steps) == 500
    plan_at_the_extremes(protocol)  # raises on any date it cannot represent
    weekly = ClinicCalendar(parse_clinic('[hours]\nwed = "09:00-10:00"\n', "wed.toml"))
    last = plan(protocol, weekly, LAST_DAY, dt.time(9)).visits[-1]
    assert last.start.weekday() == 2
    assert last.start.date() > LAST_DAY + dt.timedelta(days=9000)


def test_a_course_start_outside_the_served_years_is_refused_by_the_engine(
    seoul_calendar: ClinicCalendar,
) -> None:
    seed = ProtocolCatalog(protocol_dirs(env={})).get("dextrose-prolotherapy").protocol
    for start in (dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(2201, 1, 1)):
        with pytest.raises(InputError, match="outside the years 1900 to 2200"):
            plan(seed, seoul_calendar, start, dt.time(9))
    assert plan(seed, seoul_calendar, LAST_DAY, dt.time(9)).visits


@pytest.mark.parametrize(
    "text",
    [
        "title = " + "[" * 5000 + "]" * 5000,
        "title = " + "{a = " * 5000 + "1" + "}" * 5000,
        "x = 1\n" + ".".join(["a"] * 300_000) + " = 1",
        "[" + ".".join(["a"] * 300_000) + "]",
        "title = " + "[" * 17 + "]" * 17,
    ],
)
def test_deep_nesting_is_one_line_not_a_recursion_error(text: str) -> None:
    for parse in (parse_protocol, parse_clinic):
        with pytest.raises(InputError) as caught:
            parse(text, "deep.toml")
        assert caught.value.message == (
            "deep.toml: tables, arrays or dotted keys are nested more than 16 deep"
        )


def test_a_file_larger_than_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(InputError, match=r"big.toml: 1,048,587 characters; a file may hold"):
        parse_protocol("title = '" + "x" * MAX_FILE_BYTES + "'\n", "big.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[hours]\nmon = "09:00+09:00-18:00"\n', "hours: mon: '09:00+09:00-18:00' is not opening"),
        ('[hours]\nmon = "09:00:30-18:00"\n', "is not opening hours"),
        ('[hours]\nmon = "24:00-25:00"\n', "is not opening hours"),
        ('[hours]\nmon = "9:00-17:30"\n', None),
        ('email = "desk@clinic.example\\r\\nATTENDEE:x"\n', "email: 'desk@clinic.example\\r\\n"),
        ('email = "no-at-sign"\n', "email: 'no-at-sign' is not an e-mail address"),
        ('email = "a b@clinic.example"\n', "is not an e-mail address"),
        ('email = "desk@clinic.example"\n', None),
        ('uid_domain = "clinic.example\\n"\n', "uid_domain: 'clinic.example\\n' is not a domain"),
        ('uid_domain = "clinic..example"\n', "is not a domain name"),
        ('uid_domain = "-clinic.example"\n', "is not a domain name"),
        ('uid_domain = "xn--9n2bp8q.example"\n', None),
        ('name = "Clinic\\rX"\n', "name: the control character '\\r' is not allowed"),
        ('address = "1 Road\\u0000"\n', "address: the control character '\\x00'"),
        ('closures = [{ date = "2026-12-24", reason = "a\\nb" }]\n', "closures[0].reason"),
        ('closures = ["0001-01-01"]\n', "closures[0].date: 0001-01-01 is outside the years"),
        ("reminders = { minutes_before = [100000000000] }\n", "reminders.minutes_before[0]"),
        ("reminders = { minutes_before = " + str(list(range(1, 12))) + " }\n", "at most 10"),
    ],
)
def test_clinic_fields_that_reach_calendars_are_checked(text: str, expected: str | None) -> None:
    if expected is None:
        assert parse_clinic(text, "c.toml")
        return
    with pytest.raises(InputError) as caught:
        parse_clinic(text, "c.toml")
    assert caught.value.message.startswith("c.toml: ")
    assert expected in caught.value.message


def test_files_that_are_not_regular_or_too_large_are_refused_without_reading_them(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'title = "caf\xe9"\n')
    expected = {
        Path("/dev/zero"): "/dev/zero: cannot read the protocol file: not a regular file",
        fifo: f"{fifo}: cannot read the protocol file: not a regular file",
        tmp_path: f"{tmp_path}: cannot read the protocol file: not a regular file",
        big: f"{big}: the protocol file is larger than 1,048,576 bytes",
        latin: f"{latin}: the protocol file is not UTF-8 text (byte 13 cannot be read)",
        tmp_path / "none.toml": "cannot read the protocol file: No such file or directory",
    }
    for path, message in expected.items():
        with pytest.raises(InputError) as caught:
            read_protocol_file(path)
        assert message in caught.value.message

"""Protocol and clinic files, generated: every one is accepted and then works, or is
refused with one line and exit 2 (never a traceback, never a changed database)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import icalendar
import tomli_w
from hypothesis import event, given
from hypothesis import strategies as st

from tests.cli.harness import assert_ok_or_one_line, database_copy, dump, run_main
from tests.fuzz import strategies as gen
from visitplan.domain.limits import FIRST_DAY, LAST_DAY, MAX_NESTING, nesting_upper_bound


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")


@gen.FUZZ
@given(
    text=gen.mostly(gen.plausible_protocol(), gen.protocol()),
    start=st.sampled_from([FIRST_DAY, LAST_DAY]),
)
def test_a_protocol_that_checks_can_be_planned(
    text: str, start: Any, workdir: Path, seoul_file: Path
) -> None:
    folder = workdir / "protocols"
    folder.mkdir(exist_ok=True)
    path = folder / "fuzzed.toml"
    _write(path, text)
    checked = run_main(["protocols", "check", str(path)])
    assert_ok_or_one_line(checked)
    event(f"protocols check: exit {checked.status}")
    planned = run_main(
        ["plan", "fuzzed", "--protocols", str(folder), "--clinic", str(seoul_file),
         "--start", start.isoformat(), "--json"]
    )  # fmt: skip
    assert_ok_or_one_line(planned)
    if checked.status == 0:
        # The promise of `protocols check`: a file it passes plans from any served start.
        assert planned.status == 0, planned
    else:
        # And it runs the checks planning runs: the same refusal, word for word.
        assert planned.err == checked.err, (checked, planned)


@gen.FUZZ
@given(
    text=gen.plausible_protocol().map(tomli_w.dumps) | gen.toml_text(gen.protocol()),
    start=gen.day_text,
)
def test_enrolling_on_a_fuzzed_protocol_changes_nothing_when_refused(
    text: str, start: str, workdir: Path, seoul_file: Path, template_db: str
) -> None:
    folder = workdir / "protocols-enroll"
    folder.mkdir(exist_ok=True)
    _write(folder / "fuzzed.toml", text)
    with database_copy(template_db, workdir) as url:
        before = dump(url)
        result = run_main(
            ["enroll", "P1", "fuzzed", f"--start={start}", "--protocols", str(folder),
             "--db", url, "--clinic", str(seoul_file), "--user", "fuzz"]
        )  # fmt: skip
        assert_ok_or_one_line(result)
        event(f"enroll: exit {result.status}")
        if result.status == 2:
            assert dump(url) == before


def _calendar_is_well_formed(data: str) -> None:
    raw = data.encode("utf-8")
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    calendar = icalendar.Calendar.from_ical(raw)
    assert calendar.walk("VEVENT")


@gen.FUZZ
@given(text=gen.mostly(gen.plausible_clinic(), gen.clinic()))
def test_a_clinic_file_is_refused_in_one_line_or_works_everywhere(
    text: str, workdir: Path, template_db: str
) -> None:
    path = workdir / "clinic.toml"
    _write(path, text)
    result = run_main(
        ["plan", "dextrose-prolotherapy", "--clinic", str(path), "--start", "2026-12-01", "--ics"]
    )
    assert_ok_or_one_line(result)
    event(f"clinic file: exit {result.status}")
    if result.status != 0:
        return
    _calendar_is_well_formed(result.out)
    # Accepted, the clinic serves every date people may give, and every field that
    # reaches a calendar property makes a well-formed export of stored visits too.
    late = run_main(
        ["plan", "prolotherapy-knee-oa", "--clinic", str(path), "--start", "2200-12-31", "--json"]
    )
    assert late.status == 0, late
    with database_copy(template_db, workdir) as url:
        # The database's clinic wins: the fuzzed one is loaded into it first.
        loaded = run_main(["clinic", "load", str(path), "--db", url, "--user", "fuzz"])
        assert loaded.status == 0, loaded
        exported = run_main(["export", "--all", "--db", url, "--clinic", str(path)])
    assert exported.status == 0, exported
    _calendar_is_well_formed(exported.out)


# The structures TOML can hold, with keys that need quoting (dots, brackets, quotes).
_nested = st.recursive(
    st.one_of(st.integers(), st.text(max_size=4), st.floats(allow_nan=False), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text("ab.[]{}='\"#\n", min_size=1, max_size=4), inner, max_size=3),
    ),
    max_leaves=40,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@gen.FUZZ
@given(data=st.dictionaries(st.text("ab.", min_size=1, max_size=3), _nested, max_size=4))
def test_the_nesting_estimate_never_counts_less_than_the_parsed_depth(
    data: dict[str, Any],
) -> None:
    text = tomli_w.dumps(data)
    assert nesting_upper_bound(text) >= _depth(tomllib.loads(text))


@gen.FUZZ
@given(depth=st.integers(1, 40), dotted=st.integers(0, 40))
def test_nesting_up_to_the_limit_is_read_and_beyond_it_refused_in_one_line(
    depth: int, dotted: int, workdir: Path
) -> None:
    key = ".".join(["k"] * (dotted + 1))
    text = f"{key} = {'[' * depth}1{']' * depth}\n"
    path = workdir / "nested.toml"
    _write(path, text)
    result = run_main(["protocols", "check", str(path)])
    assert_ok_or_one_line(result)
    assert result.status == 2
    nested = "nested more than" in result.err
    assert nested == (1 + dotted + depth > MAX_NESTING), result.err

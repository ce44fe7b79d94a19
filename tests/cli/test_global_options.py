"""The common options (--db, --clinic, --protocols, --user) where people put them:
before or after the command name, between a command and its action, as `--opt value`
or `--opt=value`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.cli import assert_one_line_error, run_visitplan
from visitplan.cli.main import parse_command_line

ROOT = Path(__file__).resolve().parents[2]
COMMON = ("db", "clinic", "protocols", "user")
BERLIN_CLINIC = """\
name = "Berlin Test Clinic"
timezone = "Europe/Berlin"
[hours]
mon = "08:00-16:00"
tue = "08:00-16:00"
wed = "08:00-16:00"
thu = "08:00-16:00"
fri = "08:00-16:00"
"""

# Command lines cut where an option may go: between these groups of words.
COMMAND_LINES = (
    (("patient",), ("list",)),
    (("patient",), ("add",), ("P-0001",), ("--name", "Alex Example")),
    (("plan",), ("dextrose-prolotherapy",), ("--start", "2026-12-01"), ("--json",)),
    (("visit",), ("move",), ("7",), ("--to", "2026-12-16 14:00"), ("--force",)),
    (("agenda",), ("--days", "7")),
    (("protocols",), ("check",)),
)

# What a person may pass: any text, but not one that starts with '-' (argparse, and
# so visitplan, reads that as the next option unless it is written --opt=value).
values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
).filter(lambda text: bool(text.strip()) and not text.startswith("-"))


def own_arguments(argv: list[str]) -> dict[str, object]:
    return {k: v for k, v in vars(parse_command_line(argv)).items() if k not in COMMON}


@st.composite
def placed_options(draw: st.DrawFn) -> tuple[list[str], list[str], dict[str, object]]:
    """A command line, the same with common options put anywhere, and what they mean."""
    groups = draw(st.sampled_from(COMMAND_LINES))
    chosen = draw(st.lists(st.tuples(st.sampled_from(COMMON), values, st.booleans()), max_size=6))
    slots: list[list[str]] = [[] for _ in range(len(groups) + 1)]
    placements = [draw(st.integers(0, len(groups))) for _ in chosen]
    for (name, value, joined), slot in zip(chosen, placements, strict=True):
        slots[slot] += [f"--{name}={value}"] if joined else [f"--{name}", value]
    argv = [*slots[0]]
    for group, after in zip(groups, slots[1:], strict=True):
        argv += [*group, *after]
    # Later wins, as argparse does; every --protocols counts, in the order written.
    in_order = [
        (name, value)
        for slot in range(len(slots))
        for (name, value, _), placed in zip(chosen, placements, strict=True)
        if placed == slot
    ]
    expected: dict[str, object] = {"db": None, "clinic": None, "user": None, "protocols": []}
    for name, value in in_order:
        if name == "protocols":
            expected["protocols"] = [*expected["protocols"], value]  # type: ignore[misc]
        else:
            expected[name] = value
    plain = [word for group in groups for word in group]
    return plain, argv, expected


@given(placed_options())
def test_common_options_mean_the_same_wherever_they_stand(
    case: tuple[list[str], list[str], dict[str, object]],
) -> None:
    plain, argv, expected = case
    args = parse_command_line(argv)
    assert {name: getattr(args, name) for name in COMMON} == expected
    # The command's own arguments are untouched by where the common options went.
    assert own_arguments(argv) == own_arguments(plain)


def test_the_bare_visitplan_with_options_opens_the_tui_on_them() -> None:
    args = parse_command_line(["--db", "sqlite:///x.sqlite3", "--user=kim"])
    assert args.command == "tui"
    assert (args.db, args.user) == ("sqlite:///x.sqlite3", "kim")


def test_after_a_double_dash_nothing_is_a_common_option() -> None:
    args = parse_command_line(["protocols", "check", "--", "--db", "x.toml"])
    assert args.files == [Path("--db"), Path("x.toml")]
    assert args.db is None


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'records.sqlite3'}"


def listed_mrns(*argv: str, env: dict[str, str]) -> list[str]:
    result = run_visitplan(*argv, env=env)
    assert result.status == 0, result.err
    return [p["mrn"] for p in json.loads(result.out)]


def test_db_before_after_and_joined_reach_the_same_records(
    db: str, visitplan_home: dict[str, str]
) -> None:
    added = run_visitplan(
        "--db", db, "patient", "add", "P-0001", "--name", "Alex Example", env=visitplan_home
    )
    assert added.status == 0, added.err
    for argv in (
        ("--db", db, "patient", "list", "--json"),
        (f"--db={db}", "patient", "list", "--json"),
        ("patient", "--db", db, "list", "--json"),
        ("patient", "list", "--json", "--db", db),
        ("patient", "list", f"--db={db}", "--json"),
    ):
        assert listed_mrns(*argv, env=visitplan_home) == ["P-0001"], argv
    # And not the default database: the options were not read and then dropped.
    assert listed_mrns("patient", "list", "--json", env=visitplan_home) == []


def test_user_before_the_command_is_who_the_audit_trail_names(
    db: str, visitplan_home: dict[str, str]
) -> None:
    added = run_visitplan(
        "--user=Reception Desk 2", "--db", db, "patient", "add", "P-0002", "--name", "Sam Example",
        env=visitplan_home,
    )  # fmt: skip
    assert added.status == 0, added.err
    history = run_visitplan("history", "P-0002", "--json", "--db", db, env=visitplan_home)
    assert history.status == 0, history.err
    assert "Reception Desk 2" in history.out


def test_clinic_before_plan_is_the_clinic_planned_in(
    tmp_path: Path, visitplan_home: dict[str, str]
) -> None:
    clinic = tmp_path / "berlin.toml"
    clinic.write_text(BERLIN_CLINIC, encoding="utf-8")
    plan = ("plan", "dextrose-prolotherapy", "--start", "2026-12-01", "--json")
    for argv in (("--clinic", str(clinic), *plan), (f"--clinic={clinic}", *plan)):
        result = run_visitplan(*argv, env=visitplan_home)
        assert result.status == 0, result.err
        assert "Europe/Berlin" in result.out
    # The machine's zone here is Seoul: without the option, that is the clinic.
    assert "Europe/Berlin" not in run_visitplan(*plan, env=visitplan_home).out


def test_protocols_before_the_command_are_searched(
    tmp_path: Path, visitplan_home: dict[str, str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(ROOT / "protocols" / "eswt-plantar-fasciitis.toml", mine / "our-eswt.toml")
    plan = ("plan", "our-eswt", "--start", "2026-12-01", "--json")
    for argv in (("--protocols", str(mine), *plan), (f"--protocols={mine}", *plan)):
        result = run_visitplan(*argv, env=visitplan_home)
        assert result.status == 0, result.err
        assert len(json.loads(result.out)["visits"]) == 4
    assert_one_line_error(run_visitplan(*plan, env=visitplan_home), "our-eswt")


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_mean_postgresql_through_psycopg(
    scheme: str, pg_schema_url: str, visitplan_home: dict[str, str]
) -> None:
    url = re.sub(r"^postgresql\+psycopg://", f"{scheme}://", pg_schema_url)
    assert url.startswith(f"{scheme}://")
    added = run_visitplan(
        "--db", url, "patient", "add", "P-0003", "--name", "Kim Example", env=visitplan_home
    )
    assert added.status == 0, added.err
    assert listed_mrns("patient", "list", "--json", f"--db={url}", env=visitplan_home) == ["P-0003"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("patient", "list", "--db"), "argument --db: expected one argument"),
        (("--db", "--user", "kim", "patient", "list"), "argument --db: expected one argument"),
        (("--db=", "patient", "list"), "argument --db: is empty"),
        (("--clinic", " ", "plan", "x", "--start", "2026-12-01"), "argument --clinic: is empty"),
    ],
)
def test_a_common_option_without_its_value_is_one_line(
    argv: tuple[str, ...], fragment: str, visitplan_home: dict[str, str]
) -> None:
    assert_one_line_error(run_visitplan(*argv, env=visitplan_home), fragment)


def environment_variables_read_by_the_program() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "visitplan").rglob("*.py"):
        found |= set(re.findall(r"VISITPLAN_[A-Z_]+", path.read_text(encoding="utf-8")))
    return found


def test_top_level_help_lists_the_common_options_and_every_environment_variable(
    visitplan_home: dict[str, str],
) -> None:
    result = run_visitplan("--help", env=visitplan_home)
    assert result.status == 0, result.err
    for flag in ("--db URL", "--clinic FILE", "--protocols DIR", "--user NAME"):
        assert flag in result.out
    variables = environment_variables_read_by_the_program()
    assert {"VISITPLAN_DB", "VISITPLAN_CLINIC", "VISITPLAN_PROTOCOLS"} <= variables
    listed = set(re.findall(r"^  (VISITPLAN_[A-Z_]+) ", result.out, flags=re.MULTILINE))
    assert listed == variables


def test_a_commands_help_lists_the_common_options_too(visitplan_home: dict[str, str]) -> None:
    result = run_visitplan("patient", "list", "--help", env=visitplan_home)
    assert result.status == 0, result.err
    assert "before or after its name" in result.out
    for flag in ("--db URL", "--clinic FILE", "--protocols DIR", "--user NAME"):
        assert flag in result.out

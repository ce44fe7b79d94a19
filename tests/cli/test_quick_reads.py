"""The quick reads (`agenda --json`, `visits MRN --json`, `patient show MRN --json`)
answer exactly as the Desk's path does, on both backends, and load neither
SQLAlchemy, Alembic nor pydantic; wherever they cannot be sure, the Desk answers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.harness import run_main
from tests.support.cli import Result
from tests.support.clinics import SEOUL_CLINIC
from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.cli import quick
from visitplan.records.quick_reads import protocol_steps

PAST = "2026-04-06"
LATER = "2027-03-08"  # a Monday
HEAVY = ("sqlalchemy", "alembic", "pydantic")


@pytest.fixture
def records(db_url: str, tmp_path: Path) -> list[str]:
    """Two patients: one course in the past (done, a no-show, a move by hand), one
    ahead with a clinician, one withdrawn; the common options to read them."""
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(SEOUL_CLINIC, encoding="utf-8")
    common = ["--db", db_url, "--clinic", str(clinic), "--user", "quick-tester"]

    def ok(*argv: str) -> Any:
        result = run_main([*argv, "--json", *common])
        assert result.status == 0, result
        return json.loads(result.out)

    ok("patient", "add", "P1", "--name", "Synthetic One", "--phone", "+82 2 000 0001")
    ok("patient", "add", "P2", "--name", "Synthetic Two")
    ok("clinician", "add", "Dr Kim")
    past = ok("enroll", "P1", "dextrose-prolotherapy", "--start", PAST)
    visits = [v["id"] for v in past["visits"]]
    ok("visit", "done", str(visits[0]), "--at", f"{PAST} 09:20")
    ok("visit", "missed", str(visits[1]))
    ok("visit", "move", str(visits[1]), "--to", "first")
    ok("enroll", "P2", "eswt-plantar-fasciitis", "--start", LATER, "--clinician", "Dr Kim")
    other = ok("enroll", "P2", "prolotherapy-knee-oa", "--start", LATER, "--time", "14:00")
    ok("enrollment", "withdraw", str(other["course"]["id"]))
    return common


def _both(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Result, Result, int]:
    """The command through the quick path and through the Desk's, and how many
    times the quick path answered."""
    answered = 0

    def counting(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def wrapped(args: Any) -> Any:
            nonlocal answered
            found = read(args)
            answered += found is not None
            return found

        return wrapped

    with monkeypatch.context() as m:
        for name in ("agenda", "visits", "patient"):
            m.setattr(quick, name, counting(getattr(quick, name)))
        fast = run_main(argv)
    with monkeypatch.context() as m:
        for name in ("agenda", "visits", "patient"):
            m.setattr(quick, name, lambda args: None)
        slow = run_main(argv)
    return fast, slow, answered


@pytest.mark.parametrize(
    "argv",
    [
        ["agenda", "--json"],
        ["agenda", "--json", "--date", PAST, "--days", "120"],
        ["agenda", "--json", "--date", LATER, "--days", "3"],
        ["agenda", "--json", "--date", "mon", "--days", "366"],
        ["visits", "P1", "--json"],
        ["visits", " p2 ", "--json"],
        ["patient", "show", "P1", "--json"],
        ["patient", "show", "p2", "--json"],
    ],
)
def test_the_quick_answer_is_the_desks(
    argv: list[str], records: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow, answered = _both([*argv, *records], monkeypatch)
    assert answered == 1
    assert fast == slow
    assert fast.status == 0


def test_the_answers_hold_what_was_recorded(
    records: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, _, _ = _both(["agenda", "--json", "--date", PAST, "--days", "366", *records],
                       monkeypatch)  # fmt: skip
    agenda = json.loads(fast.out)
    assert [v["status"] for v in agenda[:2]] == ["completed", "scheduled"]
    assert agenda[0]["actual"] == f"{PAST}T09:20:00+09:00"
    assert any(v["pinned"] for v in agenda)
    fast, _, _ = _both(["patient", "show", "P2", "--json", *records], monkeypatch)
    courses = json.loads(fast.out)["courses"]
    assert [(c["protocol"]["id"], c["status"], c["clinician"]) for c in courses] == [
        ("eswt-plantar-fasciitis", "active", "Dr Kim"),
        ("prolotherapy-knee-oa", "withdrawn", None),
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["visits", "NOBODY", "--json"],
        ["patient", "show", "NOBODY", "--json"],
        ["agenda", "--json", "--clinician", "dr kim"],  # the Desk knows the names
        ["agenda", "--json", "--clinician", "Dr Nobody"],
    ],
)
def test_where_the_desk_answers(
    argv: list[str], records: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow, answered = _both([*argv, *records], monkeypatch)
    assert answered == 0
    assert fast == slow


def test_a_clinic_file_that_differs_is_refused_as_by_the_desk(
    records: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(SEOUL_CLINIC.replace("Asia/Seoul", "UTC"), encoding="utf-8")
    argv = ["agenda", "--json", *records, "--clinic", str(other)]
    fast, slow, answered = _both(argv, monkeypatch)
    assert (answered, fast) == (0, slow)
    assert fast.status == 2
    assert "this database's clinic is in Asia/Seoul" in fast.err


def test_a_changed_protocol_file_is_read_by_the_desk(
    records: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only parsing a changed file tells its version: the Desk's path does it."""
    folder = tmp_path / "protocols"
    folder.mkdir()
    source = ProtocolCatalog(protocol_dirs()).get("dextrose-prolotherapy").text
    own = folder / "own-course.toml"
    own.write_text(source, encoding="utf-8")
    mine = [*records, "--protocols", str(folder)]
    result = run_main(["enroll", "P2", "own-course", "--start", LATER, *mine])
    assert result.status == 0, result
    argv = ["patient", "show", "P2", "--json", *mine]
    fast, slow, answered = _both(argv, monkeypatch)
    assert (answered, fast) == (1, slow)
    own.write_text(source.replace('version = "1.0"', 'version = "1.1"'), encoding="utf-8")
    fast, slow, answered = _both(argv, monkeypatch)
    assert (answered, fast) == (0, slow)
    course = json.loads(fast.out)["courses"][-1]
    assert (course["newer_version_available"], course["current_version"]) == (True, "1.1")


def test_steps_are_labelled_as_the_domain_labels_them() -> None:
    catalog = ProtocolCatalog(protocol_dirs())
    for protocol_id in catalog.ids:
        entry = catalog.get(protocol_id)
        quick_steps = protocol_steps(entry.text)
        assert list(quick_steps) == [s.key for s in entry.protocol.steps]
        for step in entry.protocol.steps:
            mine = quick_steps[step.key]
            assert (mine.label, mine.kind) == (
                step.definition.label_for(step.occurrence),
                step.definition.kind,
            )


def test_a_quick_read_loads_no_orm_no_alembic_no_pydantic(
    records: list[str], tmp_path: Path
) -> None:
    """As a real process: the first read validates the clinic file once (pydantic);
    from then on nothing heavy is imported."""
    script = (
        "import sys\n"
        "from visitplan.cli.main import main\n"
        "status = main(sys.argv[1:])\n"
        f"print(*[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path), "TZ": "UTC"}
    loaded = []
    for argv in (
        ["agenda", "--json", "--date", PAST],
        ["agenda", "--json", "--date", PAST],
        ["visits", "P1", "--json"],
        ["patient", "show", "P1", "--json"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", script, *argv, *records],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)
        loaded.append(done.stderr.split())
    assert loaded[0] == ["pydantic"]  # the clinic file, validated once
    assert loaded[1:] == [[], [], []]

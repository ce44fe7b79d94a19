"""The shape of the package: a pure domain, and commands that import only what they need."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.imports import import_names

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_MODULES = sorted(
    "visitplan.domain." + p.stem
    for p in (ROOT / "src" / "visitplan" / "domain").glob("*.py")
    if p.stem != "__init__"
)
TUI_MODULES = sorted(
    p.relative_to(ROOT / "src").with_suffix("").as_posix().replace("/", ".")
    for p in (ROOT / "src" / "visitplan" / "tui").rglob("*.py")
)
# The feed server and the publisher ask the Desk too; only their own store (the feeds
# and the publish ledger) speaks SQL.
SYNC_MODULES = sorted(
    p.relative_to(ROOT / "src").with_suffix("").as_posix().replace("/", ".")
    for p in (ROOT / "src" / "visitplan" / "sync").glob("*.py")
    if p.name != "store.py"
)
# The records' tables and the helpers that read them: the TUI asks the Desk instead.
RECORDS_STORAGE_MODULES = frozenset(
    f"visitplan.records.{name}" for name in ("reading", "schema", "store", "tables")
)
FORBIDDEN_IN_DOMAIN = (
    "textual",
    "sqlalchemy",
    "alembic",
    "argparse",
    "visitplan.cli",
    "visitplan.records",
    "visitplan.tui",
    "starlette",
    "caldav",
)


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_imports_no_ui_cli_or_database(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert module in loaded
    leaked = sorted(
        m
        for m in loaded
        if m.split(".")[0] in FORBIDDEN_IN_DOMAIN
        or any(m.startswith(f + ".") or m == f for f in FORBIDDEN_IN_DOMAIN)
    )
    assert leaked == []


# Only these check files; every other domain module works on plain values, so a
# command on files validated before never loads pydantic.
FILE_MODELS = frozenset(
    f"visitplan.domain.{name}" for name in ("clinic_file", "file_models", "protocol_file")
)


@pytest.mark.parametrize("module", sorted(set(DOMAIN_MODULES) - FILE_MODELS))
def test_domain_values_import_no_pydantic(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert module in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in ("pydantic", "pydantic_core")) == []
    assert not FILE_MODELS & loaded


def test_domain_has_the_expected_modules() -> None:
    assert {
        "visitplan.domain.protocol",
        "visitplan.domain.clinic",
        "visitplan.domain.engine",
    } <= set(DOMAIN_MODULES)


def imported_by(module: str) -> set[str]:
    """Every dotted name the module's import statements use (with what a ``from``
    import takes), including those inside functions and ``if TYPE_CHECKING:``."""
    path = ROOT / "src" / (module.replace(".", "/") + ".py")
    package = module.split(".")[:-1]
    return import_names(path, package)


@pytest.mark.parametrize("module", TUI_MODULES)
def test_tui_module_leaves_sql_to_the_records_layer(module: str) -> None:
    # The screens and their adapter call the desk; queries live in visitplan.records.
    leaked = sorted(
        m
        for m in imported_by(module)
        if m.split(".")[0] == "sqlalchemy" or m in RECORDS_STORAGE_MODULES
    )
    assert leaked == []


@pytest.mark.parametrize("module", SYNC_MODULES)
def test_sync_module_leaves_sql_to_the_records_layer(module: str) -> None:
    leaked = sorted(
        m
        for m in imported_by(module)
        if m.split(".")[0] == "sqlalchemy" or m in RECORDS_STORAGE_MODULES
    )
    assert leaked == []
    assert "visitplan.sync.source" in SYNC_MODULES


def test_the_tui_scan_sees_every_screen() -> None:
    assert {
        "visitplan.tui.records_adapter",
        "visitplan.tui.screens.patients",
        "visitplan.tui.widgets.row_list",
    } <= set(TUI_MODULES)


PLAN = ["plan", "dextrose-prolotherapy", "--start", "2026-12-01", "--json"]


@pytest.mark.parametrize(
    "argv",
    [
        PLAN,
        ["--clinic", "{clinic}", "--protocols", "{protocols}", *PLAN],
        ["--db=sqlite:///unused.sqlite3", "--user", "kim", *PLAN, "--clinic={clinic}"],
        ["--clinic={clinic}", *PLAN, "--clinician", "dr kim"],
    ],
    ids=["plain", "options-before", "options-around", "with-a-clinician"],
)
def test_plan_command_loads_neither_textual_nor_the_database_layer(
    argv: list[str], tmp_path: Path
) -> None:
    from visitplan.cli.main import COMMAND_MODULES

    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'name = "C"\ntimezone = "Asia/Seoul"\n[[clinicians]]\nname = "Dr Kim"\n'
        'hours = "mon-fri=09:00-12:00"\n',
        encoding="utf-8",
    )
    (tmp_path / "protocols").mkdir()
    argv = [a.format(clinic=clinic, protocols=tmp_path / "protocols") for a in argv]
    code = (
        "import contextlib, io\n"
        "from visitplan.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = main({argv!r})\n"
        "assert status == 0\n"
    )
    loaded = loaded_after(code)
    assert "visitplan.domain.engine" in loaded
    assert not {m for m in loaded if m.split(".")[0] in {"textual", "sqlalchemy", "alembic"}}
    # Options before the command name still let main build only plan's own parser.
    others = set(COMMAND_MODULES) - {"planning"}
    assert not {f"visitplan.cli.{name}" for name in others} & loaded


def test_the_command_table_is_what_the_modules_register() -> None:
    import argparse

    from visitplan.cli.main import COMMANDS_BY_MODULE, build_parser, common_options

    for module, names in COMMANDS_BY_MODULE.items():
        subparsers = argparse.ArgumentParser().add_subparsers()
        __import__(f"visitplan.cli.{module}", fromlist=["register"]).register(
            subparsers, common_options()
        )
        assert sorted(subparsers.choices) == sorted(names), module
        for name in names:
            (built,) = (
                a for a in build_parser(name)._actions if isinstance(a, argparse._SubParsersAction)
            )
            assert sorted(built.choices) == sorted(names), name


def test_wheel_ships_the_bundled_protocols(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("visitplan-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for protocol in (ROOT / "protocols").glob("*.toml"):
        assert f"visitplan/_bundled_protocols/{protocol.name}" in names
    assert "visitplan/_bundled_protocols/protocol.schema.json" in names


@pytest.mark.parametrize(("country", "subdivision"), [("KR", None), ("US", "NY"), ("DE", "BY")])
def test_a_clinic_loads_only_its_own_countrys_holiday_rules(
    country: str, subdivision: str | None
) -> None:
    """The one-module import in ``domain.clinic`` must give what the whole package gives."""
    where = f"country={country!r}, subdivision={subdivision!r}"
    code = (
        "import datetime as dt, json\n"
        "from visitplan.domain.clinic import Clinic, ClinicCalendar, HolidaySource\n"
        f"source = HolidaySource({where})\n"
        "clinic = Clinic(name='C', timezone='UTC', holidays=source)\n"
        "calendar = ClinicCalendar(clinic)\n"
        "days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(730)]\n"
        "print(json.dumps([[str(d), calendar.closed_because(d)] for d in days]))\n"
    )
    lazily = subprocess.run(
        [sys.executable, "-c", f"{code}import sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    whole = subprocess.run(
        [sys.executable, "-c", f"import holidays.countries\n{code}"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    closed, loaded = lazily.stdout.splitlines()[-2:]
    assert closed == whole.stdout.splitlines()[-1]
    assert sum(1 for day, why in json.loads(closed) if why and not why.startswith("closed on")) > 15
    countries = {m for m in json.loads(loaded) if m.startswith("holidays.countries.")}
    assert len(countries) == 1

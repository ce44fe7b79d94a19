"""`visitplan plan` and `visitplan protocols` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run_visitplan


def test_plan_json_for_the_seed_protocol(
    seoul_clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    result = run_visitplan(
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2026-12-11",
        "--time",
        "09:30",
        "--clinic",
        str(seoul_clinic_file),
        "--json",
        env=visitplan_home,
    )
    assert result.status == 0, result.err
    document = json.loads(result.out)
    assert set(document) == {"protocol", "clinic", "visits", "warnings"}
    visits = document["visits"]
    assert [v["key"] for v in visits] == [f"session-{n}" for n in range(1, 7)] + ["follow-up"]
    second = visits[1]
    assert second["target"] == "2026-12-25"
    assert second["start"] == "2026-12-24T09:30:00+09:00"
    assert second["end"] == "2026-12-24T10:15:00+09:00"
    assert second["shifted"] is True
    assert second["reason"] == "Christmas Day"
    assert second["window"] == {"earliest": "2026-12-22", "latest": "2026-12-28"}
    assert visits[0]["shifted"] is False
    assert visits[0]["reason"] is None
    assert visits[-1]["kind"] == "follow-up"
    assert visits[-1]["label"] == "Follow-up"
    assert document["clinic"]["timezone"] == "Asia/Seoul"


def test_plan_table_is_readable(seoul_clinic_file: Path, visitplan_home: dict[str, str]) -> None:
    result = run_visitplan(
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2026-12-11",
        "--clinic",
        str(seoul_clinic_file),
        env=visitplan_home,
    )
    assert result.status == 0, result.err
    lines = result.out.splitlines()
    assert ["VISIT", "DATE", "TIME", "WINDOW", "NOTE"] in [line.split() for line in lines[:3]]
    assert "Session 2 of 6  Thu 2026-12-24  09:00" in result.out
    assert "moved: Christmas Day" in result.out


def test_default_clinic_is_weekdays_in_the_machine_zone(visitplan_home: dict[str, str]) -> None:
    result = run_visitplan(
        "plan", "dextrose-prolotherapy", "--start", "2026-12-12", "--json", env=visitplan_home
    )
    assert result.status == 0, result.err
    first = json.loads(result.out)["visits"][0]
    # Saturday 12 December: the default clinic is closed at weekends. Friday is nearer,
    # but a course never starts before its start date: Monday, inside the window.
    assert first["start"] == "2026-12-14T09:00:00+09:00"
    assert first["reason"] == "closed on Saturdays"


def test_clinic_from_environment_and_user_config(
    seoul_clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    env = {**visitplan_home, "VISITPLAN_CLINIC": str(seoul_clinic_file), "TZ": "UTC"}
    by_env = run_visitplan(
        "plan", "dextrose-prolotherapy", "--start", "2026-12-11", "--json", env=env
    )
    assert json.loads(by_env.out)["clinic"]["name"] == "Example Clinic"
    config = Path(visitplan_home["XDG_CONFIG_HOME"]) / "visitplan"
    config.mkdir(parents=True)
    (config / "clinic.toml").write_text(
        seoul_clinic_file.read_text(encoding="utf-8").replace("Example Clinic", "Config Clinic"),
        encoding="utf-8",
    )
    by_config = run_visitplan(
        "plan", "dextrose-prolotherapy", "--start", "2026-12-11", "--json", env=visitplan_home
    )
    assert json.loads(by_config.out)["clinic"]["name"] == "Config Clinic"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--start", "2026-02-30"], ["'2026-02-30' is not a real date"]),
        (["--start", "2026-12-01", "--time", "25:00"], ["'25:00' is not a time"]),
        (["--start", "2026-12-01", "--time", "9am"], ["'9am' is not a time"]),
        (
            ["--start", "2026-12-01", "--clinic", "/nonexistent/clinic.toml"],
            ["/nonexistent/clinic.toml: cannot read the clinic file"],
        ),
    ],
)
def test_plan_bad_input(
    args: list[str], fragments: list[str], visitplan_home: dict[str, str]
) -> None:
    result = run_visitplan("plan", "dextrose-prolotherapy", *args, env=visitplan_home)
    assert_one_line_error(result, *fragments)


def test_unknown_protocol_lists_the_known_ones(visitplan_home: dict[str, str]) -> None:
    result = run_visitplan("plan", "acupuncture", "--start", "2026-12-01", env=visitplan_home)
    assert_one_line_error(
        result, "unknown protocol 'acupuncture'", "dextrose-prolotherapy", "eswt-plantar-fasciitis"
    )


@pytest.mark.parametrize(
    ("clinic", "fragment"),
    [
        ('timezone = "Asia/Soul"\n', "timezone: unknown time zone 'Asia/Soul'"),
        ('holidays = { country = "ZZ" }\n', "unknown country code 'ZZ'"),
        ('[hours]\nmon = "18:00-09:00"\n', "'18:00-09:00' closes before it opens"),
        ('name = "x\n', "TOML syntax error (line 1)"),
    ],
)
def test_bad_clinic_files(
    tmp_path: Path, clinic: str, fragment: str, visitplan_home: dict[str, str]
) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(clinic, encoding="utf-8")
    result = run_visitplan(
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2026-12-01",
        "--clinic",
        str(path),
        env=visitplan_home,
    )
    assert_one_line_error(result, str(path), fragment)


def test_protocols_list_show_check(visitplan_home: dict[str, str]) -> None:
    listing = run_visitplan("protocols", "list", env=visitplan_home)
    assert listing.status == 0
    assert listing.out.splitlines()[0].split() == ["ID", "VERSION", "VISITS", "TITLE"]
    assert "dextrose-prolotherapy        v1.0     7 visits" in listing.out
    shown = run_visitplan("protocols", "show", "dextrose-prolotherapy", env=visitplan_home)
    assert "doi:10.7759/cureus.102370" in shown.out
    assert "3 months after Session 6 of 6" in shown.out
    checked = run_visitplan("protocols", "check", env=visitplan_home)
    assert checked.status == 0
    assert checked.out.count(": ok") == 4


def test_protocols_check_names_the_bad_file_and_field(
    tmp_path: Path, visitplan_home: dict[str, str]
) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text(
        'title = "T"\nversion = "1"\n[[visits]]\nkey = "a"\nlabel = "A"\n'
        'kind = "treatment"\nduration_minutes = 30\nanchor = "later"\n',
        encoding="utf-8",
    )
    result = run_visitplan("protocols", "check", str(bad), env=visitplan_home)
    assert_one_line_error(result, f"{bad}: visits[0].anchor: 'later' is not an earlier visit")


def test_extra_protocol_directories(tmp_path: Path, visitplan_home: dict[str, str]) -> None:
    here = Path(__file__).resolve().parents[2] / "protocols" / "eswt-plantar-fasciitis.toml"
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    (tmp_path / "a" / "weekly-a.toml").write_text(
        here.read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "b" / "weekly-b.toml").write_text(
        here.read_text(encoding="utf-8"), encoding="utf-8"
    )
    env = {**visitplan_home, "VISITPLAN_PROTOCOLS": str(tmp_path / "b")}
    listing = run_visitplan("protocols", "list", "--protocols", str(tmp_path / "a"), env=env)
    assert "weekly-a" in listing.out
    assert "weekly-b" in listing.out
    (tmp_path / "b" / "weekly-a.toml").write_text("", encoding="utf-8")
    clash = run_visitplan("protocols", "list", "--protocols", str(tmp_path / "a"), env=env)
    assert_one_line_error(
        clash, "'weekly-a' is defined twice", str(tmp_path / "b" / "weekly-a.toml")
    )


def test_python_dash_m_works(visitplan_home: dict[str, str]) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "visitplan", "protocols", "list"],
        capture_output=True,
        text=True,
        check=False,
        env=visitplan_home,
    )
    assert done.returncode == 0
    assert "dextrose-prolotherapy" in done.stdout

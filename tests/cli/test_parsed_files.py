"""Protocol and clinic files are validated once and kept as what they validated to:
the copy is used only for the same text (and the same release, models and libraries),
a bad file is refused every time, and a `visitplan plan` that finds its files kept
never imports pydantic."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.clinics import SEOUL_CLINIC
from visitplan import catalog, parsed_files
from visitplan.domain import clinic as clinic_module
from visitplan.domain.clinic import Clinic, HolidaySource, default_clinic, holidays_in, parse_clinic
from visitplan.errors import InputError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "visitplan"


@pytest.fixture
def clinic_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(SEOUL_CLINIC, encoding="utf-8")
    return path


def _refusing(*_: object) -> Clinic:
    raise AssertionError("validated again")


def test_a_clinic_file_is_validated_once(
    cache: Path, clinic_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = clinic_file
    first = catalog.workstation_clinic(path).clinic
    assert first is not None
    assert first.timezone == "Asia/Seoul"
    kept = list((cache / "clinics").iterdir())
    assert len(kept) == 1
    monkeypatch.setattr(catalog, "parse_clinic", _refusing)
    assert catalog.workstation_clinic(path).clinic == first


def test_an_edited_file_is_validated_again(cache: Path, clinic_file: Path) -> None:
    path = clinic_file
    catalog.workstation_clinic(path)
    path.write_text(SEOUL_CLINIC.replace('"Asia/Seoul"', '"Mars/Olympus"'), encoding="utf-8")
    with pytest.raises(InputError, match=r"clinic\.toml.*Mars/Olympus"):
        catalog.workstation_clinic(path)
    path.write_text(SEOUL_CLINIC.replace('"Asia/Seoul"', '"Europe/Berlin"'), encoding="utf-8")
    found = catalog.workstation_clinic(path).clinic
    assert found is not None
    assert found.timezone == "Europe/Berlin"


def test_a_bad_file_is_refused_every_time_and_never_kept(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SEOUL_CLINIC + '\nwhat = "is this"\n', encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError, match="what"):
            catalog.workstation_clinic(path)
    assert not (cache / "clinics").exists() or not list((cache / "clinics").iterdir())


def test_a_protocol_is_validated_once(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = catalog.ProtocolCatalog(catalog.protocol_dirs()).get("dextrose-prolotherapy")
    monkeypatch.setattr(catalog, "parse_protocol", _refusing)
    again = catalog.ProtocolCatalog(catalog.protocol_dirs()).get("dextrose-prolotherapy")
    assert again.protocol == first.protocol
    assert [s.label for s in again.protocol.steps] == [s.label for s in first.protocol.steps]


def test_an_unreadable_copy_is_validated_anew(cache: Path, clinic_file: Path) -> None:
    path = clinic_file
    first = catalog.workstation_clinic(path).clinic
    (kept,) = (cache / "clinics").iterdir()
    kept.write_bytes(b"not a pickle")
    assert catalog.workstation_clinic(path).clinic == first
    assert kept.read_bytes() != b"not a pickle"
    # A copy of something else under the key (another build's class) is not taken.
    kept.write_bytes(pickle.dumps(["a list"]))
    assert catalog.workstation_clinic(path).clinic == first


def test_copies_are_private_to_their_owner(cache: Path, clinic_file: Path) -> None:
    path = clinic_file
    catalog.workstation_clinic(path)
    (kept,) = (cache / "clinics").iterdir()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE((cache / "clinics").stat().st_mode) == 0o700


def _key_in_a_new_process(data: bytes) -> str:
    parsed_files._build.cache_clear()  # what a process reads once, read again
    return parsed_files.cache_key("clinics", data)


def test_the_key_changes_with_what_validation_depends_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = SEOUL_CLINIC.encode()
    key = _key_in_a_new_process(data)
    assert parsed_files.cache_key("clinics", data) == key
    assert parsed_files.cache_key("protocols", data) != key
    assert parsed_files.cache_key("clinics", data + b"\n") != key
    monkeypatch.setattr(parsed_files, "__version__", "0.0.0-other")
    assert _key_in_a_new_process(data) != key
    monkeypatch.undo()
    monkeypatch.setattr(parsed_files, "_MODELS", ("clinic.py",))
    assert _key_in_a_new_process(data) != key
    monkeypatch.undo()
    monkeypatch.setattr(parsed_files, "_library_version", lambda *_: b"__version__ = '9'")
    assert _key_in_a_new_process(data) != key
    monkeypatch.undo()
    assert _key_in_a_new_process(data) == key


@pytest.mark.parametrize("zone", ["UTC", "Asia/Seoul", "America/New_York", "Europe/Berlin"])
def test_the_default_clinic_is_what_validation_makes(zone: str) -> None:
    made = default_clinic(zone)
    assert made == parse_clinic(f'timezone = "{zone}"\n', "c.toml")
    assert made.hours == {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}


def test_the_default_clinic_refuses_an_unknown_zone() -> None:
    with pytest.raises(Exception, match="Nowhere/Atlantis"):
        default_clinic("Nowhere/Atlantis")


def _in_a_process(home: Path, *argv: str, **env: str) -> tuple[str, str]:
    """`visitplan ARGV` run in a fresh interpreter with ``home`` for its cache: the exit
    status and whether pydantic and the holidays library were loaded, and the output."""
    probe = (
        "import sys, io, contextlib\n"
        "from visitplan.cli.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    status = main({list(argv)!r})\n"
        "print(status, 'pydantic' in sys.modules, 'holidays' in sys.modules)\n"
        "print(out.getvalue())\n"
    )
    clinic = home / "clinic.toml"
    clinic.write_text(SEOUL_CLINIC, encoding="utf-8")
    full_env = {
        **os.environ,
        "XDG_CACHE_HOME": str(home / "cache"),
        "HOME": str(home),
        "VISITPLAN_CLINIC": str(clinic),
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], env=full_env, capture_output=True, text=True, check=True
    )
    loaded, output = done.stdout.split("\n", 1)
    return loaded, output


def test_a_plan_from_kept_files_imports_no_pydantic(tmp_path: Path) -> None:
    argv = ("plan", "dextrose-prolotherapy", "--start", "2027-03-08", "--json")
    runs = [_in_a_process(tmp_path, *argv) for _ in range(2)]
    # The first run validates (with pydantic) and computes Korea's holidays; the
    # second finds both files and the holidays kept, and plans the same course
    # without importing pydantic or the holidays library.
    assert runs[0][0] == "0 True True"
    assert runs[1][0] == "0 False False"
    assert runs[1][1] == runs[0][1]
    assert '"visits"' in runs[1][1]


def test_a_desk_whose_files_and_stored_clinic_are_kept_imports_no_pydantic(
    tmp_path: Path,
) -> None:
    """The stored clinic and the courses' protocol snapshots are kept as the files are:
    after the first reads, a command on the records never validates them again."""
    db = {"VISITPLAN_DB": f"sqlite:///{tmp_path / 'records.sqlite3'}"}
    added = _in_a_process(tmp_path, "patient", "add", "K1", "--name", "Synthetic Kim", **db)
    assert added[0].startswith("0 True")
    enrolled = _in_a_process(
        tmp_path, "enroll", "K1", "dextrose-prolotherapy", "--start", "2027-03-08", **db
    )
    assert enrolled[0].startswith("0 ")
    first = _in_a_process(tmp_path, "agenda", "--date", "2027-03-08", **db)
    again = _in_a_process(tmp_path, "agenda", "--date", "2027-03-08", **db)
    assert again[0].startswith("0 False")
    assert again[1] == first[1]
    assert "Session 1 of 6" in again[1]


@pytest.mark.parametrize(
    ("country", "subdivision", "year"), [("KR", None, 2027), ("US", "NY", 2026)]
)
def test_holidays_kept_are_the_librarys(
    cache: Path, monkeypatch: pytest.MonkeyPatch, country: str, subdivision: str | None, year: int
) -> None:
    source = HolidaySource(country=country, subdivision=subdivision)
    computed = holidays_in(source, year)
    assert len(computed) >= 10
    assert parsed_files.kept_holidays(source, year) == computed
    (kept,) = (cache / "holidays").iterdir()
    monkeypatch.setattr(clinic_module, "holidays_in", _refusing)
    assert parsed_files.kept_holidays(source, year) == computed
    kept.write_text("{not json", encoding="utf-8")
    monkeypatch.undo()
    assert parsed_files.kept_holidays(source, year) == computed
    other = HolidaySource(country=country, subdivision=subdivision)
    assert parsed_files.kept_holidays(other, year + 1) != computed  # a year of its own


def test_a_new_holidays_release_computes_them_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = HolidaySource(country="KR")
    parsed_files.kept_holidays(source, 2027)
    release = parsed_files._library_version
    monkeypatch.setattr(
        parsed_files,
        "_library_version",
        lambda library: b"holidays-99.0.dist-info" if library == "holidays" else release(library),
    )
    parsed_files._build.cache_clear()  # the next process, after the upgrade
    try:
        parsed_files.kept_holidays(source, 2027)
    finally:
        monkeypatch.undo()
        parsed_files._build.cache_clear()
    assert len(list((cache / "holidays").iterdir())) == 2

"""Fuzzing `visitplan import` with generated CSV files: quotes, NULs, long cells,
duplicate and unknown headers, BOMs, CR/LF mixes, bytes that are not UTF-8, and
rows good enough to be imported (so that later files meet stored patients and
courses). For every file the command exits 0, or exits 2 with its errors on stderr;
never a traceback, and after exit 2 every table is exactly as it was.

The command runs in this process (`visitplan.cli.main.main`, the console script's
own function, with the same argument parsing and error printing, through the fuzz
suite's `tests.cli.harness.run_main`, so an internal error fails the test): a whole process
costs about a second here, too slow for hundreds of files. A few files also go
through the real `visitplan` console script, to check it answers the same way.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, text

from tests.cli.harness import run_main
from tests.support.cli import run_visitplan
from visitplan.records import store
from visitplan.records.import_file import COLUMNS, SHOWN

MRNS = ["P1", "p1", " P2 ", "DEMO-001", "demo-001", "Q9"]
PROTOCOLS = ["dextrose-prolotherapy", "eswt-plantar-fasciitis", ""]
DATES = ["2026-04-06", "2026-04-07"]
TIMES = ["10:00", "09:30", ""]
NASTY = [
    '"',
    '""',
    'a"b',
    '"x"y',
    "\x00",
    "\r",
    "\n",
    "\r\n",
    "\ufeff",
    "\x1b[2J",
    ",",
    "😀",
    "\u202e",
    "nope",
    "2027-02-29",
    "2026-4-6",
    "0001-01-01",
    "9999-12-31",
    "25:00",
    "9:30",
]


def good_row() -> st.SearchStrategy[dict[str, str]]:
    """A row the import may well accept: an MRN's name and phone are always the same."""
    return st.builds(
        lambda mrn, protocol, start, time: {
            "mrn": mrn,
            "name": f"Synthetic {mrn.strip().upper()}",
            "phone": f"010-{mrn.strip().upper()}",
            "protocol": protocol,
            "start": start if protocol else "",
            "time": time if protocol else "",
        },
        st.sampled_from(MRNS),
        st.sampled_from(PROTOCOLS),
        st.sampled_from(DATES),
        st.sampled_from(TIMES),
    )


cells = st.one_of(
    st.sampled_from(MRNS + PROTOCOLS + DATES + TIMES + NASTY + ["Synthetic P1", "a@b.example"]),
    st.text(max_size=12),
    st.text(alphabet='",\r\n\x00 ab', max_size=12),
    st.builds(
        lambda ch, n: ch * n,
        st.sampled_from('x9"\n'),
        st.sampled_from([64, 65, 200, 201, 10_001, 140_000]),
    ),
)
headers = st.one_of(
    st.just(list(COLUMNS)),
    st.permutations(list(COLUMNS)),
    st.lists(st.sampled_from([*COLUMNS, "MRN", " Name ", "birthday", "", "name"]), max_size=10),
)


@st.composite
def csv_files(draw: Any) -> bytes:
    kind = draw(st.sampled_from(["good", "good", "mixed", "mixed", "bytes"]))
    if kind == "bytes":
        return bytes(draw(st.binary(max_size=300)))
    header = draw(st.permutations(list(COLUMNS))) if kind == "good" else draw(headers)
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=ending)
    writer.writerow(header)
    for _ in range(draw(st.integers(1, 3) if kind == "good" else st.integers(0, 8))):
        if kind == "good" or draw(st.booleans()):
            row = draw(good_row())
            writer.writerow([row.get(name.strip().lower(), "") for name in header])
        elif draw(st.booleans()):
            writer.writerow(draw(st.lists(cells, max_size=len(header) + 2)))
        else:
            # Written by hand, as a careless editor would: no quoting at all.
            out.write(",".join(draw(st.lists(cells, max_size=len(header) + 2))) + ending)
    data = out.getvalue().encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if kind == "mixed" and draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    return bytes(data)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with engine.connect() as c:
        return {
            name: sorted(
                (tuple(row) for row in c.execute(text(f'SELECT * FROM "{name}"'))), key=repr
            )
            for name in sorted(inspect(c).get_table_names())
        }


@pytest.fixture
def records(
    db_url: str, seoul_clinic_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[list[str], Engine]]:
    for name in list(os.environ):
        if name.startswith("VISITPLAN_"):
            monkeypatch.delenv(name)
    engine = store.make_engine(db_url)
    store.ensure_schema(engine)
    try:
        yield ["--db", db_url, "--clinic", str(seoul_clinic_file), "--user", "fuzz"], engine
    finally:
        engine.dispose()


def check_answer(status: int, out: str, err: str, before: Any, after: Any) -> None:
    assert status in (0, 2), err
    assert "Traceback" not in err
    assert "internal error" not in err
    if status == 0:
        assert err == ""
        assert len(out.splitlines()) == 1
        return
    lines = err.splitlines()
    assert out == ""
    assert 1 <= len(lines) <= SHOWN + 1
    assert all(line.startswith("visitplan: ") for line in lines), lines
    assert after == before


# One database for all of a test's files (they meet what earlier ones stored), and
# imports take longer than hypothesis expects of a test.
FUZZING = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(FUZZING, max_examples=100)
@given(data=csv_files())
def test_any_csv_is_imported_or_refused_with_nothing_changed(
    data: bytes,
    records: tuple[list[str], Engine],
    tmp_path: Path,
) -> None:
    common, engine = records
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    before = dump(engine)
    # With VISITPLAN_DEBUG set, as the fuzz suite runs main: an internal error raises.
    result = run_main(["import", str(path), *common])
    event(f"exit {result.status}" + (" (nothing new)" if "nothing new" in result.out else ""))
    check_answer(result.status, result.out, result.err, before, dump(engine))


@pytest.mark.slow
@settings(FUZZING, max_examples=8)
@given(data=csv_files())
def test_the_console_script_answers_the_same_way(
    data: bytes,
    sqlite_url: str,
    seoul_clinic_file: Path,
    tmp_path: Path,
    visitplan_home: dict[str, str],
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    engine = store.make_engine(sqlite_url)
    try:
        store.ensure_schema(engine)
        before = dump(engine)
        env = {
            **visitplan_home,
            "VISITPLAN_DB": sqlite_url,
            "VISITPLAN_CLINIC": str(seoul_clinic_file),
        }
        result = run_visitplan("import", str(path), env=env)
        check_answer(result.status, result.out, result.err, before, dump(engine))
    finally:
        engine.dispose()

"""Reading an import file: the CSV read strictly, every cell checked, and every bad
row named (the first ``SHOWN`` of them, then how many), in one pass.

What a cell may hold is what the records hold: the patient fields' limits are
``patients.LIMITS`` (the table's column sizes), the rest come from the schema.
Rows are numbered as a spreadsheet shows them: the header is row 1, and a quoted
cell that spans lines is still one row.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import ColumnElement, String

from visitplan.catalog import ProtocolFile
from visitplan.domain.limits import outside
from visitplan.errors import InputError, InputErrors
from visitplan.records.enrollments import DEFAULT_TIME
from visitplan.records.patients import LIMITS, PatientFieldError, check_patient
from visitplan.records.reading import mrn_key
from visitplan.records.schema import CLINICIANS, SNAPSHOTS

if TYPE_CHECKING:
    from visitplan.records.clinic_settings import ClinicianRecord
    from visitplan.records.courses import CourseBuilding


def _size(column: ColumnElement[Any]) -> int:
    kind = column.type
    assert isinstance(kind, String)
    assert kind.length is not None
    return kind.length


COLUMNS = (
    "mrn",
    "name",
    "phone",
    "email",
    "notes",
    "notify",
    "protocol",
    "start",
    "time",
    "clinician",
)
SHOWN = 50
LONGEST = {
    **LIMITS,
    "notify": 5,
    "protocol": _size(SNAPSHOTS.c.protocol_id),
    "start": 10,
    "time": 5,
    "clinician": _size(CLINICIANS.c.name),
}
# Longer than any row can be (every cell at its limit, every quote doubled): a
# longer line is not a patient list (or is /dev/zero), and is not read into memory.
LONGEST_LINE = 1_000_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_NOTES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}")
Record = tuple[int, list[str] | None, tuple[int | None, str] | None]


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    key: str  # the MRN as rows and records are matched (reading.mrn_key)
    patient: dict[str, Any]  # mrn, name, phone, email, as check_patient gives them
    notes: str
    protocol: ProtocolFile | None
    start: dt.date | None
    time: dt.time
    clinician: str | None  # as the clinic's list of clinicians spells it
    clinician_id: int | None


@dataclass
class Batch:
    """The rows that passed every check, and the patients they name, merged: a
    patient's cells left empty on one row may be given on another, never differently."""

    path: Path
    rows: list[Row]
    patients: dict[str, dict[str, Any]]  # key -> mrn, name, phone, email, notes
    first_row: dict[str, int]  # key -> the row that names the patient first


@dataclass
class Problems:
    """Each bad row's problems ("column X: ..."), kept for the first SHOWN rows."""

    path: Path
    shown: dict[int, list[str]] = field(default_factory=dict)
    bad: set[int] = field(default_factory=set)

    def add(self, row: int, column: str | None, text: str) -> None:
        self.bad.add(row)
        if row in self.shown or len(self.shown) < SHOWN:
            self.shown.setdefault(row, []).append(f"column {column}: {text}" if column else text)
        elif row < max(self.shown):
            # Rows are usually found in order; when not, the first SHOWN still win.
            del self.shown[max(self.shown)]
            self.shown[row] = [f"column {column}: {text}" if column else text]

    def __contains__(self, row: int) -> bool:
        return row in self.bad

    def __bool__(self) -> bool:
        return bool(self.bad)

    def check(self) -> None:
        """Nothing, or the error that lists every bad row (one line each)."""
        if not self.bad:
            return
        lines = [f"{self.path}: row {n}{_joined(self.shown[n])}" for n in sorted(self.shown)]
        if len(self.bad) == 1:
            raise InputError(f"{lines[0]}; nothing was imported")
        listed = "" if len(self.bad) <= SHOWN else f", the first {SHOWN} listed above"
        raise InputErrors(
            lines, f"{self.path}: {len(self.bad)} rows have problems{listed}; nothing was imported"
        )


def read_file(desk: CourseBuilding, path: Path) -> tuple[Batch, Problems]:
    """Every row read and checked on its own and against the file's other rows."""
    problems = Problems(path)
    try:
        with path.open("rb") as raw:
            if raw.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                raise InputError(f"{path}: the file is UTF-16; save it as CSV in UTF-8")
        # Bytes that are not UTF-8 become lone surrogates, found per cell below, so
        # that the row and column are named rather than the whole file refused.
        handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    with handle:
        try:
            records = list(_records(handle, path))
        except OSError as exc:
            raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if not records:
        raise InputError(f"{path}: the file is empty (a header row naming mrn and name is needed)")
    header = _header(path, records[0][1])
    if len(records) == 1:
        raise InputError(f"{path}: no rows under the header")
    checker = _RowChecker(desk, path, header, problems)
    for number, cells, fault in records[1:]:
        if cells is not None:
            checker.check(number, cells)
        elif fault is not None:
            index, text = fault
            column = None if index is None else _column_name(header, index)
            problems.add(number, column, text)
    if not checker.rows and not problems:
        raise InputError(f"{path}: no rows under the header (only empty ones)")
    return Batch(path, checker.rows, checker.patients, checker.first_row), problems


def _records(handle: TextIO, path: Path) -> Iterator[Record]:
    """(row number, cells, None) for each record, or (row number, None, (the cell at
    fault, the problem)) for one that csv refused."""
    lines = _Lines(handle, path)
    reader = csv.reader(lines, strict=True)
    number = 0
    while True:
        lines.taken.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            problem = _csv_problem(str(exc))
            if number == 1:
                raise InputError(f"{path}: row 1 (the header): {problem}") from None
            if len(lines.taken) > 1:
                problem += f" (it runs over {len(lines.taken)} lines)"
            yield number, None, (_fault("".join(lines.taken)), problem)
            continue
        number += 1
        yield number, cells, None


def _column_name(header: list[str], index: int) -> str:
    return header[index] if index < len(header) else f"{index + 1} (past the header's last)"


class _Lines:
    """The file's lines for the csv reader, keeping those of the record being read
    (to say which cell an unclosed quote opened), never one longer than LONGEST_LINE."""

    def __init__(self, handle: TextIO, path: Path) -> None:
        self.handle = handle
        self.path = path
        self.number = 0
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(LONGEST_LINE + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > LONGEST_LINE:
            raise InputError(
                f"{self.path}: line {self.number} is over {LONGEST_LINE:,} characters long; "
                "this is not a CSV list of patients"
            )
        self.taken.append(line)
        return line


def _csv_problem(message: str) -> str:
    if message == "unexpected end of data":
        return "a quote is opened and never closed"
    if message.startswith("field larger than field limit"):
        return f"a cell over {csv.field_size_limit():,} characters (a quote left open?)"
    if "expected after" in message:
        return (
            "text after the closing quote of a cell "
            "(quote the whole cell, and double the quotes inside it)"
        )
    return f"not readable as CSV ({message})"


def _fault(text: str) -> int | None:
    """Which cell (0-based) of a record a quote went wrong in: after a closing quote
    comes something other than a comma or the line's end, or a quote never closes.
    A diagnosis only: csv has already refused the record."""
    cell, quoted, closed = 0, False, False
    at_start = True
    for ch in text:
        if quoted:
            if ch == '"':
                quoted, closed = False, True
            continue
        if closed:
            if ch == '"':  # a doubled quote inside the cell
                quoted, closed = True, False
                continue
            if ch not in ",\r\n":
                return cell
            closed = False
        if ch == ",":
            cell, at_start = cell + 1, True
        elif ch in "\r\n":
            break
        elif ch == '"' and at_start:
            quoted, at_start = True, False
        else:
            at_start = False
    return cell if quoted else None


def _header(path: Path, cells: list[str] | None) -> list[str]:
    if cells is None:
        raise InputError(f"{path}: row 1 (the header) cannot be read as CSV")
    names = [cell.strip().lower() for cell in cells]
    wrong: list[str] = []
    for index, name in enumerate(names, start=1):
        if not name:
            wrong.append(f"column {index} has no name")
        elif name not in COLUMNS:
            wrong.append(f"unknown column {_shown(name)}")
        elif names.index(name) + 1 != index:
            wrong.append(f"column {name} twice (columns {names.index(name) + 1} and {index})")
    missing = [name for name in ("mrn", "name") if name not in names]
    if missing:
        wrong.append(f"no column {' or '.join(missing)}")
    if wrong:
        raise InputError(
            f"{path}: row 1 (the header): {'; '.join(wrong)} (the columns are "
            f"{', '.join(COLUMNS)}; mrn and name are needed, each once)"
        )
    return names


class _RowChecker:
    """One row at a time: its cells, then against the rows before it."""

    def __init__(
        self, desk: CourseBuilding, path: Path, header: list[str], problems: Problems
    ) -> None:
        self.desk = desk
        self.path = path
        self.header = header
        self.problems = problems
        self.rows: list[Row] = []
        self.patients: dict[str, dict[str, Any]] = {}
        self.first_row: dict[str, int] = {}
        self.courses: dict[tuple[str, str], int] = {}
        self.protocols: dict[str, ProtocolFile | InputError] = {}

    def check(self, number: int, cells: list[str]) -> None:
        width = len(self.header)
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            self.problems.add(
                number,
                None,
                f"{len(cells)} cells, but the header names {width} "
                f"column{'' if width == 1 else 's'} "
                "(a comma too many, or a cell that needed quotes?)",
            )
        cell = {
            name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(self.header)
        }
        if not any(cell.values()):
            return  # an empty row (a spreadsheet's trailing ones): nothing to import
        bad = {name for name, value in cell.items() if self._cell(number, name, value)}
        swallowed = 0 if "notes" in bad else self._swallowed(cell.get("notes", ""))
        if swallowed:
            self.problems.add(
                number,
                "notes",
                f"line {swallowed} of the cell reads like a row of this file: a quote left "
                "open where the cell begins? (if the note is meant so, word that line otherwise)",
            )
            bad.add("notes")
        row = self._row(number, cell, bad)
        if row is not None and number not in self.problems:
            self._against_earlier(row)
            if number not in self.problems:
                self.rows.append(row)

    def _swallowed(self, notes: str) -> int:
        """The first line after the first of a notes cell that parses as a row of this
        file (as many cells, an MRN-like first and a name): what a quote opened in
        notes and closed rows later takes in; 0 when there is none."""
        width = len(self.header)
        mrn, name = self.header.index("mrn"), self.header.index("name")
        for index, line in enumerate(notes.splitlines()[1:], start=2):
            cells = next(csv.reader([line]), [])
            if (
                len(cells) == width
                and cells[name].strip()
                and 0 < len(cells[mrn].strip()) <= LIMITS["mrn"]
                and " " not in cells[mrn].strip()
            ):
                return index
        return 0

    def _cell(self, number: int, column: str, value: str) -> bool:
        """True (and the problem noted) when the cell cannot be what the records keep."""
        problem = None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            problem = "not UTF-8 text (save the file as CSV in UTF-8)"
        if problem is None and "\x00" in value:
            problem = "holds a NUL character"
        elif problem is None and column != "notes" and ("\n" in value or "\r" in value):
            problem = "holds a line break (only notes may; a quote left open above it?)"
        elif problem is None:
            found = (_CONTROL_IN_NOTES if column == "notes" else _CONTROL).search(value)
            if found:
                problem = f"holds a control character (U+{ord(found.group()):04X})"
        if problem is None and len(value) > LONGEST[column]:
            problem = f"{len(value):,} characters, at most {LONGEST[column]:,}"
        if problem is not None:
            self.problems.add(number, column, problem)
        return problem is not None

    def _row(self, number: int, cell: dict[str, str], bad: set[str]) -> Row | None:
        add = self.problems.add
        patient = None
        if not bad & {"mrn", "name"}:
            # The cells already refused are left out, so that the rest are still checked.
            given = {
                k: "" if k in bad else cell.get(k, "")
                for k in ("phone", "email", "notes", "notify")
            }
            try:
                patient = check_patient(
                    cell["mrn"],
                    cell["name"],
                    given["phone"],
                    given["email"],
                    notes=given["notes"],
                    notify=given["notify"],
                )
                # An empty notify cell says nothing (a new patient is then asked nothing:
                # 'none'); only a given one is compared with the records.
                patient["notify"] = patient["notify"] if given["notify"] else ""
            except PatientFieldError as exc:
                add(number, exc.field, exc.message)
        protocol = start = None
        time = DEFAULT_TIME
        if cell.get("protocol") and "protocol" not in bad:
            protocol = self._protocol(number, cell["protocol"])
            if "start" not in bad:
                start = _date(cell.get("start", ""))
                if start is None:
                    text = _shown(cell.get("start", ""))
                    add(number, "start", f"{text} is not a date (YYYY-MM-DD)")
                elif outside(start):
                    add(number, "start", f"{outside(start)}")
            if cell.get("time") and "time" not in bad:
                parsed = _time(cell["time"])
                if parsed is None:
                    add(number, "time", f"{_shown(cell['time'])} is not a time like 09:30")
                time = parsed or time
        elif not cell.get("protocol") and any(cell.get(c) for c in ("start", "time", "clinician")):
            add(number, "protocol", "a start, time or clinician needs a protocol")
        clinician = None
        if cell.get("clinician") and "clinician" not in bad:
            clinician = self._clinician(number, cell["clinician"])
        if patient is None or number in self.problems:
            return None
        return Row(
            number,
            mrn_key(patient["mrn"]),
            patient,
            cell.get("notes", ""),
            protocol,
            start,
            time,
            clinician.name if clinician else None,
            clinician.id if clinician else None,
        )

    def _clinician(self, number: int, name: str) -> ClinicianRecord | None:
        """One of the clinic's clinicians (as the records hold them when the file is read)."""
        try:
            return self.desk.state.clinician(name)
        except InputError as exc:
            self.problems.add(number, "clinician", exc.cli_message)
            return None

    def _protocol(self, number: int, protocol_id: str) -> ProtocolFile | None:
        if protocol_id not in self.protocols:
            try:
                self.protocols[protocol_id] = self.desk.catalog.get(protocol_id)
            except InputError as exc:
                self.protocols[protocol_id] = exc
        found = self.protocols[protocol_id]
        if isinstance(found, InputError):
            self.problems.add(number, "protocol", found.message)
            return None
        return found

    def _against_earlier(self, row: Row) -> None:
        """A patient on several rows is one patient: the same name on every row, and
        phone, e-mail and notes either left empty or the same; one course per protocol."""
        add = self.problems.add
        merged = self.patients.get(row.key)
        if merged is None:
            self.patients[row.key] = {**row.patient, "notes": row.notes}
            self.first_row[row.key] = row.number
        else:
            first = self.first_row[row.key]
            given = {**row.patient, "notes": row.notes}
            for name in ("name", "phone", "email", "notes", "notify"):
                if not given[name]:
                    continue
                if not merged[name]:
                    merged[name] = given[name]
                elif merged[name] != given[name]:
                    mrn = row.patient["mrn"]
                    add(row.number, name, f"MRN {mrn} has another {name} on row {first}")
        if row.protocol is not None:
            course = (row.key, row.protocol.id)
            earlier = self.courses.setdefault(course, row.number)
            if earlier != row.number:
                add(
                    row.number,
                    "protocol",
                    f"MRN {row.patient['mrn']} is enrolled in {row.protocol.id} on row {earlier} "
                    "already (one running course per patient and protocol)",
                )


def _joined(problems: list[str]) -> str:
    """ "row 3, column phone: ...; column email: ..." or "row 3: 12 cells, but ..."."""
    text = "; ".join(problems)
    return f", {text}" if text.startswith("column ") else f": {text}"


def _date(text: str) -> dt.date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _time(text: str) -> dt.time | None:
    if not _TIME.fullmatch(text):
        return None
    try:
        return dt.time(int(text[:2]), int(text[3:]))
    except ValueError:
        return None


def _shown(value: str) -> str:
    """A value quoted in a message: short, and one line."""
    return repr(value if len(value) <= 40 else value[:40] + "...")

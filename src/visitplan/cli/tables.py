"""What the records commands print as text: tables that fit the terminal, and changes
in words.

A table fits the terminal's width (never less than 80 columns; ``COLUMNS`` wins, as
``shutil.get_terminal_size`` reads it): first its optional columns are left out,
then its longest free-text columns are wrapped, never a column marked ``keep`` (a
status, a time, an id). Widths are counted in terminal cells, so a name in Hangul
takes the room it takes on screen.
"""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from visitplan.records.views import VisitChange, VisitView

MIN_WIDTH = 80
GAP = "  "
NARROWEST = 8  # a wrapped column keeps at least this many cells (or its heading's)
ROOMY = 20  # a column that gives way first keeps this many while others can give


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 visit``, ``2 visits``, ``0 visits``."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def terminal_width() -> int:
    return max(MIN_WIDTH, shutil.get_terminal_size((MIN_WIDTH, 24)).columns)


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cells(text))


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells: at spaces where it can, inside a
    word only where one alone is longer than a line."""
    lines: list[str] = []
    line = ""
    for given in text.split():
        word = given
        candidate = f"{line} {word}" if line else word
        if cells(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while cells(word) > width:
            head = _longest_start(word, width)
            lines.append(head)
            word = word[len(head) :]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


def _longest_start(word: str, width: int) -> str:
    """As much of ``word`` as fits in ``width`` cells, ending after a hyphen, a slash,
    a comma, an equals sign or an underscore where one is near enough."""
    end = 0
    while end < len(word) and cells(word[: end + 1]) <= width:
        end += 1
    end = max(end, 1)  # a character wider than the column still goes somewhere
    breaks = [i + 1 for i in range(end) if word[i] in "-/,_.="]
    if breaks and breaks[-1] >= end // 2 and breaks[-1] < len(word):
        return word[: breaks[-1]]
    return word[:end]


@dataclass(frozen=True, slots=True)
class Column:
    head: str
    keep: bool = False  # never wrapped: a status, a time, a date, an id
    optional: bool = False  # left out (last ones first) where the table cannot fit
    # Free text that gives way first (a name, a title, a change), down to ROOMY cells,
    # before the other free columns wrap too.
    gives: bool = False


def _fitted_widths(columns: Sequence[Column], natural: list[int], width: int) -> list[int]:
    """Each column's width: the columns that give way narrowed first (down to ROOMY),
    then every free one, the widest a cell at a time, until the table fits in
    ``width`` or none can narrow further."""
    widths = list(natural)
    room = width - cells(GAP) * (len(widths) - 1)
    least = [
        w if c.keep else min(w, max(NARROWEST, cells(c.head)))
        for c, w in zip(columns, widths, strict=True)
    ]
    first = [
        min(w, max(ROOMY, low)) if c.gives else w
        for c, w, low in zip(columns, widths, least, strict=True)
    ]
    for floors in (first, least):
        while sum(widths) > room:
            narrowable = [i for i, w in enumerate(widths) if w > floors[i]]
            if not narrowable:
                break
            widest = max(narrowable, key=lambda i: (widths[i], i))
            widths[widest] -= 1
    return widths


def render(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None = None,
) -> str:
    """The rows under their headings, fitted to ``width`` (default: the terminal's;
    0: as wide as the rows are)."""
    return render_sections(columns, [("", rows)], width=width)


def render_sections(
    columns: Sequence[Column],
    sections: Sequence[tuple[str, Sequence[Sequence[str]]]],
    *,
    width: int | None = None,
) -> str:
    """Groups of rows (a day, a course), each under its own heading line and with the
    same columns, laid out once for all of them."""
    limit = terminal_width() if width is None else width
    every = [[c.head for c in columns], *(row for _, rows in sections for row in rows)]
    shown = list(range(len(columns)))

    def natural(index: int) -> int:
        return max(cells(r[index]) for r in every)

    def total(indices: list[int]) -> int:
        return sum(natural(i) for i in indices) + cells(GAP) * (len(indices) - 1)

    if limit:
        for index in reversed(range(len(columns))):
            if total(shown) <= limit:
                break
            if columns[index].optional:
                shown.remove(index)
    chosen = [columns[i] for i in shown]
    natural_widths = [natural(i) for i in shown]
    widths = _fitted_widths(chosen, natural_widths, limit) if limit else natural_widths
    blocks: list[str] = []
    for heading, rows in sections:
        out = [fit_lines(heading, limit)] if heading else []
        for row in [[c.head for c in chosen], *([r[i] for i in shown] for r in rows)]:
            parts = [
                wrap(cell, w) if cells(cell) > w else [cell]
                for cell, w in zip(row, widths, strict=True)
            ]
            for n in range(max(len(p) for p in parts)):
                line = GAP.join(
                    _pad(p[n] if n < len(p) else "", w) for p, w in zip(parts, widths, strict=True)
                )
                out.append(line.rstrip())
        blocks.append("\n".join(out))
    return "\n\n".join(blocks)


def table(rows: Sequence[Sequence[str]], keep: Iterable[int] = ()) -> str:
    """A table whose first row is its headings; the columns numbered in ``keep`` are
    never wrapped, and the last one gives way first."""
    if not rows:
        return ""
    kept = set(keep)
    last = len(rows[0]) - 1
    columns = [
        Column(head, keep=i in kept, gives=i == last and i not in kept)
        for i, head in enumerate(rows[0])
    ]
    return render(columns, rows[1:])


def fit_lines(text: str, width: int | None = None) -> str:
    """Lines of words fitted to the terminal: a long one continues below, indented
    two more than it began."""
    limit = terminal_width() if width is None else width
    out: list[str] = []
    for line in text.splitlines():
        if not limit or cells(line) <= limit:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        first, *rest = wrap(line.strip(), limit - cells(indent))
        out.append(indent + first)
        more = indent + "  "
        if rest:
            out.extend(more + part for part in wrap(" ".join(rest), limit - cells(more)))
    return "\n".join(out)


# -- visits ---------------------------------------------------------------------------


def patient_words(v: VisitView, *, names: bool = False) -> str:
    """A patient as the visit commands name them: initials and MRN, as the staff
    export does; the full name only when asked for (``--names``)."""
    from visitplan.domain.ical import Patient

    who = v.patient_name if names else Patient(v.mrn, v.patient_name).initials
    return f"{who} MRN {v.mrn}"


def _status(v: VisitView) -> str:
    return v.status + ("!" if v.deviation or v.warnings else "")


def course_visit_table(visits: Iterable[VisitView], *, wide: bool = False) -> str:
    """A course's visits: when, their state and their window."""
    return course_visit_sections([("", visits)], wide=wide)


def course_visit_sections(
    sections: Sequence[tuple[str, Iterable[VisitView]]], *, wide: bool = False
) -> str:
    """Courses' visits, each course under its heading."""
    columns = [
        Column("ID", keep=True),
        Column("DATE", keep=True),
        Column("TIME", keep=True),
        Column("STATUS", keep=True),
        Column("VISIT", gives=True),
        Column("TARGET", keep=True, optional=True),
        Column("WINDOW", keep=True, optional=True),
    ]
    if wide:
        columns[4:4] = [Column("KEY")]
        columns += [Column("REV", keep=True), Column("UID", keep=True)]
    return render_sections(
        columns,
        [(heading, [_course_row(v, wide) for v in visits]) for heading, visits in sections],
        width=0 if wide else None,
    )


def _course_row(v: VisitView, wide: bool) -> list[str]:
    row = [
        str(v.id),
        f"{v.start:%a %Y-%m-%d}",
        f"{v.start:%H:%M}-{v.end:%H:%M}",
        _status(v),
        v.label,
        f"{v.target:%m-%d}",
        f"{v.earliest:%m-%d}..{v.latest:%m-%d}",
    ]
    if wide:
        row[4:4] = [v.key]
        row += [str(v.revision), v.uid]
    return row


def agenda_sections(
    sections: Sequence[tuple[str, Iterable[VisitView]]],
    *,
    names: bool = False,
    wide: bool = False,
) -> str:
    """Days of visits, each under its heading: when, whose, with whom."""
    columns = [
        Column("ID", keep=True),
        Column("TIME", keep=True),
        Column("STATUS", keep=True),
        Column("PATIENT", gives=True),
        Column("CLINICIAN"),
        Column("VISIT", gives=True),
        Column("WINDOW", keep=True, optional=True),
    ]
    if wide:
        columns += [
            Column("KEY"),
            Column("TARGET", keep=True),
            Column("REV", keep=True),
            Column("UID", keep=True),
        ]
    return render_sections(
        columns,
        [(head, [_agenda_row(v, names, wide) for v in visits]) for head, visits in sections],
        width=0 if wide else None,
    )


def _agenda_row(v: VisitView, names: bool, wide: bool) -> list[str]:
    row = [
        str(v.id),
        f"{v.start:%H:%M}-{v.end:%H:%M}",
        _status(v),
        patient_words(v, names=names),
        v.clinician or "-",
        v.label,
        f"{v.earliest:%m-%d}..{v.latest:%m-%d}",
    ]
    if wide:
        row += [v.key, f"{v.target:%m-%d}", str(v.revision), v.uid]
    return row


def change_lines(change: VisitChange) -> str:
    """What a change did, in words: the visit, why it is where it is, what the cascade
    moved (and why), and which visits placed by hand it left where they were."""
    v = change.visit
    lines = [
        f"visit {v.id}: {v.label} for {patient_words(v)}: {v.status}, "
        f"{v.start:%a %Y-%m-%d %H:%M} (rev {v.revision})"
    ]
    if v.reason:
        lines.append(f"  why: {v.reason}")
    if v.deviation:
        lines.append(f"! deviation: {v.deviation}")
    for m in change.moved:
        lines.append(f"  moved: visit {m.id} ({m.label}) to {m.start:%a %Y-%m-%d %H:%M}")
        if m.reason:
            lines.append(f"    why: {m.reason}")
    for p in change.left:
        off = (p.start.date() - p.target).days
        where = (
            "on its target day"
            if off == 0
            else (
                f"{abs(off)} day{'s' if abs(off) != 1 else ''} "
                f"{'after' if off > 0 else 'before'} its new target {p.target:%a %Y-%m-%d}"
            )
        )
        lines.append(
            f"  left where it was placed by hand: visit {p.id} ({p.label}) on "
            f"{p.start:%a %Y-%m-%d %H:%M}, {where}"
        )
        if p.deviation:
            lines.append(f"! deviation: {p.deviation}")
    lines += [f"! {w}" for w in change.warnings]
    return fit_lines("\n".join(lines))


def placement_lines(visits: Iterable[VisitView]) -> list[str]:
    """Why the visits of a course are not simply at their asked day and time."""
    lines = []
    for v in visits:
        if v.reason:
            moved = f" (target {v.target:%a %Y-%m-%d})" if v.start.date() != v.target else ""
            lines.append(f"  {v.label} on {v.start:%a %Y-%m-%d %H:%M}{moved}: {v.reason}")
        if v.deviation:
            lines.append(f"! {v.label}: deviation: {v.deviation}")
    return fit_lines("\n".join(lines)).splitlines() if lines else []

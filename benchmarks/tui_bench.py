"""TUI benchmark (run by hand; prints figures, asserts nothing).

Builds a database of 10,000 patients with a course each (dextrose-prolotherapy:
7 visits, so 70,000 visits) through the records layer's CSV import, then measures:

- start to the first painted agenda: the real `visitplan tui` in a tmux window,
  from launching the process until the day's visit count is on the terminal;
- a keypress to the updated screen, in process with Textual's Pilot (next day on
  the agenda, a character typed in the patient search, next month) and through
  tmux (next day on the agenda, key sent until the terminal shows the new day);
- F6 to the worklist's rows on screen, in process (the list read anew each time);
- the enroll form's preview in process: the last character of the time typed, with
  a clinician of 2,000 courses chosen, to the new plan on screen; then the same for
  the start date's last digit, a day whose week was not read before.

    python benchmarks/tui_bench.py [--patients N] [--runs N] [--keep DIR]

(--keep builds the database in DIR once and reuses it on later runs.)

Targets (issue 5): first paint under 1 s, a keypress under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench_setup import (
    add_keep_option,
    build_database,
    clinic_text,
    seed_course,
    visitplan,
    weekday_starts,
    work_folder,
)

CLINIC = clinic_text(timezone="Asia/Seoul", capacity=8, extra=['holidays = { country = "KR" }'])
FIRST_START = dt.date(2026, 1, 5)
AGENDA_DAY = dt.date(2026, 9, 15)


def patients(count: int) -> list[dict[str, str]]:
    starts = weekday_starts(FIRST_START, 300)
    return [
        seed_course(n, starts[n * 7 % len(starts)], 9 * 60 + (n * 15) % (7 * 60))
        for n in range(count)
    ]


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def wait(self, seen: Callable[[str], bool], timeout: float = 30) -> float:
        began = time.perf_counter()
        while time.perf_counter() - began < timeout:
            if seen(self("capture-pane", "-p", "-t", "b")):
                return time.perf_counter()
            time.sleep(0.005)
        raise SystemExit("the screen never showed what was expected")


def bench_terminal(url: str, clinic_file: Path, folder: Path, runs: int) -> None:
    if shutil.which("tmux") is None:
        print("tmux: not installed; whole-process figures skipped")
        return
    env = [
        f"VISITPLAN_DB={url}",
        f"VISITPLAN_CLINIC={clinic_file}",
        f"PATH={os.environ.get('PATH', '')}",
        f"HOME={folder}",
        "TERM=xterm-256color",
        # To time another checkout's code alongside (PYTHONPATH=.../src).
        *([f"PYTHONPATH={os.environ['PYTHONPATH']}"] if "PYTHONPATH" in os.environ else []),
    ]
    paints, keys = [], []
    day = f"{AGENDA_DAY:%a %Y-%m-%d}"
    following = f"{AGENDA_DAY + dt.timedelta(days=1):%a %Y-%m-%d}"
    for n in range(runs):
        tmux = Tmux(folder / f"tmux-{n}.sock")
        command = visitplan("tui", "--today", AGENDA_DAY.isoformat())
        began = time.perf_counter()
        tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "b", "env", "-i", *env, *command)
        painted = tmux.wait(lambda s: day in s and " visits" in s)
        paints.append(painted - began)
        time.sleep(0.3)
        began = time.perf_counter()
        tmux("send-keys", "-t", "b", "]")
        keys.append(tmux.wait(lambda s: following in s and " visits" in s) - began)
        tmux("send-keys", "-t", "b", "C-q")
        time.sleep(0.3)
        tmux("kill-server")
    print("whole process in tmux (120x40):")
    print(f"  start to first painted agenda (median of {runs}) {statistics.median(paints):6.3f} s")
    print(f"  ']' to the next day's agenda on screen (median) {statistics.median(keys):6.3f} s")


async def bench_pilot(url: str, clinic_file: Path, runs: int) -> None:  # noqa: PLR0915
    from textual.screen import Screen
    from textual.widgets import Checkbox, Input, Select

    from visitplan.catalog import ProtocolCatalog, load_clinic, protocol_dirs
    from visitplan.records.operations import open_desk
    from visitplan.tui.app import make_app
    from visitplan.tui.records_adapter import RecordsData
    from visitplan.tui.screens.agenda import AgendaScreen
    from visitplan.tui.screens.enroll import DEBOUNCE, EnrollScreen
    from visitplan.tui.screens.month import MonthScreen
    from visitplan.tui.screens.patients import PatientsScreen
    from visitplan.tui.screens.worklist import WorklistScreen

    clinic = load_clinic(clinic_file)
    catalog = ProtocolCatalog(protocol_dirs(env={}))
    desk = open_desk(url, clinic, catalog, "bench")
    app = make_app(RecordsData(desk), clinic, catalog, today=AGENDA_DAY, refresh_seconds=3600)
    paints: list[float] = []
    pending: list[asyncio.Task[None]] = []
    compositor_refresh = Screen._compositor_refresh

    def traced(screen: Screen[object]) -> None:
        # Textual has no public "painted" event; this is where a screen is drawn.
        compositor_refresh(screen)
        paints.append(time.perf_counter())

    Screen._compositor_refresh = traced  # type: ignore[method-assign]
    next_day, search, next_month, preview, new_week = [], [], [], [], []
    worklist: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:

        async def until(done: Callable[[], bool]) -> float:
            """When the screen was next painted after ``done()`` came true."""
            while not done():
                await asyncio.sleep(0.001)
            ready = time.perf_counter()
            while not paints or paints[-1] < ready:
                await asyncio.sleep(0.001)
            return paints[-1]

        async def wait(done: Callable[[], bool]) -> None:
            """Between measurements: until ``done()``, painted or not."""
            while not done():
                await asyncio.sleep(0.001)
            await pilot.pause()

        def key(name: str) -> None:
            # Pilot.press also waits for background work (the neighbours being read
            # ahead); a person sees the screen change before that is done.
            pending.append(asyncio.create_task(pilot.press(name)))

        await wait(lambda: isinstance(app.screen, AgendaScreen) and bool(app.screen.rows))
        for _ in range(runs):
            await asyncio.sleep(0.5)  # as a person would, between two keys
            screen = app.screen
            assert isinstance(screen, AgendaScreen)
            before = screen.day
            began = time.perf_counter()
            key("right_square_bracket")
            next_day.append(
                await until(lambda s=screen, b=before: s.day != b and s.shown_span == s.span())
                - began
            )
        await pilot.press("f3")
        patients = app.screen
        assert isinstance(patients, PatientsScreen)
        await wait(lambda: bool(patients.rows))
        for n in range(runs):
            typed = f"B00{n + 1}"
            await pilot.press(*typed[:-1])
            await wait(lambda t=typed[:-1]: patients.shown_text == t)
            await asyncio.sleep(0.5)
            began = time.perf_counter()
            key(typed[-1])
            search.append(await until(lambda t=typed: patients.shown_text == t) - began)
            for _ in typed:
                await pilot.press("backspace")
        await pilot.press("f4")
        month = app.screen
        assert isinstance(month, MonthScreen)
        await wait(lambda: bool(month.counts))
        for _ in range(runs):
            await asyncio.sleep(0.5)
            first = month.first
            began = time.perf_counter()
            key("right_square_bracket")
            next_month.append(
                await until(
                    lambda f=first: month.first != f and month.counted_from == month.weeks[0][0]
                )
                - began
            )
        # F6 from the month to the worklist's rows on screen, read anew each time: the
        # database's courses start in 2026 without outcomes, so it holds tens of
        # thousands of overdue visits, of which the screen shows the oldest 1,000.
        seen: object = None  # the rows the worklist showed last time
        for _ in range(runs):
            await pilot.press("f4")
            await asyncio.sleep(0.5)
            began = time.perf_counter()
            key("f6")
            worklist.append(
                await asyncio.wait_for(
                    until(
                        lambda s=seen: (
                            isinstance(app.screen, WorklistScreen)
                            and bool(app.screen.items)
                            and app.screen.items is not s
                        )
                    ),
                    60,
                )
                - began
            )
            seen = getattr(app.screen, "items", None)
        # The enroll form's preview with a clinician of 2,000 courses (14,000 visits): the
        # last character of the time typed ("10:1" is no time yet), to the plan of that
        # time on screen, the records' dry run of the enrollment included (a second
        # course, ticked). The same week's bookings serve each time (the records are
        # unchanged), as when a person types a time; then the start day, whose week
        # is read anew each time.
        enroll = EnrollScreen(mrn=f"B{0:06d}", protocol_id="dextrose-prolotherapy")
        await app.push_screen(enroll)
        chosen = enroll.query_one("#clinician", Select)
        await asyncio.wait_for(wait(lambda: "Dr Bench 0" in str(chosen._options)), 30)
        chosen.value = "Dr Bench 0"
        enroll.query_one("#another", Checkbox).value = True
        field = enroll.query_one("#time", Input)
        field.focus()
        for n in range(runs):
            field.value = "10:1"
            await pilot.press("end")  # the field selects all as it gains focus
            await wait(lambda: enroll._typed()[2] == "10:1")
            await asyncio.sleep(0.5)
            began = time.perf_counter()
            key(str(n % 10))
            shown = await asyncio.wait_for(
                until(lambda t=f"10:1{n % 10}": enroll.shown_typed[2:3] == (t,)),
                30,
            )
            preview.append(shown - began)
        # The start date's last digit: each run a weekday of the weeks after (none read
        # before, nor the day the form opened with), so that no bookings read for an
        # earlier keystroke can serve.
        field = enroll.query_one("#start", Input)
        field.focus()
        for n in range(runs):
            day = f"{AGENDA_DAY + dt.timedelta(days=7 * (n // 5) + n % 5 + 6):%Y-%m-%d}"
            field.value = day[:-1]
            await pilot.press("end")
            await wait(lambda d=day[:-1]: enroll._typed()[1] == d)
            await asyncio.sleep(0.5)
            began = time.perf_counter()
            key(day[-1])
            shown = await asyncio.wait_for(
                until(lambda d=day: enroll.shown_typed[1:2] == (d,)),
                30,
            )
            new_week.append(shown - began)
        await asyncio.gather(*pending)
    desk.close()
    report(
        {
            "agenda, next day": next_day,
            "patients, one more character": search,
            "month, next month": next_month,
            "F6, the worklist read and shown": worklist,
            f"enroll preview, with its {DEBOUNCE:.1f} s pause for typing": preview,
            "enroll preview, less that pause": [p - DEBOUNCE for p in preview],
            "enroll preview, another start day": [p - DEBOUNCE for p in new_week],
        }
    )


def report(figures: dict[str, list[float]]) -> None:
    print(
        "in process (Pilot, 120x40), a keypress to the next paint showing its result (median, max):"
    )
    for label, seconds in figures.items():
        print(
            f"  {label:30} {statistics.median(seconds) * 1000:6.1f} ms"
            f" {max(seconds) * 1000:6.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    add_keep_option(parser)
    options = parser.parse_args()
    with work_folder(options.keep) as (home, scratch):
        url, clinic_file = build_database(home, CLINIC, patients(options.patients))
        bench_terminal(url, clinic_file, scratch, options.runs)
        asyncio.run(bench_pilot(url, clinic_file, options.runs))


if __name__ == "__main__":
    main()

"""The TUI plans in worker threads that share one ClinicCalendar: a year's holidays
must be complete before any thread can see that year as loaded."""

from __future__ import annotations

import datetime as dt
import threading

from visitplan.domain.clinic import Clinic, ClinicCalendar, HolidaySource

CHUSEOK = dt.date(2027, 9, 15)


def _ask(calendar: ClinicCalendar, start: threading.Barrier, answers: list[str | None]) -> None:
    start.wait()
    answers.append(calendar.closed_because(CHUSEOK))


def test_threads_asking_about_a_new_year_all_see_its_holidays() -> None:
    clinic = Clinic(name="C", timezone="Asia/Seoul", holidays=HolidaySource(country="KR"))
    disagreements = 0
    for _ in range(20):
        calendar = ClinicCalendar(clinic)
        start = threading.Barrier(4)
        answers: list[str | None] = []

        threads = [threading.Thread(target=_ask, args=(calendar, start, answers)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 4
        disagreements += sum(1 for answer in answers if answer is None)
    assert disagreements == 0
    assert "Chuseok" in str(ClinicCalendar(clinic).closed_because(CHUSEOK))

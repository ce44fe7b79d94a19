"""What people and files give visitplan, generated: mostly well-formed, often at or
just past a limit, sometimes garbage. Also the settings profiles of the fuzz suite.

``VISITPLAN_FUZZ_PROFILE=fuzz-long`` runs many more examples (by hand, before a
release); the default keeps the whole suite within a minute or two.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import tomli_w
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from visitplan.domain import limits

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("fuzz", max_examples=120, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("fuzz-long", max_examples=1000, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("fuzz-subprocess", max_examples=6, **_COMMON)  # type: ignore[arg-type]

_PROFILE = os.environ.get("VISITPLAN_FUZZ_PROFILE", "fuzz")
FUZZ = settings.get_profile(_PROFILE)
# Subprocesses cost ~0.3 s each: a few, unless the long profile asks for more.
SUBPROCESS = settings.get_profile("fuzz-subprocess" if _PROFILE == "fuzz" else _PROFILE)

# Text with what breaks calendars and terminals: control characters, line breaks,
# surrogates are impossible in TOML, so they are left to the command-line values.
NASTY = st.sampled_from(
    ["\r", "\n", "\r\n", "\x00", "\x07", "\x1b[31m", "\u2028", "\x85", "{", "}"]
)
text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "Session", "Follow-up", "세션", "جلسة", "😀"]),
    st.tuples(st.text(max_size=5), NASTY, st.text(max_size=5)).map("".join),
    st.integers(190, 260).map(lambda n: "x" * n),
)
_TOML_INT = 2**63 - 1
small_int = st.one_of(
    st.integers(-3, 400),
    st.sampled_from([0, 1, 7, 29, 30, 31, 365, 366, 367, 1428, 1429, 10_000, 10_001]),
    st.integers(-_TOML_INT, _TOML_INT),
)


def _offset() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(["days", "weeks", "months", "years"]),
        st.one_of(small_int, st.sampled_from([300, 301, 10**5, 10**9])),
        max_size=3,
    )


label = st.one_of(
    text,
    st.lists(
        st.sampled_from(
            ["S", " ", "{n}", "{total}", "{n:s}", "{n!r}", "{total:>3}", "{x}", "{0}", "{}",
             "{{", "}}", "{", "}", "{n.real}", "{n[0]}", "of"]
        ),
        min_size=1,
        max_size=6,
    ).map("".join),
)  # fmt: skip
anchor = st.one_of(
    st.sampled_from(
        ["start", "previous", "s", "s.first", "s.last", "f", "f.last", "s.middle", "", "."]
    ),
    text,
)
key = st.one_of(st.sampled_from(["s", "f", "review", "a-1", "S", "", "s-2", "x" * 61]), text)


def visit() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "key": key,
            "label": label,
            "kind": st.sampled_from(["treatment", "follow-up", "review", "surgery"]),
            "duration_minutes": st.one_of(st.integers(-1, 1500), small_int),
        },
        optional={
            "anchor": anchor,
            "offset": _offset(),
            "repeat": st.fixed_dictionaries(
                {"count": st.one_of(st.integers(0, 210), small_int), "every": _offset()},
                optional={"measured_from": st.sampled_from(["previous", "first", "last"])},
            ),
            "window": st.dictionaries(
                st.sampled_from(["before", "after"]),
                st.one_of(small_int, st.just(10**12)),
                max_size=2,
            ),
            "notes": text,
            "patient_notes": text,
            "assessments": st.lists(text, max_size=3),
            "colour": text,
        },
    )


def protocol() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"title": text, "version": st.sampled_from(["1", "1.0", ""]) | text},
        optional={
            "visits": st.lists(visit(), max_size=4),
            "description": text,
            "reference": st.fixed_dictionaries({"citation": text}, optional={"doi": text}),
        },
    )


def plausible_protocol() -> st.SearchStrategy[dict[str, Any]]:
    """Protocols as a careful author writes them, with every number anywhere up to its
    limit: most pass the checks, so that planning them is what gets tested."""
    offset = st.fixed_dictionaries(
        {},
        optional={
            "days": st.integers(0, limits.MAX_OFFSET_DAYS),
            "weeks": st.integers(0, limits.MAX_OFFSET_WEEKS) | st.integers(0, 60),
            "months": st.integers(0, limits.MAX_OFFSET_MONTHS) | st.integers(0, 24),
        },
    )

    def visits(n: int) -> st.SearchStrategy[list[dict[str, Any]]]:
        return st.tuples(
            *(
                st.fixed_dictionaries(
                    {
                        "key": st.just(f"v{i}"),
                        "label": st.sampled_from(["V", "V {n}", "V {n} of {total}", "{{n}} {n}"]),
                        "kind": st.sampled_from(["treatment", "follow-up", "review"]),
                        "duration_minutes": st.integers(1, limits.MAX_DURATION_MINUTES),
                        "anchor": st.sampled_from(
                            ["start"] if i == 0 else ["start", "previous", f"v{i - 1}.first"]
                        ),
                    },
                    optional={
                        "offset": offset,
                        "repeat": st.fixed_dictionaries(
                            {
                                "count": st.integers(2, limits.MAX_REPEAT) | st.integers(2, 8),
                                "every": offset.filter(bool),
                            },
                            optional={"measured_from": st.sampled_from(["previous", "first"])},
                        ),
                        "window": st.fixed_dictionaries(
                            {},
                            optional={
                                "before": st.integers(0, limits.MAX_WINDOW_DAYS),
                                "after": st.integers(0, limits.MAX_WINDOW_DAYS),
                            },
                        ),
                    },
                )
                for i in range(n)
            )
        ).map(list)

    return st.fixed_dictionaries(
        {
            "title": st.just("Fuzzed course"),
            "version": st.just("1"),
            "visits": st.integers(1, 4).flatmap(visits),
        }
    )


def _hours() -> st.SearchStrategy[str]:
    clock = st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(-1, 25), st.integers(0, 61))
    return st.one_of(
        st.builds(lambda a, b: f"{a}-{b}", clock, clock),
        st.sampled_from(
            ["09:00-18:00", "09:00+09:00-18:00", "09:00:30-18:00", "9-5", "00:00-23:59",
             "09:00-18:00-19:00", "", "18:00-09:00", "08:00 - 12:00"]
        ),
        text,
    )  # fmt: skip


def clinic() -> st.SearchStrategy[dict[str, Any]]:
    served = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat)
    return st.fixed_dictionaries(
        {},
        optional={
            "name": text,
            "timezone": st.sampled_from(
                [
                    "Asia/Seoul",
                    "America/New_York",
                    "Europe/London",
                    "UTC",
                    "Pacific/Kiritimati",
                    "Mars/Olympus",
                    "",
                    "../etc/passwd",
                    "Asia/Seoul\n",
                ]
            ),
            "address": text,
            "email": st.one_of(
                st.sampled_from(
                    [
                        "desk@clinic.example",
                        "a@b",
                        "desk@clinic.example\r\nX: y",
                        "no-at",
                        "@x",
                        "a b@c.example",
                        "desk@-bad-.example",
                        "x@" + "a" * 64 + ".example",
                    ]
                ),
                text,
            ),
            "uid_domain": st.one_of(
                st.sampled_from(
                    [
                        "clinic.example",
                        "clinic.example\r\n",
                        "a b",
                        "x..y",
                        "xn--9n2bp8q.kr",
                        "a" * 64 + ".example",
                        "localhost",
                        "",
                    ]
                ),
                text,
            ),
            "holidays": st.fixed_dictionaries(
                {"country": st.sampled_from(["KR", "US", "XX", "GB", ""])},
                optional={"subdivision": st.sampled_from(["NY", "ZZ", "", "\n"])},
            ),
            "closures": st.lists(
                st.one_of(
                    served,
                    st.fixed_dictionaries({"date": served}, optional={"reason": text}),
                    text,
                ),
                max_size=4,
            ),
            "hours": st.dictionaries(
                st.sampled_from(["mon", "tue", "wed", "sat", "sun", "funday"]), _hours(), max_size=4
            ),
            "capacity": small_int,
            "slot_minutes": small_int,
            "reminders": st.fixed_dictionaries(
                {"minutes_before": st.lists(small_int, max_size=12)}
            ),
            "procedure_in_summary": st.booleans(),
        },
    )


def plausible_clinic() -> st.SearchStrategy[dict[str, Any]]:
    """Clinic files as a careful administrator writes them, with every free-text field
    generated: most are accepted, so that what they put into calendars is tested."""
    clock = st.builds(lambda h, m: (h, m), st.integers(0, 22), st.integers(0, 59))
    hours = st.builds(
        lambda a, length: f"{a[0]}:{a[1]:02d}-{min(a[0] + length, 23)}:{a[1]:02d}",
        clock,
        st.integers(1, 12),
    )
    served = st.dates(limits.FIRST_DAY, limits.LAST_DAY).map(dt.date.isoformat)
    return st.fixed_dictionaries(
        {
            "name": text,
            "timezone": st.sampled_from(
                ["Asia/Seoul", "America/New_York", "Europe/London", "UTC", "Australia/Lord_Howe"]
            ),
            "hours": st.dictionaries(
                st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                hours,
                min_size=1,
            ),
        },
        optional={
            "address": text,
            "email": st.sampled_from(["desk@clinic.example", "o'brien+desk@xn--9n2bp8q.kr"]),
            "uid_domain": st.sampled_from(["clinic.example", "xn--9n2bp8q.kr", "localhost"]),
            "holidays": st.sampled_from(
                [{"country": "KR"}, {"country": "US", "subdivision": "NY"}]
            ),
            "closures": st.lists(
                served | st.fixed_dictionaries({"date": served, "reason": text}), max_size=4
            ),
            "capacity": st.integers(1, 1000),
            "slot_minutes": st.integers(1, 240),
            "reminders": st.fixed_dictionaries(
                {
                    "minutes_before": st.lists(
                        st.integers(1, limits.MAX_REMINDER_MINUTES), max_size=10
                    )
                }
            ),
            "procedure_in_summary": st.booleans(),
        },
    )


def mostly(
    plausible: st.SearchStrategy[dict[str, Any]], anything: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[str]:
    """TOML text: two times in three a plausible file, else anything at all."""
    careful = plausible.map(tomli_w.dumps)
    return st.one_of(careful, careful, toml_text(anything))


def toml_text(data: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[str]:
    """The data as TOML; sometimes cut short or with a character put in, which makes
    a syntax error more often than not."""
    whole = data.map(tomli_w.dumps)
    return st.one_of(
        whole,
        whole,
        whole,
        st.tuples(
            whole, st.integers(0, 2000), st.sampled_from(["", "[", "{", '"', "=", "\x00"])
        ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]),
        st.integers(1, 3000).map(lambda n: "x = " + "[" * n + "]" * n),
    )


# -- command-line values ----------------------------------------------------------------

any_date = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
edge_dates = st.sampled_from(
    [
        limits.FIRST_DAY,
        limits.LAST_DAY,
        limits.FIRST_DAY - dt.timedelta(days=1),
        limits.LAST_DAY + dt.timedelta(days=1),
        dt.date(1, 1, 1),
        dt.date(9999, 12, 31),
    ]
)
day_text = st.one_of(
    any_date.map(dt.date.isoformat),
    edge_dates.map(dt.date.isoformat),
    st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat),
    st.sampled_from(
        ["today", "Tomorrow", "mon", "FRIDAY", "sun", "yesterday", "2026-02-30", "2026-1-5",
         "", " ", "-1", "today\n"]
    ),
    st.text(max_size=12),
)  # fmt: skip
time_text = st.one_of(
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(-1, 25), st.integers(0, 61)),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.sampled_from(["9", "9am", "09:00:00", "24:00", "", "\uff19:00"]),
    st.text(max_size=6),
)
moment_text = st.one_of(
    st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2027, 12, 31)).map(
        lambda moment: f"{moment:%Y-%m-%d %H:%M}"
    ),
    st.builds(lambda d, t: f"{d} {t}", day_text, time_text),
    day_text,
    st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=st.timezones()).map(
        dt.datetime.isoformat
    ),
    st.text(max_size=25),
)
number_text = st.one_of(
    st.integers(-5, 400).map(str),
    st.sampled_from(["1", "7", "366", "367", "3660", "3661", str(2**63 - 1), str(2**63), "1" * 30]),
    st.integers(-(10**40), 10**40).map(str),
    st.text(max_size=8),
)

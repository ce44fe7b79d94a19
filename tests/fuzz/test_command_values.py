"""Command-line values, generated: for every command and value, exit 0, or exit 2 with
one line on stderr; never a traceback; after exit 2, the database as it was."""

from __future__ import annotations

import datetime as dt
import io
from contextlib import redirect_stderr
from pathlib import Path

from hypothesis import event, given
from hypothesis import strategies as st

from tests.cli.harness import assert_ok_or_one_line, database_copy, dump, run_main
from tests.fuzz import strategies as gen
from visitplan.cli.main import build_parser
from visitplan.domain.limits import MAX_LOOKBACK_DAYS, MAX_REFRESH_MINUTES


@gen.FUZZ
@given(start=gen.day_text, time=gen.time_text, output=st.sampled_from(["--json", "--ics", ""]))
def test_plan(start: str, time: str, output: str, seoul_file: Path) -> None:
    argv = ["plan", "dextrose-prolotherapy", f"--start={start}", f"--time={time}"]
    result = run_main([*argv, "--clinic", str(seoul_file), *([output] if output else [])])
    assert_ok_or_one_line(result)
    event(f"plan: exit {result.status}")


# Each command with the places its values go; ids are those the template holds (visits
# 1-7, course 1) or any number at all.
ids = st.one_of(st.integers(1, 8).map(str), st.integers(1, 7).map(str), gen.number_text)
commands = st.one_of(
    st.builds(
        lambda d, t: ["enroll", "P1", "dextrose-prolotherapy", f"--start={d}", f"--time={t}"],
        gen.day_text,
        gen.time_text,
    ),
    st.builds(lambda d, n: ["agenda", f"--date={d}", f"--days={n}"], gen.day_text, gen.number_text),
    st.builds(lambda i, m: ["visit", "done", i, f"--at={m}"], ids, gen.moment_text),
    st.builds(
        lambda i, m, f: ["visit", "move", i, f"--to={m}", *f],
        ids,
        gen.moment_text,
        st.sampled_from([[], ["--force"]]),
    ),
    st.builds(lambda i, r: ["visit", "missed", i, f"--if-revision={r}"], ids, gen.number_text),
    st.builds(lambda i: ["visit", "cancel", i], ids),
    st.builds(lambda i: ["enrollment", "withdraw", i], ids),
    st.builds(lambda i: ["enrollment", "show", i, "--json"], ids),
    st.builds(lambda i: ["feed", "revoke", i], ids),
)


@gen.FUZZ
@given(argv=commands)
def test_records_commands(
    argv: list[str], workdir: Path, seoul_file: Path, template_db: str
) -> None:
    with database_copy(template_db, workdir) as url:
        before = dump(url)
        result = run_main([*argv, "--db", url, "--clinic", str(seoul_file), "--user", "fuzz"])
        assert_ok_or_one_line(result)
        name = " ".join(argv[:2]) if argv[0] in ("visit", "enrollment", "feed") else argv[0]
        event(f"{name}: exit {result.status}")
        if result.status == 2:
            assert dump(url) == before


@gen.FUZZ
@given(
    command=st.sampled_from(["serve", "publish"]),
    days=gen.number_text,
    minutes=gen.number_text,
)
def test_server_and_publisher_values_parse_or_are_one_line(
    command: str, days: str, minutes: str
) -> None:
    # Only parsed: a `serve` that parses would start serving.
    argv = [command, f"--lookback-days={days}"]
    if command == "serve":
        argv.append(f"--refresh-minutes={minutes}")
    else:
        argv += ["--caldav", "http://127.0.0.1:9/"]
    err = io.StringIO()
    with redirect_stderr(err):
        try:
            args = build_parser(command).parse_args(argv)
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
    if code != 0:
        assert code == 2
        assert len(err.getvalue().splitlines()) == 1, err.getvalue()
        return
    assert 1 <= args.lookback_days <= MAX_LOOKBACK_DAYS
    if command == "serve":
        assert 1 <= args.refresh_minutes <= MAX_REFRESH_MINUTES
        dt.timedelta(minutes=args.refresh_minutes)  # what serve makes of it

"""A few generated inputs through the real `visitplan` process, as a user meets them:
the in-process runs cannot show what reaches a real terminal (start-up, warnings,
the exit status the shell sees)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli.harness import assert_ok_or_one_line, database_copy, dump
from tests.fuzz import strategies as gen
from tests.support.cli import run_visitplan

# A process argument cannot hold NUL; everything else goes through as typed.
no_nul = st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=12)


@pytest.mark.slow
@gen.SUBPROCESS
@given(
    argv=st.one_of(
        st.builds(
            lambda d, t: ["plan", "dextrose-prolotherapy", f"--start={d}", f"--time={t}"],
            gen.day_text.filter(lambda s: "\x00" not in s),
            gen.time_text.filter(lambda s: "\x00" not in s),
        ),
        st.builds(lambda m: ["visit", "done", "1", f"--at={m}"], gen.moment_text),
        st.builds(lambda i: ["feed", "revoke", i], gen.number_text),
        st.builds(lambda d, n: ["agenda", f"--date={d}", f"--days={n}"], no_nul, gen.number_text),
    ).filter(lambda argv: not any("\x00" in a for a in argv))
)
def test_generated_values_through_the_real_entry_point(
    argv: list[str], workdir: Path, seoul_file: Path, template_db: str
) -> None:
    home = workdir / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "c"), "XDG_DATA_HOME": str(home / "d")}
    with database_copy(template_db, workdir) as url:
        before = dump(url)
        result = run_visitplan(*argv, "--db", url, "--clinic", str(seoul_file), env=env)
        assert_ok_or_one_line(result)
        if result.status == 0:
            assert result.err == "", result
        else:
            assert dump(url) == before


@pytest.mark.slow
@gen.SUBPROCESS
@given(text=gen.toml_text(gen.clinic()))
def test_generated_clinic_files_through_the_real_entry_point(text: str, workdir: Path) -> None:
    path = workdir / "subprocess-clinic.toml"
    path.write_text(text, encoding="utf-8")
    result = run_visitplan(
        "plan", "dextrose-prolotherapy", "--start", "2026-12-01", "--clinic", str(path), "--ics"
    )
    assert_ok_or_one_line(result)
    if result.status == 0:
        assert result.err == "", result

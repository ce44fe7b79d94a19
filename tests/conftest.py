"""Shared fixtures. Each area keeps its helpers in tests/support/<area>.py and lists
the module here so that every test directory can use them."""

from __future__ import annotations

pytest_plugins = [
    "tests.support.clinics",
    "tests.support.radicale",
    "tests.support.khal",
    "tests.support.sync",
    "tests.support.xandikos",
    "tests.support.cli",
    "tests.support.db",
    "tests.support.tui",
]

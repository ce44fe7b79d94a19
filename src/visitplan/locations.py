"""Where protocol directories and the workstation's clinic file are, without reading
them: the quick reads need the places and none of the parsing (``catalog`` reads)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path


def bundled_protocols_dir() -> Path:
    """The protocols shipped with the package (the wheel), else the source checkout's."""
    here = Path(__file__).resolve().parent
    inside = here / "_bundled_protocols"
    return inside if inside.is_dir() else here.parent.parent / "protocols"


def protocol_dirs(
    extra: Sequence[str | Path] = (), env: Mapping[str, str] | None = None
) -> list[Path]:
    env = os.environ if env is None else env
    dirs = [bundled_protocols_dir(), *(Path(d) for d in extra)]
    dirs += [Path(d) for d in env.get("VISITPLAN_PROTOCOLS", "").split(os.pathsep) if d]
    return dirs


def user_clinic_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("visitplan")) / "clinic.toml"


def workstation_clinic_path(
    explicit: str | Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Path | None, bool]:
    """The workstation's clinic file (--clinic, else VISITPLAN_CLINIC, else the user's
    config file) and whether it was named; (None, False) when there is none."""
    env = os.environ if env is None else env
    chosen = explicit or env.get("VISITPLAN_CLINIC")
    path = Path(chosen) if chosen else user_clinic_path()
    if not chosen and not path.exists():
        return None, False
    return path, bool(chosen)

"""Where protocols and the clinic file come from (this module does the file I/O)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from visitplan.domain.clinic import Clinic, default_clinic, parse_clinic
from visitplan.domain.limits import MAX_FILE_BYTES
from visitplan.domain.protocol import Protocol, parse_protocol
from visitplan.errors import InputError
from visitplan.locations import (
    bundled_protocols_dir,
    protocol_dirs,
    user_clinic_path,
    workstation_clinic_path,
)
from visitplan.parsed_files import parsed_once

__all__ = [
    "ProtocolCatalog",
    "ProtocolFile",
    "WorkstationClinic",
    "bundled_protocols_dir",
    "load_clinic",
    "machine_timezone",
    "protocol_dirs",
    "read_protocol_file",
    "read_text_file",
    "user_clinic_path",
    "workstation_clinic",
]


@dataclass(frozen=True, slots=True)
class ProtocolFile:
    id: str
    path: Path
    protocol: Protocol
    text: str


def read_text_file(path: Path, what: str) -> str:
    """A regular file's UTF-8 text, read at most MAX_FILE_BYTES (plus one, to tell a
    file that is too large) so that a device, a pipe or a huge file cannot hang or
    exhaust memory; any problem is one line naming the file."""
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(f"{path}: cannot read {what}: not a regular file")
        chunks: list[bytes] = []
        left = MAX_FILE_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: {what} is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: {what} is not UTF-8 text (byte {exc.start + 1} cannot be read)"
        ) from None


def read_protocol_file(path: Path) -> ProtocolFile:
    text = read_text_file(path, "the protocol file")
    protocol = parsed_once("protocols", text, lambda: parse_protocol(text, str(path)), Protocol)
    return ProtocolFile(path.stem, path, protocol, text)


class ProtocolCatalog:
    """Every protocol file found in the given directories, by id, read lazily."""

    def __init__(self, dirs: Iterable[Path]) -> None:
        self._paths: dict[str, Path] = {}
        self._loaded: dict[str, ProtocolFile] = {}
        for directory in dirs:
            if not directory.is_dir():
                raise InputError(f"{directory}: not a directory of protocol files")
            for path in sorted(directory.glob("*.toml")):
                other = self._paths.get(path.stem)
                if other is not None and other.resolve() != path.resolve():
                    raise InputError(
                        f"protocol id {path.stem!r} is defined twice: {other} and {path}"
                    )
                self._paths[path.stem] = path

    @property
    def ids(self) -> list[str]:
        return sorted(self._paths)

    def path(self, protocol_id: str) -> Path:
        try:
            return self._paths[protocol_id]
        except KeyError:
            known = ", ".join(self.ids) or "none"
            raise InputError(f"unknown protocol {protocol_id!r} (known: {known})") from None

    def get(self, protocol_id: str) -> ProtocolFile:
        if protocol_id not in self._loaded:
            self._loaded[protocol_id] = read_protocol_file(self.path(protocol_id))
        return self._loaded[protocol_id]

    def all(self) -> list[ProtocolFile]:
        return [self.get(i) for i in self.ids]


def machine_timezone() -> str:
    from pendulum.tz import local_timezone

    name = local_timezone().name
    return name if "/" in name or name == "UTC" else "UTC"


def load_clinic(explicit: str | Path | None = None, env: Mapping[str, str] | None = None) -> Clinic:
    """--clinic, else VISITPLAN_CLINIC, else the user's config file, else the default."""
    found = workstation_clinic(explicit, env)
    return found.clinic if found.clinic is not None else default_clinic(machine_timezone())


@dataclass(frozen=True, slots=True)
class WorkstationClinic:
    """This workstation's clinic file, if it has one (``source`` names it)."""

    clinic: Clinic | None
    source: str


def workstation_clinic(
    explicit: str | Path | None = None, env: Mapping[str, str] | None = None
) -> WorkstationClinic:
    """--clinic, else VISITPLAN_CLINIC, else the user's config file; else none."""
    path, _ = workstation_clinic_path(explicit, env)
    if path is None:
        return WorkstationClinic(None, "no clinic file")
    text = read_text_file(path, "the clinic file")
    clinic = parsed_once("clinics", text, lambda: parse_clinic(text, str(path)), Clinic)
    return WorkstationClinic(clinic, path.name)

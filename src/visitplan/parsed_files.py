"""Files validated once: what a protocol or clinic file validated to, kept in the user's
cache directory under a hash of its text.

A short command (`visitplan plan`, a quick read) would otherwise spend most of its time
having pydantic build its validators and check a file that has not changed since the
last run. The key covers everything the outcome depends on: the file's text, this
release, the source of the models that validate it and the installed pydantic and
holidays, so another build, another library or an edited file never takes an old copy.
Only files that validated are kept: a bad file is checked again, and refused in the
same words, every time. The copies are pickles written by this user's own processes
into a directory only they can read and write (as Python's own ``__pycache__``); one
that cannot be read is ignored and validated anew.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import pickle
import sys
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from visitplan import __version__

if TYPE_CHECKING:
    from visitplan.domain.clinic import HolidaySource

T = TypeVar("T")

# The modules whose classes and validators decide what a file validates to.
_MODELS = (
    "clinic.py",
    "clinic_file.py",
    "clinicians.py",
    "file_models.py",
    "hours.py",
    "limits.py",
    "protocol.py",
    "protocol_file.py",
)


def cache_key(kind: str, data: bytes) -> str:
    """The hash a validated ``kind`` of file with content ``data`` is kept under."""
    digest = hashlib.sha256()
    for part in (kind.encode(), data, _build()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@functools.cache
def _build() -> bytes:
    """What every key shares: this release and Python, the models' source and the
    libraries' releases (read once a process: a catalog keys every protocol file)."""
    digest = hashlib.sha256()
    for part in (__version__.encode(), sys.version.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    domain = Path(__file__).parent / "domain"
    for name in _MODELS:
        digest.update((domain / name).read_bytes())
    for library in ("pydantic", "pydantic_core", "holidays"):
        digest.update(_library_version(library))
    return digest.digest()


def cache_dir(kind: str) -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("visitplan")) / kind


def parsed_once(kind: str, text: str, parse: Callable[[], T], expected: type[T]) -> T:
    """``parse()``'s result for a ``kind`` of file whose content is ``text``, from the
    cache when this text validated before; ``parse`` raises for a bad file as usual."""
    data = text.encode("utf-8")
    try:
        path = cache_dir(kind) / f"{cache_key(kind, data)}.pickle"
    except OSError:
        return parse()  # the package's own sources cannot be read: no cache
    try:
        found = pickle.loads(path.read_bytes())
    except Exception:
        found = None  # none yet, or unreadable: validated below and written anew
    if isinstance(found, expected):
        return found
    value = parse()
    write_private(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return value


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` whole or not at all, readable by this user only, in a directory
    only they can open; a cache that cannot be written is no error (the next run
    validates again)."""
    from visitplan.atomic_files import write_atomic
    from visitplan.errors import InputError

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, data)
    except (OSError, InputError):
        pass


def kept_holidays(source: HolidaySource, year: int) -> Mapping[dt.date, str]:
    """A year's holidays as the holidays library gives them (``holidays_in``), kept
    under the same kind of key as a validated file: the library's release is in it."""
    from visitplan.domain.clinic import holidays_in

    where = f"{source.country}\0{source.subdivision or ''}\0{year}".encode()
    try:
        path = cache_dir("holidays") / f"{cache_key('holidays', where)}.json"
    except OSError:
        return holidays_in(source, year)
    try:
        kept = json.loads(path.read_bytes())
        return {dt.date.fromisoformat(day): str(name) for day, name in kept.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        pass  # none yet, or unreadable: computed below and written anew
    table = holidays_in(source, year)
    write_private(path, json.dumps({d.isoformat(): n for d, n in table.items()}).encode())
    return table


def _library_version(library: str) -> bytes:
    """The installed release of a library, from its ``*.dist-info`` directory's name,
    found without importing it (importing pydantic or holidays is most of what the
    cache saves)."""
    spec = find_spec(library)
    if spec is None or not spec.submodule_search_locations:
        return b""
    found: list[str] = []
    for location in spec.submodule_search_locations:
        found += sorted(p.name for p in Path(location).parent.glob(f"{library}-*.dist-info"))
    return "\0".join(found).encode()

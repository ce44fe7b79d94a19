"""Reads kept while the records have not changed: the few latest, each under the data
version (the last audit id, see ``DeskBase.data_version``) it was read at."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class ReadsByVersion(Generic[T]):
    """The ``size`` latest reads by key; one is given back only at the version it was
    read at. Safe to share between threads (the TUI's workers share one Desk)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, tuple[int, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int) -> T | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None or found[0] != version:
                return None
            self._kept.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, version: int, value: T) -> None:
        with self._lock:
            self._kept[key] = (version, value)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

"""Faust tables whose values are bytes we encode ourselves, and the candidate index's
:class:`candidates.Store` over one."""

from __future__ import annotations

import faust

from cityops.tables import raw_table

__all__ = ["TableStore", "raw_table"]


class TableStore:
    """The candidate index's :class:`candidates.Store` over a table of :func:`raw_table`."""

    def __init__(self, table: faust.types.TableT) -> None:
        self.table = table

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self.table.get(key)
        return value

    def put(self, key: str, value: bytes) -> None:
        self.table[key] = value

    def delete(self, key: str) -> None:
        if key in self.table:
            del self.table[key]

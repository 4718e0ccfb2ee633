"""Faust tables whose values are bytes we encode ourselves, and the candidate index's
:class:`candidates.Store` over one."""

from __future__ import annotations

import faust


def raw_table(app: faust.App, name: str, partitions: int) -> faust.types.TableT:
    """A table whose values are bytes we encode ourselves (UTF-8 JSON: faust's own JSON
    escapes each Chinese character to six bytes, and pydantic encodes faster). Faust takes
    a table's value codec from its value type only, so it is set before first use."""
    table = app.Table(name, default=None, partitions=partitions, value_type=bytes)
    table.value_serializer = "raw"  # type: ignore[attr-defined]  # Collection has it, TableT does not declare it
    return table


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

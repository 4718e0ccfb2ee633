"""Faust plumbing shared by the stream processors (dispatch, sensors).

- :func:`raw_table`: a table whose values are bytes we encode ourselves (UTF-8 JSON:
  faust's own JSON escapes each Chinese character to six bytes, and pydantic encodes
  faster). Faust takes a table's value codec from its value type only, so it is set
  before first use.
- :func:`as_current`: make an event faust's current event, so that a table write goes to
  the store and changelog partition of that event. Faust sets it only while a stream
  yields one event; a step over a batch writes for many.
"""

from __future__ import annotations

import weakref

import faust
from faust.streams import _current_event


def raw_table(app: faust.App, name: str, partitions: int) -> faust.types.TableT:
    table = app.Table(name, default=None, partitions=partitions, value_type=bytes)
    table.value_serializer = "raw"  # type: ignore[attr-defined]  # Collection has it, TableT does not declare it
    return table


def as_current(event: faust.EventT) -> None:
    _current_event.set(weakref.ref(event))

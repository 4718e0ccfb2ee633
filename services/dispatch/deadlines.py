"""The deadline index: which cases a worker must look at, and when (:class:`cityops.due.
DueIndex` keyed by case id). Derived from the ``cases`` table, rebuilt from it after every
recovery or rebalance, and kept up to date by the command agent as cases change."""

from __future__ import annotations

from cityops.due import DueIndex as DeadlineIndex

__all__ = ["DeadlineIndex"]

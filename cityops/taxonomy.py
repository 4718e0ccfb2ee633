"""The city-management taxonomy and the department catalogue, loaded from versioned data.

``data/taxonomy.yaml`` holds the GB/T 30428.2 部件/事件 classes plus 12345 hotline
matters; ``data/departments.yaml`` holds the department catalogue. This module is the
only reader of both; it validates them and hands out frozen objects.
"""

from __future__ import annotations

from functools import cache, cached_property
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

Priority = Literal["urgent", "high", "normal", "low"]
Dimension = Literal["净", "畅", "宁", "和", "美"]
PRIORITY_RANK: dict[str, int] = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Frozen):
    code: str
    name: str
    description: str = ""


class Deadlines(_Frozen):
    register_hours: float = Field(gt=0)
    dispatch_hours: float = Field(gt=0)
    dispose_hours: float = Field(gt=0)


class MergeRule(_Frozen):
    radius_m: float = Field(gt=0)
    window_hours: float = Field(gt=0)
    related: tuple[str, ...] = ()


class Node(_Frozen):
    code: str
    name: str
    parent: str | None


class Leaf(_Frozen):
    code: str
    name: str
    parent: str
    department: str
    priority: Priority
    clock: Literal["working", "wall"]
    deadlines: Deadlines
    dimension: Dimension
    merge: MergeRule
    keywords: tuple[str, ...] = ()


class Taxonomy(_Frozen):
    version: str
    standard: str = ""
    nodes: tuple[Node, ...]
    leaves: tuple[Leaf, ...]
    departments: tuple[Department, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        node_codes = {n.code for n in self.nodes}
        leaf_codes = [leaf.code for leaf in self.leaves]
        dept_codes = {d.code for d in self.departments}
        if len(set(leaf_codes)) != len(leaf_codes):
            raise ValueError("duplicate leaf codes")
        for node in self.nodes:
            if node.parent is not None and node.parent not in node_codes:
                raise ValueError(f"node {node.code}: unknown parent {node.parent}")
        for leaf in self.leaves:
            if leaf.parent not in node_codes:
                raise ValueError(f"leaf {leaf.code}: unknown parent {leaf.parent}")
            if leaf.department not in dept_codes:
                raise ValueError(f"leaf {leaf.code}: unknown department {leaf.department}")
            missing = set(leaf.merge.related) - set(leaf_codes)
            if missing:
                raise ValueError(f"leaf {leaf.code}: unknown related classes {sorted(missing)}")
        return self

    def leaf(self, code: str) -> Leaf:
        try:
            return self._leaf_index[code]
        except KeyError:
            raise KeyError(f"unknown category {code!r}") from None

    def department(self, code: str) -> Department:
        for dept in self.departments:
            if dept.code == code:
                return dept
        raise KeyError(f"unknown department {code!r}")

    def has_leaf(self, code: str) -> bool:
        return code in self._leaf_index

    @cached_property
    def department_of(self) -> dict[str, str]:
        """Leaf code → responsible department code."""
        return {leaf.code: leaf.department for leaf in self.leaves}

    @cached_property
    def _leaf_index(self) -> dict[str, Leaf]:
        return {leaf.code: leaf for leaf in self.leaves}

    def path(self, code: str) -> list[str]:
        """Names from the root down to the class, e.g. ['部件', '公用设施', '上水井盖']."""
        nodes = {n.code: n for n in self.nodes}
        leaf = self.leaf(code)
        names = [leaf.name]
        parent: str | None = leaf.parent
        while parent is not None:
            names.append(nodes[parent].name)
            parent = nodes[parent].parent
        return names[::-1]


def _read(name: str) -> dict[str, object]:
    text = resources.files("cityops.data").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a mapping at the top")
    return data


@cache
def load() -> Taxonomy:
    """The shipped taxonomy, validated once per process."""
    tax = _read("taxonomy.yaml")
    depts = _read("departments.yaml")
    return Taxonomy.model_validate({**tax, "departments": depts["departments"]})

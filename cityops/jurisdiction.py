"""Lingang's towns and their unit grids (单元网格), and locating a point in them.

``data/jurisdictions.yaml`` holds the polygons (approximate, WGS84 lon/lat). A point
outside every town resolves to ``None``: the caller says "outside the area", it never
guesses the nearest town.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from shapely import STRtree
from shapely.geometry import Point, Polygon


@dataclass(frozen=True)
class Grid:
    code: str
    name: str
    town: str
    polygon: Polygon


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    polygon: Polygon


@dataclass(frozen=True)
class Location:
    town: Town
    grid: Grid | None


class Jurisdictions:
    def __init__(self, version: str, towns: list[Town], grids: list[Grid]) -> None:
        self.version = version
        self.towns = {t.code: t for t in towns}
        self.grids = {g.code: g for g in grids}
        self._town_list = towns
        self._grid_list = grids
        self._town_tree = STRtree([t.polygon for t in towns])
        self._grid_tree = STRtree([g.polygon for g in grids])

    def locate(self, lat: float, lon: float) -> Location | None:
        point = Point(lon, lat)
        towns = [self._town_list[i] for i in self._town_tree.query(point, predicate="intersects")]
        if not towns:
            return None
        town = towns[0]
        grids = [
            self._grid_list[i]
            for i in self._grid_tree.query(point, predicate="intersects")
            if self._grid_list[i].town == town.code
        ]
        return Location(town=town, grid=grids[0] if grids else None)

    def town_name(self, code: str | None) -> str | None:
        return self.towns[code].name if code in self.towns else None


def _ring(coords: list[list[float]]) -> Polygon:
    polygon = Polygon([(float(x), float(y)) for x, y in coords])
    if not polygon.is_valid:
        raise ValueError("invalid polygon in jurisdictions.yaml")
    return polygon


@cache
def load() -> Jurisdictions:
    """The shipped towns and grids, validated once per process."""
    text = resources.files("cityops.data").joinpath("jurisdictions.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    towns, grids = [], []
    for t in data["towns"]:
        towns.append(Town(code=t["code"], name=t["name"], polygon=_ring(t["polygon"])))
        for g in t.get("grids", []):
            grids.append(Grid(g["code"], g["name"], t["code"], _ring(g["polygon"])))
    return Jurisdictions(str(data["version"]), towns, grids)

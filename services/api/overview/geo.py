"""Town and unit-grid outlines as GeoJSON for the overview's map. Pure.

The map is drawn in the browser from these polygons alone (no tiles, no internet), so they
are simplified and their coordinates rounded: about 400 grids stay a few tens of kB.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Polygon

from cityops.jurisdiction import Jurisdictions

TOLERANCE = 0.0002  # degrees, about 20 m: below what a board can show
DIGITS = 5  # about 1 m


def simplified_ring(
    polygon: Polygon, tolerance: float = TOLERANCE, digits: int = DIGITS
) -> list[list[float]]:
    """The polygon's outer ring, simplified and rounded; closed (last point = first).

    A polygon that simplification would collapse keeps its original ring: every grid stays
    on the map, however small.
    """
    simple = polygon.simplify(tolerance, preserve_topology=True)
    if simple.is_empty or not isinstance(simple, Polygon) or simple.area == 0:
        simple = polygon
    ring = [[round(x, digits), round(y, digits)] for x, y in simple.exterior.coords]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


def feature(kind: str, code: str, name: str, town: str, ring: list[list[float]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": code,
        "properties": {"kind": kind, "code": code, "name": name, "town": town},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def outlines(places: Jurisdictions, tolerance: float = TOLERANCE) -> dict[str, Any]:
    """A FeatureCollection: each town (``kind`` ``town``), then each grid (``kind`` ``grid``,
    ``town`` its town's code), with the jurisdictions' version."""
    towns = [
        feature("town", t.code, t.name, t.code, simplified_ring(t.polygon, tolerance))
        for t in places.towns.values()
    ]
    grids = [
        feature("grid", g.code, g.name, g.town, simplified_ring(g.polygon, tolerance))
        for g in places.grids.values()
    ]
    return {"type": "FeatureCollection", "version": places.version, "features": towns + grids}

"""Build ``jurisdictions.yaml`` for the Lingang New Area (临港新片区).

The town outlines below are hand-drawn approximations around Dishui Lake
(滴水湖, about lat 30.905 / lon 121.935).  They are meant for a demo
platform, not for official boundary work.  Neighbouring towns share exact
border vertices so they touch without overlapping; the east and south
edges follow a simplified coastline of the East China Sea / Hangzhou Bay.

Each town is cut into unit grid cells (单元网格): a regular lattice of
``CELL_LAT`` x ``CELL_LON`` degrees, anchored at ``ORIGIN``, is intersected
with the town polygon and every non-trivial piece becomes one cell.  Cells
are numbered per town from north-west to south-east (row by row, north to
south, then west to east).

The output is deterministic: running the script twice gives the same file.

Usage::

    python cityops/data/build_grid.py            # writes jurisdictions.yaml next to this file
    python cityops/data/build_grid.py OUT.yaml   # writes somewhere else
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from shapely.geometry import Polygon, box
from shapely.geometry.polygon import orient

VERSION = "2026.11.1"

# Lattice definition (degrees).
ORIGIN = (121.75, 30.83)  # (lon, lat) of the lattice's south-west corner
CELL_LON = 0.012
CELL_LAT = 0.01

DECIMALS = 5
# Pieces smaller than this share of a full lattice cell are dropped as slivers.
MIN_PIECE_SHARE = 0.02

# Town outlines as (lon, lat) rings; the closing vertex is added automatically.
# Coastline vertices (east/south) are shared by the coastal towns.
TOWNS: list[tuple[str, str, list[tuple[float, float]]]] = [
    (
        "nanhui_xincheng",
        "南汇新城镇",
        [
            (121.880, 30.849),  # south-west corner on the Hangzhou Bay shore
            (121.915, 30.853),
            (121.940, 30.858),
            (121.962, 30.866),
            (121.980, 30.878),  # 南汇嘴
            (121.988, 30.895),
            (121.986, 30.920),
            (121.978, 30.950),
            (121.972, 30.960),
            (121.966, 30.978),  # north-east corner on the coast
            (121.930, 30.976),
            (121.900, 30.975),
            (121.893, 30.950),
            (121.886, 30.925),
            (121.882, 30.900),
            (121.878, 30.875),
        ],
    ),
    (
        "lingang_industrial",
        "临港新片区产业区",
        [
            (121.810, 30.842),
            (121.850, 30.846),
            (121.880, 30.849),
            (121.878, 30.875),
            (121.882, 30.900),
            (121.850, 30.902),
            (121.815, 30.898),
            (121.812, 30.870),
        ],
    ),
    (
        "nicheng",
        "泥城镇",
        [
            (121.750, 30.836),
            (121.780, 30.839),
            (121.810, 30.842),
            (121.812, 30.870),
            (121.815, 30.898),
            (121.818, 30.925),
            (121.820, 30.945),
            (121.785, 30.948),
            (121.752, 30.944),
        ],
    ),
    (
        "shuyuan",
        "书院镇",
        [
            (121.815, 30.898),
            (121.850, 30.902),
            (121.882, 30.900),
            (121.886, 30.925),
            (121.893, 30.950),
            (121.900, 30.975),
            (121.860, 30.978),
            (121.835, 30.972),
            (121.820, 30.945),
            (121.818, 30.925),
        ],
    ),
    (
        "wanxiang",
        "万祥镇",
        [
            (121.752, 30.944),
            (121.785, 30.948),
            (121.820, 30.945),
            (121.835, 30.972),
            (121.840, 30.990),
            (121.800, 30.995),
            (121.760, 30.990),
        ],
    ),
    (
        "laogang",
        "老港镇",
        [
            (121.835, 30.972),
            (121.860, 30.978),
            (121.900, 30.975),
            (121.930, 30.976),
            (121.966, 30.978),
            (121.962, 30.990),
            (121.952, 31.020),
            (121.940, 31.050),
            (121.880, 31.052),
            (121.845, 31.045),
            (121.840, 30.990),
        ],
    ),
]


def ring(poly: Polygon) -> list[list[float]]:
    """Exterior ring of ``poly`` as a closed list of rounded [lon, lat] pairs."""
    pts: list[list[float]] = []
    for lon, lat in orient(poly, 1.0).exterior.coords:
        p = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not pts or pts[-1] != p:
            pts.append(p)
    if pts[0] != pts[-1]:
        pts.append(pts[0])
    return pts


def grid_pieces(town: Polygon) -> list[Polygon]:
    """Intersect the lattice with ``town``; return pieces north-west first."""
    min_lon, min_lat, max_lon, max_lat = town.bounds
    col0 = math.floor((min_lon - ORIGIN[0]) / CELL_LON)
    col1 = math.ceil((max_lon - ORIGIN[0]) / CELL_LON)
    row0 = math.floor((min_lat - ORIGIN[1]) / CELL_LAT)
    row1 = math.ceil((max_lat - ORIGIN[1]) / CELL_LAT)
    min_area = MIN_PIECE_SHARE * CELL_LON * CELL_LAT

    pieces: list[Polygon] = []
    for row in range(row1 - 1, row0 - 1, -1):  # north to south
        for col in range(col0, col1):  # west to east
            cell = box(
                ORIGIN[0] + col * CELL_LON,
                ORIGIN[1] + row * CELL_LAT,
                ORIGIN[0] + (col + 1) * CELL_LON,
                ORIGIN[1] + (row + 1) * CELL_LAT,
            )
            part = cell.intersection(town)
            # A concave border can split one lattice cell into several parts.
            parts = getattr(part, "geoms", [part])
            polys = [p for p in parts if isinstance(p, Polygon) and p.area >= min_area]
            # Order parts of the same cell by their centroid (north first, then west).
            polys.sort(key=lambda p: (-round(p.centroid.y, 6), round(p.centroid.x, 6)))
            pieces.extend(polys)
    return pieces


def fmt_ring(pts: list[list[float]]) -> str:
    return "[" + ", ".join(f"[{lon!r}, {lat!r}]" for lon, lat in pts) + "]"


def build() -> str:
    lines = [
        "# 临港新片区街镇及单元网格（示意范围，非法定界线）",
        "# 本文件由 build_grid.py 生成，请勿手工修改。",
        f"# 网格格网：原点 (lon, lat) = ({ORIGIN[0]}, {ORIGIN[1]})，"
        f"单元 {CELL_LON}° 经度 x {CELL_LAT}° 纬度。",
        f'version: "{VERSION}"',
        'crs: "WGS84 lon/lat"',
        "towns:",
    ]
    for code, name, outline in TOWNS:
        town = Polygon(outline)
        if not town.is_valid:
            raise ValueError(f"town polygon {code} is invalid")
        lines += [
            f"  - code: {code}",
            f"    name: {name}",
            f"    polygon: {fmt_ring(ring(town))}",
            "    grids:",
        ]
        for i, piece in enumerate(grid_pieces(town), start=1):
            lines += [
                f"      - code: {code}-{i:03d}",
                f"        name: {name}第{i:03d}网格",
                f"        polygon: {fmt_ring(ring(piece))}",
            ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("jurisdictions.yaml")
    out.write_text(build(), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)

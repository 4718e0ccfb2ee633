"""``GET /api/v1/taxonomy``: the classes, departments and towns the screens pick from."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cityops import jurisdiction, taxonomy
from services.api.auth.deps import Person

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


@cache
def catalogue() -> dict[str, Any]:
    tax, places = taxonomy.load(), jurisdiction.load()
    return {
        "version": tax.version,
        "classes": [
            {
                "code": c.code,
                "name": c.name,
                "dimension": c.dimension,
                "department": c.department,
                "priority": c.priority,
            }
            for c in tax.leaves
        ],
        "departments": [{"code": d.code, "name": d.name} for d in tax.departments],
        "towns": [{"code": t.code, "name": t.name} for t in places.towns.values()],
    }


@router.get("/taxonomy", summary="分类（GB/T 30428 与 12345 事项）、处置部门与街镇")
async def get_catalogue(_: Person) -> JSONResponse:
    return JSONResponse(catalogue(), headers={"Cache-Control": "private, max-age=3600"})

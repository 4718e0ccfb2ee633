from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from cityops.contracts import Role
from services.api.auth.deps import STAFF, require
from services.api.problems import problem
from services.api.sensors.directory import Entry
from services.api.sensors.intake import (
    BatchTooLarge,
    IntakeError,
    IntakeService,
    RateLimited,
    Unauthorised,
)
from services.api.sensors.models import (
    BatchAnswer,
    DeviceIssued,
    DevicePublic,
    DeviceRegister,
    GatewayCreate,
    GatewayIssued,
    ImportAnswer,
    ReadingBatch,
)
from services.api.sensors.ratelimit import retry_after
from services.api.sensors.registry import (
    DeviceExists,
    DeviceNotFound,
    FileRefused,
    KeysUnavailable,
    RegistryError,
    RegistryService,
)
from services.sensors.devices import DeviceRefused


def registry_service(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


def intake_service(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.sensor_intake
    return service


Registry = Annotated[RegistryService, Depends(registry_service)]
Intake = Annotated[IntakeService, Depends(intake_service)]
router = APIRouter(prefix="/api/v1", tags=["sensors"])
admin_only = [Depends(require(Role.ADMIN))]
staff_only = [Depends(require(*STAFF))]  # the device-fault board is read by the console


def public(registry: RegistryService, entry: Entry) -> DevicePublic:
    faulty = registry.directory.fault_open(entry.device.device_id)
    return DevicePublic.of(
        entry.device, retired=entry.retired, fault_open=faulty, registered_at=entry.registered_at
    )


@router.post("/devices", status_code=201, dependencies=admin_only, summary="登记设备")
async def register_device(
    body: DeviceRegister, registry: Registry, replace: bool = False
) -> DeviceIssued:
    entry, plain = await registry.register(body, replace)
    return DeviceIssued(device=public(registry, entry), api_key=plain)


@router.post("/devices/import", dependencies=admin_only, summary="从 CSV 批量登记设备")
async def import_devices(request: Request, registry: Registry) -> ImportAnswer:
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(422, f"CSV 必须是 UTF-8 编码: {exc}") from exc
    return await registry.import_csv(text)


@router.get("/devices/{device_id}", dependencies=staff_only, summary="查看设备")
async def get_device(device_id: str, registry: Registry) -> DevicePublic:
    return public(registry, registry.get(device_id))


@router.get("/devices", dependencies=staff_only, summary="设备列表")
async def list_devices(
    registry: Registry,
    town: str | None = None,
    device_type: Annotated[str | None, Query(alias="type")] = None,
    fault: bool | None = None,
    retired: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DevicePublic]:
    found = registry.directory.select(town, device_type, fault, retired)
    return [public(registry, e) for _, e in zip(range(limit), found, strict=False)]


@router.delete("/devices/{device_id}", dependencies=admin_only, summary="设备退役")
async def retire_device(device_id: str, registry: Registry) -> DevicePublic:
    return public(registry, await registry.retire(device_id))


@router.post("/gateways", status_code=201, dependencies=admin_only, summary="签发网关密钥")
async def issue_gateway(body: GatewayCreate, registry: Registry) -> GatewayIssued:
    return registry.issue_gateway(body.gateway_id)


@router.post("/sensors/readings", summary="批量上报传感器读数")
async def submit_readings(
    body: ReadingBatch, intake: Intake, x_api_key: Annotated[str | None, Header()] = None
) -> BatchAnswer:
    return await intake.submit(x_api_key, body.readings)


STATUS: dict[type[Exception], int] = {
    DeviceExists: 409,
    DeviceNotFound: 404,
    KeysUnavailable: 503,
    FileRefused: 422,
    BatchTooLarge: 413,
    Unauthorised: 401,
    RateLimited: 429,
}


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DeviceRefused)
    errors = [{"field": "device", "reason": r} for r in exc.reasons]
    return problem(422, f"设备登记被拒绝: {exc}", errors)


async def _failed(_: Request, exc: Exception) -> JSONResponse:
    status = STATUS[type(exc)]
    if isinstance(exc, FileRefused):
        errors = [{"field": "csv", "reason": r} for r in exc.reasons]
        return problem(status, f"CSV 文件被拒绝: {exc}", errors)
    response = problem(status, str(exc))
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(retry_after(exc.wait_s))
    if isinstance(exc, Unauthorised):
        response.headers["WWW-Authenticate"] = 'ApiKey header="X-Api-Key"'
    return response


def install(app: FastAPI) -> None:
    """The sensor routes and how their errors answer."""
    app.include_router(router)
    app.add_exception_handler(DeviceRefused, _refused)
    app.add_exception_handler(RegistryError, _failed)
    app.add_exception_handler(IntakeError, _failed)

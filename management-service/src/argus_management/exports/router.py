"""``/api/v1/exports``: evidence export jobs, their bundles, the site's signing key, and
verification of an uploaded bundle."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from argus_common.errors import Conflict, NotFound
from argus_management.audit.video import record_access
from argus_management.deps import SessionDep, SettingsDep
from argus_management.events.schemas import MAX_ID
from argus_management.exports import service
from argus_management.exports.schemas import (
    ExportCreate,
    ExportOut,
    ExportPage,
    PublicKeyOut,
    VerifyOut,
)
from argus_management.exports.signing import load_signing_key
from argus_management.exports.verify import load_public_key, verify_bundle
from argus_management.holds.service import held_export_ids
from argus_management.pagination import PageDep
from argus_management.rbac.dependencies import actor_for, require_authenticated, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()

Exporter = Annotated[Principal, Depends(require_permission("recordings:export"))]
Anyone = Annotated[Principal, Depends(require_authenticated())]
ExportId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=ExportOut, status_code=status.HTTP_202_ACCEPTED)
async def create_export(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Exporter,
    body: ExportCreate,
) -> ExportOut:
    """Queue an export of cameras over a range, or of events (each with its padding).
    Follow it with ``GET /exports/{id}`` or the ``export.*`` frames of ``/ws/alerts``."""
    export = await service.create_export(
        session, settings, principal, actor_for(request, principal), body
    )
    return service.export_out(export, held=False)


@router.get("", response_model=ExportPage)
async def list_exports(
    session: SessionDep, principal: Exporter, page: PageDep,
    state: Annotated[Literal["queued", "running", "done", "failed"] | None, Query()] = None,
) -> ExportPage:
    """The caller's exports (every export for user managers), newest first."""
    items, total = await service.list_exports(session, principal, page.limit, page.offset,
                                              state)
    return ExportPage(items=items, total=total)


@router.get("/public-key", response_model=PublicKeyOut)
async def public_key(settings: SettingsDep, _: Anyone) -> PublicKeyOut:
    """The site's export-signing public key and its fingerprint."""
    key = await asyncio.to_thread(
        load_signing_key, settings.data_dir, settings.export_signing_key_file
    )
    return PublicKeyOut(public_key_pem=key.public_pem, fingerprint=key.fingerprint)


@router.post("/verify", response_model=VerifyOut)
async def verify_upload(settings: SettingsDep, _: Anyone, bundle: UploadFile) -> VerifyOut:
    """Check an uploaded bundle against the site's key (the console's fallback when the
    browser cannot verify Ed25519 itself)."""
    key = await asyncio.to_thread(
        load_signing_key, settings.data_dir, settings.export_signing_key_file
    )
    public = load_public_key(key.public_pem.encode())
    result = await asyncio.to_thread(verify_bundle, bundle.file, public)
    return VerifyOut(valid=result.valid, reasons=result.reasons,
                     fingerprint=result.fingerprint, files_checked=result.files_checked,
                     manifest=result.manifest or None)


@router.get("/{export_id}", response_model=ExportOut)
async def get_export(session: SessionDep, principal: Exporter, export_id: ExportId) -> ExportOut:
    export = await service.visible_export(session, principal, export_id)
    held = await held_export_ids(session, [export.id])
    return service.export_out(export, held=export.id in held)


@router.get("/{export_id}/download", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}}})
async def download_export(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Exporter,
    export_id: ExportId,
) -> FileResponse:
    """The bundle (zip), streamed. Handing it out is audited (``video.export`` per
    camera, with the range)."""
    export = await service.visible_export(session, principal, export_id)
    if export.state != "done":
        raise Conflict(f"the export is {export.state}, not done")
    path = service.bundle_path(settings, export)
    if not path.is_file():
        raise NotFound("the bundle file is missing")
    actor = actor_for(request, principal)
    for item in export.items:
        await record_access(session, actor, "export", int(item["camera_id"]),
                            datetime.fromisoformat(item["start"]),
                            datetime.fromisoformat(item["end"]), export_id=export.id,
                            manifest_sha256=export.manifest_sha256)
    return FileResponse(path, media_type="application/zip",
                        filename=f"argus-export-{export.id}.zip")


@router.delete("/{export_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_export(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Exporter,
    export_id: ExportId,
) -> None:
    """Delete an export and its bundle (409 while it is on hold)."""
    export = await service.visible_export(session, principal, export_id)
    await service.delete_export(session, settings, actor_for(request, principal), export)

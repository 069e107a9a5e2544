"""``POST /internal/events``: media services report events (mounted under ``/internal``).

The body is read by hand rather than declared as a parameter so that the internal key is
checked before anything is parsed and an oversized body is refused while streaming, before
it is held in memory whole.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from argus_common.errors import PayloadTooLarge
from argus_management.deps import BusDep, EventStoredDep, SessionDep
from argus_management.events import service
from argus_management.events.schemas import MAX_PAYLOAD_BYTES, EventIn, EventOut
from argus_management.rbac.service_scopes import EVENTS_REPORT, require_service_scope

router = APIRouter()

# The whole message: the payload bound plus room for the envelope and JSON escaping.
MAX_BODY_BYTES = 4 * MAX_PAYLOAD_BYTES

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EventIn.model_json_schema()}},
    }
}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/events",
    dependencies=[Depends(require_service_scope(EVENTS_REPORT))],
    response_model=EventOut,
    status_code=201,
    openapi_extra=_BODY_DOC,
    responses={200: {"model": EventOut, "description": "redelivery of a stored event"}},
)
async def report_event(
    request: Request, response: Response, session: SessionDep, bus: BusDep,
    stored: EventStoredDep,
) -> EventOut:
    """Store an ``EventMessage`` (201), or return the stored one for a redelivery (200)."""
    body = await _read_body(request)
    try:
        msg = EventIn.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
    event, created = await service.ingest_event(session, bus, stored, msg)
    if not created:
        response.status_code = 200
    return EventOut.model_validate(event)

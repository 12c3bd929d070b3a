"""/notices: the stored text of each notice, exactly as issued."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api import errors
from api.deps import SessionDep
from dibao.db import notices_repo

router = APIRouter(prefix="/notices", tags=["notices"])


@router.get(
    "/{notice_id}",
    response_class=HTMLResponse,
    summary="A notice as issued (HTML, 简体中文)",
    responses={200: {"content": {"text/html": {}}}},
)
async def get_notice(notice_id: str, session: SessionDep) -> HTMLResponse:
    row = await notices_repo.get_notice(session, notice_id)
    if row is None:
        raise errors.not_found(f"notice {notice_id}")
    return HTMLResponse(
        row.content,
        headers={
            "ETag": f'"{row.content_sha256}"',
            "X-Content-SHA256": row.content_sha256,
            "X-Case-Id": row.case_id,
            "X-Notice-Kind": row.kind,
        },
    )

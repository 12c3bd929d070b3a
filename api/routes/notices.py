"""/notices: the stored text of each notice, exactly as issued."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from api import errors
from api.deps import AUTHENTICATED, SessionDep, SessionsDep, check_case, require
from api.fields import NoticeId
from api.responses import documented
from dibao.db import notices_repo
from dibao.domain.access import Action
from dibao.messages.case import Actor

router = APIRouter(
    prefix="/notices",
    tags=["notices"],
    dependencies=AUTHENTICATED,
    responses=documented(401, 403, 404, 422),
)


@router.get(
    "/{notice_id}",
    response_class=HTMLResponse,
    summary="A notice as issued (HTML, 简体中文)",
    responses={
        200: {"content": {"text/html": {}}},
        403: {"description": "the notice's case is outside the jurisdiction, or recused"},
    },
)
async def get_notice(
    notice_id: NoticeId,
    session: SessionDep,
    sessions: SessionsDep,
    actor: Annotated[Actor, Depends(require(Action.READ_CASE))],
) -> HTMLResponse:
    row = await notices_repo.get_notice(session, notice_id)
    if row is None:
        raise errors.not_found(f"notice {notice_id}")
    # A notice is the case's: whoever may not read the case may not read its notices.
    await check_case(sessions, actor, Action.READ_CASE, row.case_id)
    return HTMLResponse(
        row.content,
        headers={
            "ETag": f'"{row.content_sha256}"',
            "X-Content-SHA256": row.content_sha256,
            "X-Case-Id": row.case_id,
            "X-Notice-Kind": row.kind,
        },
    )

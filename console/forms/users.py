"""用户: everyone's own password, and the county user administrator's accounts of its county
(add, change role and jurisdiction, disable, issue a one-time password), through
api/users_service, the same service as POST /auth/password.

A one-time password is shown once, on the page answering the form that issued it, and never
stored but as its hash; the account must choose its own at its first sign-in.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api import users_service
from api.deps import sessions_dep
from api.routes.auth import sign_in_source
from console.errors import field_errors
from console.errors_zh import message_zh
from console.labels import ROLE
from console.render import register_page, render
from console.session import ConsoleFormDep, ConsoleUser, ConsoleUserDep
from dibao import auth
from dibao.db import users_repo
from dibao.db.auth_models import UserAuditRow, UserRow
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.enums import Role

router = APIRouter()
register_page("/console/users")

USER_ID = re.compile(access.USER_ID_PATTERN)

# The English reasons of access.user_problems / users_service, in the office's words.
_ZH: tuple[tuple[str, str], ...] = (
    ("2-64 characters", "2 至 64 位：小写字母、数字、“.”“_”或“-”，以字母或数字开头"),
    ("must be one of", "请从列表中选择角色"),
    ("a 6-digit county", "须为6位县、9位乡镇或12位村（社区）代码"),
    (
        "works in a",
        "该角色的管辖范围不对：村经办人12位，乡镇经办人9位，县级审批人6位，监督、审计6或9位",
    ),
    ("1 to 100 characters", "1 至 100 个字"),
    ("exists already", "该用户名已被使用"),
    ("at least", f"至少 {access.MIN_PASSWORD_LENGTH} 个字符"),
    ("no spaces at the start", "开头和结尾不能有空格"),
    ("must differ from the current", "新密码不能与当前密码相同"),
    ("must not be the user ID", "新密码不能与用户名相同"),
    ("the two new passwords differ", "两次输入的新密码不一致"),
    ("the current password is wrong", "当前密码不对（多次输错将暂被锁定）"),
)


def _zh(message: str) -> str:
    for english, chinese in _ZH:
        if english in message:
            return chinese
    return message_zh(message)


def _errors(exc: HTTPException) -> dict[str, str]:
    return {path: _zh(message) for path, message in field_errors(exc).items()}


def _is_admin(role: Role) -> bool:
    return access.role_denial(Action.MANAGE_USERS, role) is None


def _role_options() -> list[tuple[str, str]]:
    order = (
        Role.VILLAGE_CASEWORKER,
        Role.TOWNSHIP_CASEWORKER,
        Role.COUNTY_APPROVER,
        Role.SUPERVISOR,
        Role.AUDITOR,
    )
    return [(r.value, ROLE[r]) for r in order if r in access.ADMINISTERED_ROLES]


async def _users_page(
    request: Request,
    user: ConsoleUser,
    *,
    after: str = "",
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: object = None,
    issued: users_service.Issued | None = None,
) -> Response:
    rows: list[UserRow] = []
    audit: list[UserAuditRow] = []
    more = ""
    if _is_admin(user.role):
        county = user.jurisdiction[:6]
        async with sessions_dep(request)() as session:
            rows = await users_repo.county_users(session, county, after, users_repo.PAGE + 1)
            audit = await users_repo.audit_of_county(session, county, 20)
        if len(rows) > users_repo.PAGE:
            rows = rows[: users_repo.PAGE]
            more = rows[-1].user_id
    return await render(
        request,
        "console/users.html",
        status_code=status_code,
        admin=_is_admin(user.role),
        rows=rows,
        audit=audit,
        more=more,
        after=after,
        roles=_role_options(),
        issued=issued,
        errors=errors or {},
        values=values or {},
    )


@router.get("/users", include_in_schema=False)
async def users_page(request: Request, user: ConsoleUserDep, after: str = "") -> Response:
    if after and not USER_ID.match(after):
        after = ""
    return await _users_page(request, user, after=after)


@router.post("/users", include_in_schema=False)
async def add_user(request: Request, form: ConsoleFormDep) -> Response:
    try:
        issued = await users_service.add_user(
            sessions_dep(request),
            form.actor,
            user_id=form.get("user_id").strip()[:64],
            display_name=form.get("display_name")[:100],
            role=form.get("role"),
            jurisdiction=form.get("jurisdiction").strip()[:12],
            request_id=form.request_id,
        )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return await _users_page(
            request, form.user, status_code=422, errors=_errors(exc), values=form.data
        )
    return await render(request, "console/user_issued.html", issued=issued, added=True)


async def _one_user(
    request: Request, user_id: str, viewer: ConsoleUser
) -> tuple[UserRow, list[UserAuditRow]]:
    if not USER_ID.match(user_id) or not _is_admin(viewer.role):
        raise HTTPException(status_code=404, detail={"message": f"user {user_id} not found"})
    async with sessions_dep(request)() as session:
        row = await session.get(UserRow, user_id)
        if row is None or not access.inside(row.jurisdiction_code, viewer.jurisdiction[:6]):
            raise HTTPException(status_code=404, detail={"message": f"user {user_id} not found"})
        audit = list(await users_repo.audit_of_user(session, user_id))
    return row, audit


@router.get("/users/{user_id}", include_in_schema=False)
async def user_page(request: Request, user_id: str, user: ConsoleUserDep) -> Response:
    row, audit = await _one_user(request, user_id, user)
    refused = access.managed_user_denial(user.actor, row.user_id, row.role, row.jurisdiction_code)
    return await render(
        request,
        "console/user.html",
        row=row,
        audit=audit,
        refused=refused,
        roles=_role_options(),
        values={
            "role": row.role,
            "jurisdiction": row.jurisdiction_code,
            "display_name": row.display_name,
        },
    )


@router.post("/users/{user_id}", include_in_schema=False)
async def change_user(request: Request, user_id: str, form: ConsoleFormDep) -> Response:
    try:
        await users_service.change_user(
            sessions_dep(request),
            form.actor,
            user_id,
            role=form.get("role"),
            jurisdiction=form.get("jurisdiction").strip()[:12],
            display_name=form.get("display_name")[:100],
            request_id=form.request_id,
        )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        row, audit = await _one_user(request, user_id, form.user)
        return await render(
            request,
            "console/user.html",
            status_code=422,
            row=row,
            audit=audit,
            refused=None,
            roles=_role_options(),
            errors=_errors(exc),
            values=form.data,
        )
    return RedirectResponse(f"/console/users/{user_id}", status_code=303)


@router.post("/users/{user_id}/disable", include_in_schema=False)
async def disable_user(request: Request, user_id: str, form: ConsoleFormDep) -> Response:
    await users_service.set_disabled(
        sessions_dep(request), form.actor, user_id, True, form.request_id
    )
    return RedirectResponse(f"/console/users/{user_id}", status_code=303)


@router.post("/users/{user_id}/enable", include_in_schema=False)
async def enable_user(request: Request, user_id: str, form: ConsoleFormDep) -> Response:
    await users_service.set_disabled(
        sessions_dep(request), form.actor, user_id, False, form.request_id
    )
    return RedirectResponse(f"/console/users/{user_id}", status_code=303)


@router.post("/users/{user_id}/one-time-password", include_in_schema=False)
async def reset_password(request: Request, user_id: str, form: ConsoleFormDep) -> Response:
    issued = await users_service.issue_one_time_password(
        sessions_dep(request), form.actor, user_id, form.request_id
    )
    return await render(request, "console/user_issued.html", issued=issued, added=False)


# --- one's own password ----------------------------------------------------------------------


@router.get("/password", include_in_schema=False)
async def password_page(request: Request, user: ConsoleUserDep) -> Response:
    return await render(request, "console/password.html", changed=False)


@router.post("/password", include_in_schema=False)
async def change_password(request: Request, form: ConsoleFormDep) -> Response:
    settings = request.app.state.settings
    try:
        async with sessions_dep(request)() as session:
            await users_service.change_own_password(
                session,
                form.user.user_id,
                form.get("old_password")[:1024],
                form.get("new_password")[:1024],
                form.get("new_password_again")[:1024],
                request_id=form.request_id,
                lockout=auth.Lockout(settings.sign_in_attempts, settings.sign_in_lockout),
                source=sign_in_source(request),
            )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        # Passwords are never written back into the form.
        return await render(
            request, "console/password.html", status_code=422, changed=False, errors=_errors(exc)
        )
    # The page's user was looked up before the change: show it as it is now.
    request.state.console_user = None
    del request.state.console_user
    return await render(request, "console/password.html", changed=True)

"""Signing in to the console, the browser session, CSRF and the signed-in actor.

The session is a random token in an HttpOnly, SameSite=Strict cookie; the database keeps only
its SHA-256 (console_sessions), with an idle and an absolute expiry. Passwords are checked by
`dibao.auth.check_credentials`, the API's own check, so wrong passwords lock out the same way.

The CSRF token of a session is an HMAC of its cookie token: the page gets it in every form
(hidden field `csrf`), a forged form on another site cannot know it, and nothing more is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from api.deps import sessions_dep
from api.routes.auth import sign_in_source
from dibao import auth
from dibao.db import console_repo
from dibao.db.console_models import ConsoleSessionRow
from dibao.domain.enums import Role
from dibao.messages.case import Actor
from dibao.settings import Settings

SESSION_COOKIE = "dibao_console"
# Before signing in: the sign-in form's own CSRF token (double submit), so another site cannot
# sign a browser in as someone else.
PRE_COOKIE = "dibao_console_pre"
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=10)  # one working day
PREFIX = "/console"


class SignInRequired(Exception):
    """Raised by `console_user`; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """A user signed in with a one-time password: answered with a redirect to the password
    page, whatever page they asked for, until they have chosen their own."""


# What a user who must change the password may still reach.
PASSWORD_PAGE = f"{PREFIX}/password"
_BEFORE_PASSWORD_CHANGE = (PASSWORD_PAGE, f"{PREFIX}/sign-out")


class CsrfRefused(Exception):
    """A POST without the session's CSRF token: answered 403 with a page, nothing done."""


@dataclass(frozen=True)
class ConsoleUser:
    user_id: str
    display_name: str
    role: Role
    jurisdiction: str
    csrf: str
    # Signed in with a one-time password: every page but the password page redirects there.
    must_change_password: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(id=self.user_id, role=self.role, jurisdiction=self.jurisdiction)


def csrf_of(token: str) -> str:
    return hmac.new(token.encode(), b"dibao-console-csrf", hashlib.sha256).hexdigest()


async def current_user(request: Request) -> ConsoleUser | None:
    """The signed-in user of the request, or None; looked up once per request."""
    if hasattr(request.state, "console_user"):
        found: ConsoleUser | None = request.state.console_user
        return found
    token = request.cookies.get(SESSION_COOKIE)
    user: ConsoleUser | None = None
    if token:
        async with sessions_dep(request)() as session:
            row = await console_repo.live_session(
                session, auth.token_digest(token), datetime.now(UTC), IDLE
            )
        if row is not None:
            user = ConsoleUser(
                user_id=row.user_id,
                display_name=row.display_name,
                role=Role(row.role),
                jurisdiction=row.jurisdiction_code,
                csrf=csrf_of(token),
                must_change_password=row.must_change_password,
            )
    request.state.console_user = user
    return user


async def console_user(request: Request) -> ConsoleUser:
    """A dependency: the signed-in user, or a redirect to the sign-in page (303)."""
    user = await current_user(request)
    if user is None:
        path = request.url.path
        if request.method != "GET":
            path = PREFIX  # after signing in again, a form is filled in afresh
        elif request.url.query:
            path += "?" + request.url.query
        raise SignInRequired(path)
    if user.must_change_password and request.url.path not in _BEFORE_PASSWORD_CHANGE:
        raise PasswordChangeRequired()
    return user


async def console_actor(request: Request) -> Actor:
    """A dependency: the signed-in user as the actor of actions and audit rows."""
    return (await console_user(request)).actor


@dataclass(frozen=True)
class ConsoleForm:
    """A POSTed console form whose CSRF token checked out.

    `request_id` is the form's hidden `request_id` (a UUID put there when the page was
    rendered): pass it to the service layer as the Idempotency-Key / request ID, so a double
    click or a reload acts once. `data` is the whole form (FormData: `.get`, `.getlist`)."""

    user: ConsoleUser
    data: FormData
    request_id: str

    @property
    def actor(self) -> Actor:
        return self.user.actor

    def get(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        return value if isinstance(value, str) else default


async def console_form(request: Request) -> ConsoleForm:
    """A dependency for every console POST: signed in (else redirect), CSRF checked (else
    403 page), and the form's request ID (a fresh UUID if the form had none: then a repeat is
    not recognised, so forms must carry one)."""
    user = await console_user(request)
    data = await request.form()
    sent = data.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, user.csrf):
        raise CsrfRefused()
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not _is_uuid(request_id):
        request_id = str(uuid.uuid4())
    return ConsoleForm(user=user, data=data, request_id=request_id)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


ConsoleUserDep = Annotated[ConsoleUser, Depends(console_user)]
ConsoleActorDep = Annotated[Actor, Depends(console_actor)]
ConsoleFormDep = Annotated[ConsoleForm, Depends(console_form)]


# --- the sign-in and sign-out pages ------------------------------------------------------------

router = APIRouter()

SIGN_IN_REFUSED_ZH = "用户名或密码错误，或该用户已停用，或因多次输错密码暂被锁定，请稍后再试"


def _safe_next(value: str | None) -> str:
    # Only a path of the console itself: never an open redirect to another site.
    if value and value.startswith(PREFIX) and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(request: Request, next: str = PREFIX) -> Response:
    from console.render import render

    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    response = await render(
        request,
        "console/sign_in.html",
        next=_safe_next(next),
        pre_csrf=pre,
        user_id="",
        error="",
    )
    response.set_cookie(
        PRE_COOKIE, pre, httponly=True, samesite="strict", path=PREFIX, secure=_secure(request)
    )
    return response


@router.post("/sign-in", include_in_schema=False)
async def sign_in(request: Request) -> Response:
    from console.render import render

    data = await request.form()
    pre = request.cookies.get(PRE_COOKIE, "")
    sent = data.get("csrf")
    if not pre or not isinstance(sent, str) or not hmac.compare_digest(sent, pre):
        raise CsrfRefused()
    user_id = str(data.get("user_id") or "").strip()[:64]
    password = str(data.get("password") or "")[:1024]
    next_path = _safe_next(str(data.get("next") or PREFIX))
    settings: Settings = request.app.state.settings
    now = datetime.now(UTC)
    row = None
    if user_id and password:
        async with sessions_dep(request)() as session:
            row = await auth.check_credentials(
                session,
                user_id,
                password,
                now,
                auth.Lockout(settings.sign_in_attempts, settings.sign_in_lockout),
                source=sign_in_source(request),
            )
            if row is not None:
                token = auth.new_token()
                await console_repo.add_session(
                    session,
                    ConsoleSessionRow(
                        token_sha256=auth.token_digest(token),
                        user_id=row.user_id,
                        issued_at=now,
                        last_seen_at=now,
                        expires_at=now + ABSOLUTE,
                    ),
                )
    if row is None:
        return await render(
            request,
            "console/sign_in.html",
            status_code=401 if user_id and password else 422,
            next=next_path,
            pre_csrf=pre,
            user_id=user_id,
            error=SIGN_IN_REFUSED_ZH if user_id and password else "请填写用户名和密码",
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ABSOLUTE.total_seconds()),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(PRE_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out", include_in_schema=False)
async def sign_out(request: Request, form: ConsoleFormDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    async with sessions_dep(request)() as session:
        await console_repo.end_session(session, auth.token_digest(token), datetime.now(UTC))
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


def sign_in_url(next_path: str) -> str:
    return f"{PREFIX}/sign-in?next={quote(next_path, safe='/')}"

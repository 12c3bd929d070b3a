"""/auth: sign in for a bearer token, see who the token is, sign out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api import errors
from api.deps import (
    AUTHENTICATED,
    CODEC_COOKIE,
    SessionDep,
    SettingsDep,
    UserDep,
    unauthorized,
)
from api.fields import Line
from api.responses import documented
from dibao import auth
from dibao.domain.application import FieldError

router = APIRouter(prefix="/auth", tags=["auth"], responses=documented(401, 413, 422))

# One answer for an unknown user, a wrong password and a disabled user, so the endpoint does
# not tell an outsider which user IDs exist.
SIGN_IN_REFUSED = (
    "wrong user ID or password, or the user is disabled, or locked for a while after "
    "repeated wrong passwords"
)


PASSWORD_CHANGE_REQUIRED = (
    "the password is a one-time password issued by a user administrator: choose your own "
    "first in the console (/console), which asks for it at the first sign-in"
)


class TokenIn(BaseModel):
    # Not api.schemas.Strict: a password is compared exactly as typed, never stripped.
    model_config = ConfigDict(extra="forbid")

    user_id: Line = Field(min_length=1, max_length=64, examples=["zhang.wei"])
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    user_id: str
    display_name: str
    role: str
    jurisdiction: str
    token_expires_at: datetime

    @classmethod
    def of(cls, user: auth.AuthenticatedUser) -> UserOut:
        return cls(
            user_id=user.user_id,
            display_name=user.display_name,
            role=user.role.value,
            jurisdiction=user.jurisdiction,
            token_expires_at=user.token_expires_at,
        )


class TokenOut(BaseModel):
    # The field names of OAuth2's token response, so Swagger UI's "Authorize" uses it as is.
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserOut


_FORM = "application/x-www-form-urlencoded"
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TokenIn.model_json_schema()},
            # `username` is OAuth2's name for the field (Swagger UI's password flow sends it).
            _FORM: {
                "schema": {
                    "type": "object",
                    "required": ["password"],
                    "properties": {
                        "user_id": {"type": "string"},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


async def _credentials(request: Request) -> TokenIn:
    """The body as JSON or as a form (the OAuth2 password flow); 422 with field paths."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: Any
    if content_type == _FORM:
        fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        data = {k: v[0] for k, v in fields.items()}
        if "user_id" not in data and "username" in data:
            data["user_id"] = data["username"]
        # OAuth2 adds these; they mean nothing here.
        for extra in ("username", "grant_type", "scope", "client_id", "client_secret"):
            data.pop(extra, None)
    else:
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            raise errors.unprocessable([FieldError((), "not valid JSON")]) from None
    try:
        return TokenIn.model_validate(data)
    except ValidationError as err:
        raise errors.unprocessable(
            [FieldError(tuple(str(p) for p in e["loc"]), e["msg"]) for e in err.errors()]
        ) from None


def sign_in_source(request: Request) -> str:
    """The client's address, which wrong passwords lock the user out from. Behind a reverse
    proxy run uvicorn with --proxy-headers (and --forwarded-allow-ips) so this is the
    client's, not the proxy's."""
    host = request.client.host if request.client else ""
    return host[:64] or auth.UNKNOWN_SOURCE


@router.post(
    "/token",
    response_model=TokenOut,
    responses={
        401: {"description": SIGN_IN_REFUSED},
        403: {"description": "a one-time password: change it in the console first"},
        422: {"description": "missing fields: `detail` lists each field path and reason"},
    },
    openapi_extra=_BODY_DOC,
    summary="Sign in: user ID and password (JSON or form) for a bearer token",
)
async def issue_token(
    request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> TokenOut:
    body = await _credentials(request)
    try:
        issued = await auth.sign_in(
            session,
            body.user_id,
            body.password,
            settings.token_lifetime,
            datetime.now(UTC),
            auth.Lockout(settings.sign_in_attempts, settings.sign_in_lockout),
            source=sign_in_source(request),
        )
    except auth.PasswordChangeRequired:
        raise errors.forbidden(PASSWORD_CHANGE_REQUIRED, password_change_required=True) from None
    if issued is None:
        raise unauthorized(SIGN_IN_REFUSED)
    # The Temporal Web UI cannot send a bearer token to the codec endpoint, only the browser's
    # cookies ("include cross-origin credentials"): so the same token also goes into a cookie
    # that the browser sends to /codec only (HttpOnly, not readable by scripts).
    response.set_cookie(
        CODEC_COOKIE,
        issued.token,
        max_age=int(settings.token_lifetime.total_seconds()),
        path="/codec",
        httponly=True,
        samesite="lax",
    )
    return TokenOut(
        access_token=issued.token,
        expires_at=issued.user.token_expires_at,
        user=UserOut.of(issued.user),
    )


@router.get("/me", response_model=UserOut, summary="Who the bearer token belongs to")
async def me(user: UserDep) -> UserOut:
    return UserOut.of(user)


@router.post(
    "/logout",
    status_code=204,
    dependencies=AUTHENTICATED,
    summary="Revoke the bearer token sent with the request",
)
async def logout(request: Request, session: SessionDep) -> Response:
    # current_user has accepted the header, so it is a bearer token.
    token = request.headers["authorization"].split(" ", 1)[1].strip()
    await auth.sign_out(session, token, datetime.now(UTC))
    return Response(status_code=204)

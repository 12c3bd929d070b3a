"""Request-scoped dependencies: sessions, the Temporal client, the acting user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import errors, fields
from dibao import auth
from dibao.auth import AuthenticatedUser
from dibao.db import cases_repo, recusal_repo, rulepacks_repo
from dibao.domain import access
from dibao.domain.access import Action, CasePlace
from dibao.domain.stages import DELEGATED_APPROVAL_ROLES
from dibao.messages.case import Actor
from dibao.settings import Settings


def settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_dep(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def sessions_dep(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


# The dependencies below are `async def` though they do not wait: FastAPI runs a plain `def`
# dependency on a worker thread, a hop each per request (and a wait for a core when the
# machine is busy).


async def _settings(request: Request) -> Settings:
    return settings_dep(request)


async def _client(request: Request) -> Client:
    return client_dep(request)


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return sessions_dep(request)


async def session_dep(
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


async def autocommit(session: AsyncSession) -> AsyncSession:
    """The session's statements each on their own, outside a transaction: for reads of one
    statement each, which need no BEGIN and ROLLBACK around them (two round trips)."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


# Swagger UI's "Authorize" signs in with the password flow against POST /auth/token; any
# client may equally send a token it got there as `Authorization: Bearer <token>`.
_bearer = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    scheme_name="bearer",
    description="a token from POST /auth/token",
    auto_error=False,
)


def unauthorized(message: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="dibao"' + (f', error="{error}"' if error else "")
    return HTTPException(
        status_code=401, detail={"message": message}, headers={"WWW-Authenticate": challenge}
    )


# The cookie POST /auth/token also sets, sent by browsers to /codec only (the Temporal Web UI's
# requests to the codec endpoint can carry cookies but not a bearer token).
CODEC_COOKIE = "dibao_codec_session"


# Where a route that reads through ReadSessionDep finds the session its token was read in.
_READER = "dibao_reader_session"


def _route_reads(request: Request) -> bool:
    """Whether the request's route reads through ReadSessionDep (a walk of a dozen nodes)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    return isinstance(dependant, Dependant) and _depends_on(dependant, read_session_dep)


def _depends_on(dependant: Dependant, call: object) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


async def current_user(
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
) -> AsyncIterator[AuthenticatedUser]:
    if not token or not _route_reads(request):
        yield await _resolve(token, sessions)
        return
    # A list page: its statement runs on the connection the token was just read on, instead
    # of checking out (and pinging) a second one. Other routes hold no connection past this.
    async with sessions() as session:
        user = await _resolve(token, sessions, await autocommit(session))
        setattr(request.state, _READER, session)
        yield user


async def read_session_dep(
    request: Request,
    # Resolved first, whatever the order of the route's parameters: it opens the session.
    _user: Annotated[AuthenticatedUser, Depends(current_user)],
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
) -> AsyncIterator[AsyncSession]:
    """For a route that only reads, each of its statements complete in itself (a page with
    its counts in one): no transaction begun and rolled back around them, on the connection
    the request's token was read on."""
    shared: AsyncSession | None = getattr(request.state, _READER, None)
    if shared is not None:
        yield shared
        return
    async with sessions() as session:
        yield await autocommit(session)


async def codec_user(
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
) -> Actor:
    user = await _resolve(token or request.cookies.get(CODEC_COOKIE), sessions)
    return user.actor


async def _resolve(
    token: str | None,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession | None = None,
) -> AuthenticatedUser:
    if not token:
        raise unauthorized(
            "sign in first: POST /auth/token, then send Authorization: Bearer <token>"
        )
    if session is not None:
        user = await auth.resolve(session, token, datetime.now(UTC))
    else:
        async with sessions() as own:
            # Every request reads its token: one statement, outside a transaction.
            user = await auth.resolve(await autocommit(own), token, datetime.now(UTC))
    if user is None:
        raise unauthorized(
            "the token is unknown, expired or revoked; sign in again", error="invalid_token"
        )
    return user


async def actor_dep(user: Annotated[AuthenticatedUser, Depends(current_user)]) -> Actor:
    # The actor of every action and audit row is the token's user: nothing the client sends
    # in the request names it.
    return user.actor


def require(action: Action) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency refusing (403) a role the role table does not give the action."""

    async def check(actor: Annotated[Actor, Depends(actor_dep)]) -> Actor:
        check_role(actor, action)
        return actor

    return check


def case_actor(action: Action) -> Callable[..., Awaitable[Actor]]:
    """A dependency for /cases/{case_id}/…: the role may do the action, the case exists (404),
    lies in the user's jurisdiction and the user is not recused from it (403 otherwise)."""

    async def check(
        case_id: fields.CaseId,
        actor: Annotated[Actor, Depends(actor_dep)],
        sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
    ) -> Actor:
        await check_case(sessions, actor, action, case_id)
        return actor

    return check


@dataclass(frozen=True)
class CaseAccess:
    """The signed-in user allowed on a case, where the case lies (with its recusals) and its
    status: what a route needs of the case row, read once per request."""

    actor: Actor
    place: CasePlace
    status: str = ""


def case_access(action: Action) -> Callable[..., Awaitable[CaseAccess]]:
    """As case_actor, keeping what the check read of the case for the route."""

    async def check(
        case_id: fields.CaseId,
        actor: Annotated[Actor, Depends(actor_dep)],
        sessions: Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)],
    ) -> CaseAccess:
        place, status = await _check_case(sessions, actor, action, case_id)
        return CaseAccess(actor, place, status)

    return check


async def check_case(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, action: Action, case_id: str
) -> CasePlace:
    return (await _check_case(sessions, actor, action, case_id))[0]


async def check_case_access(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, action: Action, case_id: str
) -> CaseAccess:
    """check_case for callers that are not routes (the console): what the route's
    `case_access` dependency gives."""
    place, status = await _check_case(sessions, actor, action, case_id)
    return CaseAccess(actor, place, status)


async def _check_case(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, action: Action, case_id: str
) -> tuple[CasePlace, str]:
    if action not in DELEGATED_APPROVAL_ROLES:  # those depend on the case's pack (Art. 2)
        check_role(actor, action)
    async with sessions() as session:
        row = await cases_repo.get_case(session, case_id)
        if row is None:
            raise errors.not_found(f"case {case_id}")
        # From the registry, not only as the workflow last recorded it: a relative registered
        # a moment ago is recused now.
        recused = await recusal_repo.recused_staff(session, row)
        delegated = await rulepacks_repo.approval_delegated(
            session, row.rule_pack_id, row.rule_pack_version
        )
    place = CasePlace(
        county_code=row.county_code,
        township_code=row.township_code,
        village_code=row.village_code,
        recused_staff=recused,
        approval_delegated=delegated,
    )
    reason = access.case_denial(actor, action, place)
    if reason:
        raise errors.forbidden(reason, case_id=case_id)
    return place, row.status


def check_role(actor: Actor, action: Action) -> None:
    reason = access.role_denial(action, actor.role)
    if reason:
        raise errors.forbidden(reason, action=action.value)


def check_county(actor: Actor, action: Action, county_code: str) -> None:
    reason = access.county_action_denial(actor, action, county_code)
    if reason:
        raise errors.forbidden(reason, action=action.value)


SettingsDep = Annotated[Settings, Depends(_settings)]
ClientDep = Annotated[Client, Depends(_client)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
SessionDep = Annotated[AsyncSession, Depends(session_dep)]
ReadSessionDep = Annotated[AsyncSession, Depends(read_session_dep)]
ActorDep = Annotated[Actor, Depends(actor_dep)]
UserDep = Annotated[AuthenticatedUser, Depends(current_user)]
# Put on every router but the public ones: a request without a valid token is 401 before any
# of its own parameters are looked at.
AUTHENTICATED = [Depends(current_user)]
# Bounded to what the (case, step) key columns hold: see api/fields.py.
IdempotencyKey = fields.IdempotencyKey

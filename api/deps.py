"""Request-scoped dependencies: sessions, the Temporal client, the acting user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from dibao.domain.case import Actor
from dibao.domain.enums import Role
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


async def session_dep(
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(sessions_dep)],
) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


def actor_dep(
    x_actor_id: Annotated[
        str,
        Header(min_length=1, max_length=100, description="who acts (user ID of the caseworker)"),
    ],
    x_actor_role: Annotated[Role, Header(description="the role in which they act")],
) -> Actor:
    # Authentication replaces these headers (issue 6); until then every action still names
    # an actor, so the audit log never has an anonymous entry.
    return Actor(id=x_actor_id, role=x_actor_role)


SettingsDep = Annotated[Settings, Depends(settings_dep)]
ClientDep = Annotated[Client, Depends(client_dep)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(sessions_dep)]
SessionDep = Annotated[AsyncSession, Depends(session_dep)]
ActorDep = Annotated[Actor, Depends(actor_dep)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="repeat the request with the same key and it has no second effect",
    ),
]

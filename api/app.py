"""The FastAPI application. `create_app(settings)` is what uvicorn, the tests and tools build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

import console
from api import errors, input_guard
from api.body_limit import BodyLimit
from api.routes import (
    actions,
    auth,
    cases,
    codec,
    complaints,
    golive,
    health,
    household,
    notices,
    ops,
    payroll,
    policy,
    postings,
    spot_checks,
    staff,
    standard_changes,
    supervision,
)
from api.security_headers import SecurityHeaders
from dibao import logs
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings, get_settings
from dibao.temporal_client import connect, startup_settings


class CaseInLogs:
    """/cases/{id}/… and /ops/cases/{id}/…: log lines of the request carry the case ID. Plain
    ASGI: an @app.middleware("http") runs every request through a task and a stream of its own,
    which a list page of a few milliseconds notices."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parts = str(scope["path"]).strip("/").split("/")
        case_id = next((parts[i + 1] for i, p in enumerate(parts[:-1]) if p == "cases"), None)
        token = logs.CASE_ID.set(case_id)
        try:
            await self.app(scope, receive, send)
        finally:
            logs.CASE_ID.reset(token)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.settings = settings
        app.state.sessions = make_sessionmaker(engine)
        # Lazy: the API starts while Temporal is down, and answers 503 naming it until it is back.
        app.state.temporal = await connect(settings, lazy=True)
        yield
        await engine.dispose()

    app = FastAPI(
        title="dibao",
        summary="最低生活保障 case processing: applications, notices, audit",
        version="0.1.0",
        lifespan=lifespan,
    )

    # Added first: the innermost middleware, next to the routes.
    app.add_middleware(CaseInLogs)
    errors.install_unavailable_handlers(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(cases.router)
    app.include_router(notices.router)
    app.include_router(actions.router)
    app.include_router(household.router)
    app.include_router(postings.router)
    app.include_router(staff.router)
    app.include_router(payroll.router)
    app.include_router(standard_changes.router)
    app.include_router(spot_checks.router)
    app.include_router(policy.router)
    app.include_router(supervision.router)
    app.include_router(ops.router)
    app.include_router(golive.router)
    app.include_router(complaints.router)
    codec.install(app, settings)
    app.add_middleware(SecurityHeaders)
    input_guard.install(app)
    # After input_guard: the console answers its own paths' errors as pages.
    console.install(app)
    # Outermost, so no route or other middleware reads an oversized body.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        upload_prefixes=golive.UPLOAD_PREFIXES,
        upload_limit=golive.UPLOAD_LIMIT,
    )
    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory api.app:app_factory`."""
    settings = startup_settings("dibao api")
    logs.configure("api", settings.log_format)
    return create_app(settings)

"""Error bodies. 422 keeps FastAPI's shape ({detail: [{loc, msg, type}]}) for every validation
failure, whether pydantic or a domain rule found it, so clients parse one format."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from dibao.domain.application import FieldError
from dibao.messages.case import Rejection

log = logging.getLogger(__name__)


def unprocessable(errors: list[FieldError], root: str = "body") -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=[{"loc": [root, *e.path], "msg": e.message, "type": "value_error"} for e in errors],
    )


def conflict(message: str, **extra: Any) -> HTTPException:
    return HTTPException(status_code=409, detail={"message": message, **extra})


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail={"message": f"{what} not found"})


def unavailable(message: str, **extra: Any) -> HTTPException:
    return HTTPException(status_code=503, detail={"message": message, **extra})


def unprocessable_header(name: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=422, detail=[{"loc": ["header", name], "msg": message, "type": "value_error"}]
    )


def unprocessable_message(message: str) -> HTTPException:
    """A validator's reason reads 'field: why' when it concerns one field."""
    field, sep, why = message.partition(": ")
    loc = ["body", field] if sep and " " not in field else ["body"]
    return HTTPException(
        status_code=422,
        detail=[{"loc": loc, "msg": why if len(loc) == 2 else message, "type": "value_error"}],
    )


def forbidden(message: str, **extra: Any) -> HTTPException:
    return HTTPException(status_code=403, detail={"message": message, **extra})


def unprocessable_header_or_body(field: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=422, detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}]
    )


def from_rejection(err: WorkflowUpdateFailedError, **extra: Any) -> HTTPException | None:
    """A workflow validator's rejection as HTTP: 409 wrong stage, 422 invalid, 403 recused;
    None for any other failure (a bug, not the caller's doing)."""
    cause = err.cause
    if not isinstance(cause, ApplicationError):
        return None
    if cause.type == Rejection.WRONG_STAGE.value:
        return conflict(cause.message, **extra)
    if cause.type == Rejection.INVALID.value:
        return unprocessable_message(cause.message)
    if cause.type == Rejection.RECUSED.value:
        return forbidden(cause.message, **extra)
    return None


# --- a dependency that is down ------------------------------------------------------------

# Temporal answers these when it cannot be reached or did not answer in time; anything else
# it says (NOT_FOUND, INVALID_ARGUMENT ...) is about the request and is handled where it is sent.
_TEMPORAL_DOWN = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
_TEMPORAL_CONNECT_FAILED = "Failed client connect"
RETRY_AFTER_SECONDS = 5


def dependency_down(err: BaseException) -> str | None:
    """'database' or 'temporal' when the error means that dependency is unreachable."""
    if isinstance(
        err,
        sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.InterfaceError
        | sqlalchemy.exc.TimeoutError
        | psycopg.OperationalError
        | psycopg.InterfaceError,
    ):
        return "database"
    if isinstance(err, sqlalchemy.exc.DBAPIError) and err.connection_invalidated:
        return "database"
    if isinstance(err, RPCError) and err.status in _TEMPORAL_DOWN:
        return "temporal"
    # The lazily connected client (api/app.py) cannot reach the server: the SDK says so with a
    # RuntimeError of this text only.
    if type(err) is RuntimeError and str(err).startswith(_TEMPORAL_CONNECT_FAILED):
        return "temporal"
    return None


def error_kind(err: BaseException) -> str:
    """The error's class, the driver's when SQLAlchemy wraps one: never its text, which may
    quote the statement's parameters."""
    orig = getattr(err, "orig", None)
    return type(orig if isinstance(orig, BaseException) else err).__name__


_UNAVAILABLE_MESSAGES = {
    "database": "the database (PostgreSQL) is unavailable; try again shortly",
    "temporal": "the workflow service (Temporal) is unavailable; try again shortly",
}


async def on_dependency_down(request: Request, err: Exception) -> Response:
    """503 with the dependency and the error's kind, instead of a bare 500."""
    dependency = dependency_down(err)
    if dependency is None:  # registered for broader classes than it answers: not ours
        raise err
    kind = "connection refused" if isinstance(err, RuntimeError) else error_kind(err)
    message = _UNAVAILABLE_MESSAGES[dependency]
    if isinstance(err, RPCError) and err.status == RPCStatusCode.DEADLINE_EXCEEDED:
        # Temporal answers, but a query or update waited for a worker that did not come.
        kind = "deadline exceeded"
        message = (
            "the workflow service (Temporal) or its worker did not answer in time (is the "
            "worker running?); try again shortly"
        )
    log.warning("%s unavailable (%s) on %s %s", dependency, kind, request.method, request.url.path)
    return JSONResponse(
        status_code=503,
        content={
            "detail": {
                "message": message,
                "dependency": dependency,
                "reason": kind,
            }
        },
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_unavailable_handlers(app: FastAPI) -> None:
    for cls in (
        sqlalchemy.exc.DBAPIError,
        sqlalchemy.exc.TimeoutError,
        psycopg.Error,
        RPCError,
        RuntimeError,
    ):
        app.add_exception_handler(cls, on_dependency_down)

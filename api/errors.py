"""Error bodies. 422 keeps FastAPI's shape ({detail: [{loc, msg, type}]}) for every validation
failure, whether pydantic or a domain rule found it, so clients parse one format."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from dibao.domain.application import FieldError
from dibao.domain.case import Rejection


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

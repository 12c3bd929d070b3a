"""Error bodies. 422 keeps FastAPI's shape ({detail: [{loc, msg, type}]}) for every validation
failure, whether pydantic or a domain rule found it, so clients parse one format."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from dibao.domain.application import FieldError


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

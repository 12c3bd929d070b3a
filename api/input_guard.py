"""Bad characters in a URL, and validation errors that would echo them, as a clear 422.

A NUL byte or another control character in a path or query string can never name anything the
service holds, and PostgreSQL refuses it in a text parameter (a 500 if it got that far). It is
refused before routing, with the part of the URL that holds it. Validation errors are answered
without echoing the refused input: the input may be what cannot be encoded (a lone surrogate),
and it may be personal data.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send


def _bad_char(value: str) -> str | None:
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs"):
            return f"U+{ord(char):04X}"
    return None


def url_problem(scope: Scope) -> dict[str, Any] | None:
    """The first part of the URL holding a control character, as a 422 detail item."""
    path: str = scope.get("path", "")
    char = _bad_char(path)
    if char is not None:
        return {
            "loc": ["path"],
            "msg": f"the path contains the character {char}",
            "type": "value_error",
        }
    raw = scope.get("query_string", b"")
    try:
        query = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"loc": ["query"], "msg": "the query string is not UTF-8", "type": "value_error"}
    # errors="strict": a percent-encoded byte sequence that is not UTF-8 is refused, not
    # silently replaced by U+FFFD.
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return {"loc": ["query"], "msg": "the query string is not UTF-8", "type": "value_error"}
    for name, value in pairs:
        char = _bad_char(name) or _bad_char(value)
        if char is not None:
            return {
                "loc": ["query", name if _bad_char(name) is None else "?"],
                "msg": f"contains the character {char}",
                "type": "value_error",
            }
    return None


class UrlGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = url_problem(scope)
            if problem is not None:
                body = json.dumps({"detail": [problem]}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 422,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _plain(value: Any) -> Any:
    """JSON-safe: text that cannot be encoded (lone surrogates) is escaped."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _plain(str(value))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": _plain(list(e.get("loc", ()))),
            "msg": _plain(e.get("msg", "")),
            "type": _plain(e.get("type", "value_error")),
            **({"ctx": _plain(e["ctx"])} if "ctx" in e else {}),
        }
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI answers a body it cannot decode (bytes that are not UTF-8) with a bare 400; it is
    # invalid input like malformed JSON, which FastAPI answers with 422.
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        problem = {"loc": ["body"], "msg": "the body is not UTF-8 JSON", "type": "json_invalid"}
        return JSONResponse(status_code=422, content={"detail": [problem]})
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(UrlGuard)

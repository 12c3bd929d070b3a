"""How the console answers what goes wrong: pages in Chinese, never the API's JSON.

The service layer raises the API's HTTPExceptions (403 role/jurisdiction/recusal, 404, 409
stage, 422 fields, 503 dependency down); under /console they become an error page with the
same status. `field_errors(exc)` turns a 422's detail into `{field_path: message}` for the
form to show beside its fields (paths dotted: "members.0.id_number").
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.session import (
    PASSWORD_PAGE,
    PREFIX,
    CsrfRefused,
    PasswordChangeRequired,
    SignInRequired,
    sign_in_url,
)

TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权办理",
    404: "未找到",
    405: "请求方式不对",
    409: "当前环节不能办理",
    413: "提交内容过大",
    422: "填写有误",
    503: "系统暂时不可用",
}


def message_of(exc: StarletteHTTPException) -> str:
    detail: Any = exc.detail
    if isinstance(detail, dict):
        return str(detail.get("message", ""))
    if isinstance(detail, list):
        return "；".join(str(d.get("msg", "")) for d in detail if isinstance(d, dict))
    return str(detail or "")


def field_errors(exc: HTTPException) -> dict[str, str]:
    """A 422's detail as {dotted field path: message}; "" is the form as a whole."""
    out: dict[str, str] = {}
    detail: Any = exc.detail
    items = detail if isinstance(detail, list) else [{"loc": [], "msg": message_of(exc)}]
    for item in items:
        loc = [str(p) for p in item.get("loc", []) if p not in ("body", "header")]
        path = ".".join(loc)
        out.setdefault(path, str(item.get("msg", "")))
    return out


def _is_console(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


async def error_page(request: Request, status: int, message: str) -> Response:
    from console.render import render

    return await render(
        request,
        "console/error.html",
        status_code=status,
        status=status,
        title=TITLES.get(status, "出错了"),
        message=message,
    )


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if inspect.isawaitable(result):
        result = await result
    assert isinstance(result, Response)
    return result


def install(app: FastAPI) -> None:
    """Call after the API's own handlers are installed: the console's wrap them."""
    api_http = app.exception_handlers.get(StarletteHTTPException)
    api_validation = app.exception_handlers.get(RequestValidationError)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not _is_console(request) and api_http is not None:
            return await _call(api_http, request, exc)
        if not _is_console(request):
            raise exc
        from console.errors_zh import message_zh

        message = message_of(exc)
        return await error_page(request, exc.status_code, message_zh(message) if message else "")

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _is_console(request) and api_validation is not None:
            return await _call(api_validation, request, exc)
        wrong = "；".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return await error_page(request, 422, f"地址或参数有误：{wrong}")

    async def on_sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)

    async def on_password_change(request: Request, exc: Exception) -> Response:
        return RedirectResponse(PASSWORD_PAGE, status_code=303)

    async def on_csrf(request: Request, exc: Exception) -> Response:
        return await error_page(
            request,
            403,
            "表单缺少或带有无效的安全校验码（CSRF），未作任何处理。请返回上一页，刷新后重新提交。",
        )

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(SignInRequired, on_sign_in)
    app.add_exception_handler(CsrfRefused, on_csrf)
    app.add_exception_handler(PasswordChangeRequired, on_password_change)

"""Rendering console pages: `render(request, "console/xxx.html", **ctx)`.

Every page gets, besides its own context:
- `user`: the signed-in ConsoleUser (or None on the sign-in page),
- `csrf`: the session's CSRF token, `request_id`: a fresh UUID for the page's forms
  (the `m.hidden()` macro of templates/console/macros.html writes both),
- `nav`: the navigation entries, `errors` ({} unless given) and `values` ({} unless given),
- `place(code)`, `township_office(code)`, `county_office(code)`: names of places (行政区划),
- `zh(table, value)`: the documents' terms (console/labels.py), filters `date`, `datetime`,
  `yuan` (fen → "1234.50").
Templates are autoescaped with StrictUndefined: a name the page forgot is an error, not a blank.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from console import labels
from console.session import ConsoleUser, current_user
from dibao.db import regions_repo
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.calendar import CHINA_TZ
from dibao.domain.money import format_yuan
from dibao.settings import Settings

# Scripts and styles only from the console's own static files; no inline script at all.
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONSOLE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


def cn_date(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日"


def cn_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def iso_date(value: str | None) -> str:
    """A date of the procedure's JSON record (ISO text)."""
    if not value:
        return "—"
    try:
        return cn_date(datetime.fromisoformat(value))
    except ValueError:
        return value


def yuan(fen: int | None) -> str:
    return "—" if fen is None else format_yuan(fen)


@lru_cache(maxsize=4)
def environment(templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = cn_date
    env.filters["datetime"] = cn_datetime
    env.filters["yuan"] = yuan
    env.filters["datetime_iso"] = iso_date
    env.globals["zh"] = labels.zh
    return env


# Names of places change rarely (a CSV load); read at most once a minute per process.
_PLACES_TTL = 60.0
_places: tuple[float, dict[str, str]] = (0.0, {})


async def place_names(request: Request) -> dict[str, str]:
    global _places
    loaded_at, names = _places
    if time.monotonic() - loaded_at > _PLACES_TTL:
        async with request.app.state.sessions() as session:
            names = await regions_repo.all_names(session)
        _places = (time.monotonic(), names)
    return names


def forget_place_names() -> None:
    global _places
    _places = (0.0, {})


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    active: bool


# The top navigation, in order: (path, label, the action a user must be allowed to see it).
# None: everyone signed in. Pages of the other offices (issue 14) add their row here.
NAV: tuple[tuple[str, str, Action | None], ...] = (
    ("/console", "工作台", None),
    ("/console/cases/new", "新申请", Action.FILE_APPLICATION),
    ("/console/postings", "公示栏", None),
    ("/console/supervision", "监督", Action.SUPERVISE),
    ("/console/complaints", "举报投诉", Action.READ_COMPLAINTS),
    ("/console/ops", "运维", Action.OPERATE),
    ("/console/payroll", "发放", Action.READ_PAYROLL),
    ("/console/go-live", "上线", Action.IMPORT_LEDGER),
    ("/console/policy", "政策与基础数据", Action.READ_POLICY),
    ("/console/users", "用户", None),  # own password for all; the county user admin manages
)
# Pages not built yet are left out of the navigation until their router exists.
_BUILT: set[str] = set()


def register_page(path: str) -> None:
    """A console module declares that the navigation entry `path` has its page."""
    _BUILT.add(path)


def navigation(user: ConsoleUser | None, path: str) -> list[NavItem]:
    if user is None:
        return []
    items: list[tuple[str, str]] = []
    for href, label, action in NAV:
        if href not in ("/console", "/console/cases/new", "/console/postings") and (
            href not in _BUILT
        ):
            continue
        if action is not None and access.role_denial(action, user.role) is not None:
            continue
        if href == "/console/postings" and len(user.jurisdiction) == 12:
            href = f"/console/postings/{user.jurisdiction}"
        items.append((href, label))
    return [
        NavItem(href, label, path == href or (href != "/console" and path.startswith(href)))
        for href, label in items
    ]


async def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    user = await current_user(request)
    names = await place_names(request)
    base: dict[str, Any] = {
        "user": user,
        "csrf": user.csrf if user else "",
        "request_id": str(uuid.uuid4()),
        "nav": navigation(user, request.url.path),
        "errors": {},
        "values": {},
        "place": lambda code: regions_repo.place_name(names, code),
        "place_short": lambda code: names.get(code, code),
        "township_office": lambda code: regions_repo.township_office(names, code),
        "county_office": lambda code: regions_repo.county_office(names, code),
        "path": request.url.path,
    }
    base.update(context)
    html = environment(settings.templates_dir).get_template(template).render(**base)
    return HTMLResponse(html, status_code=status_code, headers={**HEADERS, **(headers or {})})

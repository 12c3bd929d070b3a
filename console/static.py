"""The console's own CSS and scripts (console/static/), served by the app."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from api import errors

STATIC_DIR = Path(__file__).parent / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

router = APIRouter()


@router.get("/static/{name}", include_in_schema=False)
async def static_file(name: str) -> Response:
    path = STATIC_DIR / name
    # One flat folder; nothing but its CSS and scripts, never a path out of it.
    if "/" in name or name.startswith(".") or path.suffix not in TYPES or not path.is_file():
        raise errors.not_found(f"file {name}")
    return Response(
        path.read_bytes(),
        media_type=TYPES[path.suffix],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )

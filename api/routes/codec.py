"""Remote codec for the Temporal Web UI: it shows decrypted payloads only through here.

Temporal stores every payload encrypted (dibao.codec), so the UI, pointed at this endpoint
(`temporal server start-dev --ui-codec-endpoint http://…/codec`, or the UI's "Codec Server"
setting), sends the payloads it displays to `POST /codec/decode` and the ones a user enters to
`POST /codec/encode`. The body is Temporal's remote codec protocol: `{"payloads": [...]}` with
each payload in protobuf JSON form (base64 `metadata` values and `data`).

Decrypting shows a household's names and ID numbers, so only roles that supervise or operate
the service may call it, only for payloads labelled with a county inside their jurisdiction
(unlabelled ones: ops only), and only from the browser origins in settings (CORS).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client

from api import errors
from api.deps import ClientDep, SettingsDep, codec_user
from api.responses import documented
from dibao.codec import (
    CodecKeyError,
    EncryptionCodec,
    county_of,
    is_encrypted,
    payloads_of_county,
)
from dibao.domain import access
from dibao.domain.enums import Role
from dibao.messages.case import Actor
from dibao.settings import Settings

PREFIX = "/codec"
# A bearer token, or the session cookie POST /auth/token sets for /codec (what the Web UI sends
# with "include cross-origin credentials").
CodecActor = Annotated[Actor, Depends(codec_user)]
# Roles that may look inside any case's history: supervision, audit, operations, and the county
# approver who decides cases. Village and township caseworkers see their cases through the API.
ALLOWED_ROLES = frozenset({Role.OPS, Role.AUDITOR, Role.SUPERVISOR, Role.COUNTY_APPROVER})

log = logging.getLogger(__name__)
router = APIRouter(prefix=PREFIX, tags=["ops"], responses=documented(401, 403, 413, 422))


class PayloadJson(BaseModel):
    metadata: dict[str, str] = Field(
        default_factory=dict, description="metadata values, base64 (e.g. encoding)"
    )
    data: str = Field(default="", description="payload bytes, base64")


class PayloadsJson(BaseModel):
    payloads: list[PayloadJson]


NamespaceHeader = Annotated[
    str | None,
    Header(
        alias="X-Namespace",
        max_length=255,
        description="the Temporal namespace the UI is showing; the UI always sends it",
    ),
]


def _check_access(actor: Actor, namespace: str | None, settings: Settings) -> None:
    if actor.role not in ALLOWED_ROLES:
        raise errors.forbidden(
            f"role {actor.role.value} may not read decrypted Temporal payloads",
            allowed_roles=sorted(role.value for role in ALLOWED_ROLES),
        )
    # The keys belong to this service's namespace; another namespace's payloads are not ours.
    if namespace is not None and namespace != settings.temporal_namespace:
        raise errors.forbidden(f"this codec serves namespace {settings.temporal_namespace}")


def _parse(body: PayloadsJson) -> list[Payload]:
    try:
        parsed = json_format.ParseDict(body.model_dump(), Payloads())
    except json_format.ParseError as err:
        raise errors.unprocessable_header_or_body("payloads", str(err)) from None
    return list(parsed.payloads)


def _answer(payloads: list[Payload]) -> JSONResponse:
    return JSONResponse(json_format.MessageToDict(Payloads(payloads=payloads)))


def _codec_for(
    actor: Actor, namespace: str | None, settings: Settings, client: Client
) -> EncryptionCodec:
    """The codec, once the caller may use it for this namespace."""
    _check_access(actor, namespace, settings)
    codec = client.data_converter.payload_codec
    if not isinstance(codec, EncryptionCodec):  # connect() always sets one
        raise errors.unavailable("no payload codec configured")
    return codec


def _check_counties(actor: Actor, payloads: list[Payload]) -> None:
    """Each payload is labelled with its case's county; a user decrypts only their own
    county's. Unlabelled ones (cases from before the label) could be any county's: ops only."""
    for index, payload in enumerate(payloads):
        if not is_encrypted(payload):
            continue  # stored in clear: nothing the codec would reveal
        county = county_of(payload)
        if county is None:
            if actor.role is not Role.OPS:
                raise errors.forbidden(
                    f"payload {index} names no county (written before payloads were labelled); "
                    "only ops may decrypt it"
                )
            continue
        refused = access.county_denial(actor.jurisdiction, county)
        if refused:
            raise errors.forbidden(f"payload {index}: {refused}")


@router.post("/decode", summary="Decrypt payloads for the Temporal Web UI")
async def decode(
    body: PayloadsJson,
    actor: CodecActor,
    client: ClientDep,
    settings: SettingsDep,
    namespace: NamespaceHeader = None,
) -> Any:
    codec = _codec_for(actor, namespace, settings, client)
    payloads = _parse(body)
    _check_counties(actor, payloads)
    # Who decrypted how much goes to the log: reading a history here shows households' data.
    log.info("codec decode: %s (%s) decoded %d payloads", actor.id, actor.role, len(payloads))
    try:
        return _answer(await codec.reveal(payloads))
    except CodecKeyError as err:
        raise errors.unprocessable_header_or_body("payloads", str(err)) from None


@router.post("/encode", summary="Encrypt payloads the Temporal Web UI sends (signals, starts)")
async def encode(
    body: PayloadsJson,
    actor: CodecActor,
    client: ClientDep,
    settings: SettingsDep,
    namespace: NamespaceHeader = None,
) -> Any:
    codec = _codec_for(actor, namespace, settings, client)
    # What a user enters belongs to their county: labelled so, it is theirs to read back, and
    # a worker refuses it for another county's case.
    with payloads_of_county(actor.jurisdiction[:6]):
        return _answer(await codec.encode(_parse(body)))


class CodecCORS:
    """CORS for /codec only: the Web UI is another origin, the rest of the API needs none."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            # What the UI sends: JSON, its namespace, and a bearer token when configured to.
            allow_headers=["content-type", "x-namespace", "authorization"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the codec routes and their CORS on the API."""
    app.include_router(router)
    app.add_middleware(CodecCORS, origins=settings.codec_origins)

"""Encryption of everything dibao puts into Temporal: inputs, results, updates, failures.

Workflow histories hold the application (names, ID numbers, incomes, addresses). Temporal keeps
them for as long as the case runs and shows them to anyone with access to the cluster or its
Web UI, so every payload is encrypted before it leaves the process (AES-256-GCM) and only
processes holding the keys (worker, API, CLI, the codec endpoint) can read it.

Keys come from `DIBAO_CODEC_KEYS`: `id:base64key[,id:base64key...]`. The first key encrypts,
every key decrypts, and each payload names its key in its metadata. Rotating is therefore:
put a new key first, keep the old ones until no history still needs them.

Each payload also names, in clear, the county of the case (or payroll, or standard change) it
belongs to (`dibao-county`, a 6-digit code, no personal data), so the codec endpoint decrypts
for a user only the payloads of their own county. The county is bound to the ciphertext as
AES-GCM associated data (`dibao-county:<code>`): a payload relabelled with another county, or
stripped of its label, no longer decrypts. A codec server in another language passes the same
associated data when the label is present, none when it is absent (payloads from before).

Where the county comes from, since the codec sees payloads and not cases:
- `payloads_of_county(code)`: the API sets it where it starts or updates a case (it knows the
  household's county), and so does every other caller that knows it;
- the workflow ID, where it carries the county by construction (`payroll-610423-2026-11`,
  `SC-610423-…`, `ledger-610423-LI-…`, schedules `payroll-610423`);
- otherwise what this process learnt from the first payload it decoded for the workflow: a
  worker decoding a case's input (labelled by the API, or naming the household's county, for
  cases started before the label) labels everything it writes for that case the same way.
Payloads whose county is known nowhere (the inputs and early events of cases started before the
label, what an activity of such a case wrote before its workflow was replayed in the process)
stay unlabelled; only ops may read those through the endpoint.

Payloads that arrive unencrypted are refused (replaced by a payload of encoding
`dibao/refused-unencrypted`, which no converter reads): an update or signal sent to Temporal
without the codec, by anyone with access to the cluster, fails instead of acting on a case.
`DIBAO_CODEC_ACCEPT_PLAINTEXT` accepts them while histories from before encryption still run.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import json
import os
import re
import secrets
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Self

import temporalio.converter
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)

if TYPE_CHECKING:
    from dibao.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the size AES-GCM is designed for; random per payload
ENV_VAR = "DIBAO_CODEC_KEYS"
# Key IDs travel in every payload's metadata and in the env var's own syntax, so keep them to
# characters that need no quoting and cannot be confused with the ':' and ',' separators.
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
COUNTY_METADATA = "dibao-county"
_COUNTY = re.compile(r"^[0-9]{6}$")
REFUSED_ENCODING = b"dibao/refused-unencrypted"
# Workflow IDs that carry their county (dibao.domain.payroll, api/routes/standard_changes.py,
# workflows/ledger_import.py).
_COUNTY_IN_WORKFLOW_ID = re.compile(r"^(?:payroll|SC|ledger)-([0-9]{6})(?:-|$)")
# Workflows whose county this process has learnt; bounded, the oldest forgotten first.
MEMORY_SIZE = 100_000

_payload_county: ContextVar[str | None] = ContextVar("dibao_payload_county", default=None)


@contextmanager
def payloads_of_county(county: str) -> Iterator[None]:
    """Label every payload encoded inside the block with this county (a 6-digit code)."""
    if not _COUNTY.match(county):
        raise ValueError(f"not a county code: {county!r}")
    token = _payload_county.set(county)
    try:
        yield
    finally:
        _payload_county.reset(token)


def county_in_workflow_id(workflow_id: str | None) -> str | None:
    found = _COUNTY_IN_WORKFLOW_ID.match(workflow_id or "")
    return found[1] if found else None


def county_of(payload: Payload) -> str | None:
    """The county a payload is labelled with, read from its clear metadata."""
    county = payload.metadata.get(COUNTY_METADATA, b"").decode(errors="replace")
    return county if _COUNTY.match(county) else None


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCODING


def _associated_data(county: str | None) -> bytes | None:
    return f"{COUNTY_METADATA}:{county}".encode() if county else None


def _county_in_content(payload: Payload) -> str | None:
    """The county a case's input names (application.hukou.county_code): how a worker learns
    the county of a case started before payloads were labelled."""
    if payload.metadata.get("encoding") != b"json/plain":
        return None
    try:
        value = json.loads(payload.data)
        county = value["application"]["hukou"]["county_code"]
    except (ValueError, KeyError, TypeError):
        return None
    return county if isinstance(county, str) and _COUNTY.match(county) else None


def _refused(reason: str) -> Payload:
    return Payload(metadata={"encoding": REFUSED_ENCODING}, data=reason.encode())


class _CountyMemory:
    def __init__(self) -> None:
        self._counties: OrderedDict[str, str] = OrderedDict()

    def get(self, workflow_id: str) -> str | None:
        """The county learnt for a workflow; '' when its first payload had none."""
        return self._counties.get(workflow_id)

    def learn(self, workflow_id: str, county: str) -> None:
        self._counties[workflow_id] = county
        self._counties.move_to_end(workflow_id)
        while len(self._counties) > MEMORY_SIZE:
            self._counties.popitem(last=False)


class CodecKeyError(ValueError):
    """DIBAO_CODEC_KEYS is malformed, missing, or does not hold the key a payload needs."""


def parse_keys(value: str) -> list[tuple[str, bytes]]:
    """`id:base64key[,id:base64key...]` as (id, key) pairs, first (the encrypting one) first.

    Messages name the entry and the key ID but never echo key material.
    """
    keys: list[tuple[str, bytes]] = []
    entries = [entry.strip() for entry in value.split(",")]
    if not any(entries):
        raise CodecKeyError(f"{ENV_VAR} is empty; expected id:base64key[,id:base64key...]")
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        key_id, encoded = key_id.strip(), encoded.strip()
        if not sep or not key_id or not encoded:
            raise CodecKeyError(
                f"{ENV_VAR} entry {position} is not id:base64key "
                "(generate one with `dibao codec new-key`)"
            )
        if not _KEY_ID.match(key_id):
            raise CodecKeyError(
                f"{ENV_VAR} entry {position}: key ID must be 1-64 of A-Z a-z 0-9 . _ -"
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise CodecKeyError(f"{ENV_VAR}: key '{key_id}' is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise CodecKeyError(
                f"{ENV_VAR}: key '{key_id}' is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
            )
        if any(known == key_id for known, _ in keys):
            raise CodecKeyError(f"{ENV_VAR}: key ID '{key_id}' appears twice")
        keys.append((key_id, key))
    return keys


def new_key() -> str:
    """A fresh `id:base64key` entry; the ID is random so two offices never collide."""
    key_id = "k" + secrets.token_hex(4)
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    def __init__(self, keys: Sequence[tuple[str, bytes]], *, accept_plain: bool = False) -> None:
        super().__init__()
        if not keys:
            raise CodecKeyError(f"{ENV_VAR} holds no key")
        self.encrypting_key_id = keys[0][0]
        self.accept_plain = accept_plain
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}
        self._memory = _CountyMemory()
        # The workflow the payloads belong to, when the SDK says (with_context).
        self.workflow_id: str | None = None

    @classmethod
    def from_setting(cls, value: str, *, accept_plain: bool = False) -> EncryptionCodec:
        return cls(parse_keys(value), accept_plain=accept_plain)

    def with_context(self, context: SerializationContext) -> Self:
        # The SDK asks for a copy per workflow (or activity of a workflow) it converts for;
        # the copies share keys and what was learnt.
        workflow_id = getattr(context, "workflow_id", None)
        if workflow_id == self.workflow_id:
            return self
        clone = copy.copy(self)
        clone.workflow_id = workflow_id
        return clone

    def county(self) -> str | None:
        """The county the payloads encoded now belong to, if it is known."""
        return (
            _payload_county.get()
            or county_in_workflow_id(self.workflow_id)
            or (self._memory.get(self.workflow_id) or None if self.workflow_id else None)
        )

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self.encrypting_key_id]
        county = self.county()
        metadata = {"encoding": ENCODING, KEY_ID_METADATA: self.encrypting_key_id.encode()}
        if county:
            metadata[COUNTY_METADATA] = county.encode()
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            # The whole serialized payload is encrypted, its metadata too: the original
            # encoding (json/plain, binary/null...) says something about the content.
            sealed = nonce + cipher.encrypt(
                nonce, payload.SerializeToString(), _associated_data(county)
            )
            encoded.append(Payload(metadata=metadata, data=sealed))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if not is_encrypted(payload):
                decoded.append(payload if self.accept_plain else _refused("not encrypted"))
                continue
            county = county_of(payload)
            expected = self._expected_county()
            if county and expected and county != expected:
                # Encrypted with the keys, but for another county's case: someone holding the
                # keys (or the codec endpoint) made it for a workflow it does not belong to.
                decoded.append(_refused(f"labelled county {county}, workflow of {expected}"))
                continue
            plain = self._decrypt(payload, county)
            if self.workflow_id and expected is None and self._memory.get(self.workflow_id) is None:
                # The first payload this process decodes for a workflow decides (a worker
                # decodes the workflow's input first, which its starter labelled, or which
                # names the household's county itself), and nothing later changes it: a
                # payload labelled for another county cannot relabel a case.
                self._memory.learn(self.workflow_id, county or _county_in_content(plain) or "")
            decoded.append(plain)
        return decoded

    def _expected_county(self) -> str | None:
        """The county this workflow's payloads must carry, if known."""
        if self.workflow_id is None:
            return None
        return county_in_workflow_id(self.workflow_id) or self._memory.get(self.workflow_id) or None

    async def reveal(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt for a person (the codec endpoint): clear payloads, which anyone with access
        to Temporal sees anyway, are shown as they are; nothing is learnt."""
        return [self._decrypt(p, county_of(p)) if is_encrypted(p) else p for p in payloads]

    def _decrypt(self, payload: Payload, county: str | None) -> Payload:
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecKeyError(
                f"payload was encrypted with key '{key_id}', which is not in {ENV_VAR} "
                f"(known: {', '.join(self._ciphers)}); an old key was removed too early "
                "or this process has another office's keys"
            )
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _associated_data(county))
        except InvalidTag:
            raise CodecKeyError(
                f"payload under key '{key_id}' does not decrypt: the key with that ID "
                "differs from the one that encrypted it, or the payload (or its county "
                "label) was altered"
            ) from None
        return Payload.FromString(plain)


class EncodedFailureConverter(DefaultFailureConverter):
    """Failure messages and stack traces go through the codec too.

    They routinely quote the data that failed ("ID number 6125... is taken"); without this
    they would sit in history as clear text beside the encrypted payloads.
    """

    def __init__(self) -> None:
        super().__init__(encode_common_attributes=True)


def codec_for(settings: Settings) -> EncryptionCodec:
    if settings.codec_keys is None:
        where = settings.temporal_target
        raise CodecKeyError(
            f"{ENV_VAR} is not set: refusing to connect to Temporal at {where}, since case "
            "data (names, ID numbers) would be stored there unencrypted. Set it to the "
            "office's keys (a new one: `dibao codec new-key`); `make dev` creates one itself."
        )
    return EncryptionCodec.from_setting(
        settings.codec_keys.get_secret_value(), accept_plain=settings.codec_accept_plaintext
    )


def data_converter(settings: Settings) -> DataConverter:
    """The converter every client dibao creates uses: default JSON, then encryption."""
    return dataclasses.replace(
        temporalio.converter.default(),
        payload_codec=codec_for(settings),
        failure_converter_class=EncodedFailureConverter,
    )

"""Encryption of everything dibao puts into Temporal: inputs, results, updates, failures.

Workflow histories hold the application (names, ID numbers, incomes, addresses). Temporal keeps
them for as long as the case runs and shows them to anyone with access to the cluster or its
Web UI, so every payload is encrypted before it leaves the process (AES-256-GCM) and only
processes holding the keys (worker, API, CLI, the codec endpoint) can read it.

Keys come from `DIBAO_CODEC_KEYS`: `id:base64key[,id:base64key...]`. The first key encrypts,
every key decrypts, and each payload names its key in its metadata. Rotating is therefore:
put a new key first, keep the old ones until no history still needs them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

import temporalio.converter
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadCodec

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


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        super().__init__()
        if not keys:
            raise CodecKeyError(f"{ENV_VAR} holds no key")
        self.encrypting_key_id = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def from_setting(cls, value: str) -> EncryptionCodec:
        return cls(parse_keys(value))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self.encrypting_key_id]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            # The whole serialized payload is encrypted, its metadata too: the original
            # encoding (json/plain, binary/null...) says something about the content.
            # No associated data, as in Temporal's Go and TypeScript samples, so a codec server
            # written in another language can decrypt with the same keys.
            sealed = nonce + cipher.encrypt(nonce, payload.SerializeToString(), None)
            encoded.append(
                Payload(
                    metadata={
                        "encoding": ENCODING,
                        KEY_ID_METADATA: self.encrypting_key_id.encode(),
                    },
                    data=sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            # Histories written before encryption (and the saved test histories) stay readable.
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
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
                plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
            except InvalidTag:
                raise CodecKeyError(
                    f"payload under key '{key_id}' does not decrypt: the key with that ID "
                    "differs from the one that encrypted it, or the payload was altered"
                ) from None
            decoded.append(Payload.FromString(plain))
        return decoded


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
    return EncryptionCodec.from_setting(settings.codec_keys.get_secret_value())


def data_converter(settings: Settings) -> DataConverter:
    """The converter every client dibao creates uses: default JSON, then encryption."""
    return dataclasses.replace(
        temporalio.converter.default(),
        payload_codec=codec_for(settings),
        failure_converter_class=EncodedFailureConverter,
    )

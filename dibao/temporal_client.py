"""Connecting to Temporal, the same way for the API, the worker, the CLI and the tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypedDict

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from dibao.codec import data_converter
from dibao.settings import Settings, get_settings, settings_error


class TemporalSettingsError(ValueError):
    """A Temporal setting that names a file which cannot be used. The message names the
    variable and the path, never a key."""


class ConnectOptions(TypedDict):
    """`Client.connect`'s keyword arguments that come from the settings."""

    target_host: str
    namespace: str
    tls: bool | TLSConfig
    api_key: str | None


def connect_options(settings: Settings) -> ConnectOptions:
    """Where and how to reach Temporal: address, namespace, TLS (its PEM files read here) and
    API key. Pure but for reading those files, so every process can check it at start."""
    tls: bool | TLSConfig = settings.temporal_uses_tls
    files = (
        settings.temporal_tls_ca_path,
        settings.temporal_tls_cert_path,
        settings.temporal_tls_key_path,
    )
    if tls and (settings.temporal_tls_server_name is not None or any(files)):
        tls = TLSConfig(
            server_root_ca_cert=_pem(
                settings.temporal_tls_ca_path, "TEMPORAL_TLS_SERVER_CA_CERT_PATH"
            ),
            client_cert=_pem(settings.temporal_tls_cert_path, "TEMPORAL_TLS_CLIENT_CERT_PATH"),
            client_private_key=_pem(settings.temporal_tls_key_path, "TEMPORAL_TLS_CLIENT_KEY_PATH"),
            domain=settings.temporal_tls_server_name,
        )
    api_key = settings.temporal_api_key
    return ConnectOptions(
        target_host=settings.temporal_target,
        namespace=settings.temporal_namespace,
        tls=tls,
        api_key=api_key.get_secret_value() if api_key is not None else None,
    )


def _pem(path: Path | None, variable: str) -> bytes | None:
    if path is None:
        return None
    try:
        content = path.read_bytes()
    except OSError as err:
        raise TemporalSettingsError(
            f"{variable}={path} cannot be read: {err.strerror or type(err).__name__}"
        ) from None
    # A wrong file (a DER certificate, the key where the certificate goes) would otherwise
    # surface as a TLS handshake failure naming neither the file nor the variable.
    if b"-----BEGIN " not in content:
        raise TemporalSettingsError(f"{variable}={path} is not a PEM file")
    return content


def startup_settings(process: str) -> Settings:
    """The settings of a process that is starting (worker, API), checked as far as connecting
    to Temporal needs: one that cannot work stops it with a line naming the variable instead
    of a stack trace, before it serves or polls anything."""
    try:
        settings = get_settings()
        connect_options(settings)
    except ValidationError as err:
        raise SystemExit(f"{process}: {settings_error(err)}") from None
    except TemporalSettingsError as err:
        raise SystemExit(f"{process}: {err}") from None
    return settings


async def connect(
    settings: Settings, runtime: Runtime | None = None, *, lazy: bool = False
) -> Client:
    # Every payload and failure is encrypted (dibao.codec); without keys this raises before
    # connecting rather than write households' data to Temporal in clear text.
    return await Client.connect(
        **connect_options(settings),
        data_converter=data_converter(settings),
        runtime=runtime,
        lazy=lazy,
    )


async def register_search_attributes(
    client: Client, namespace: str, keys: Iterable[SearchAttributeKey[Any]]
) -> list[str]:
    """Register those of `keys` (workflows.search_attributes.ALL_KEYS) that are missing;
    returns the ones added. The caller passes them: this module sits below the workflows.

    `make dev` passes them to the dev server on its command line; an external cluster (or the
    time-skipping test server) needs them registered once through the operator service.
    """
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )

    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as err:
        # The time-skipping test server can add search attributes but not list them.
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in keys
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)

"""Reaching a Temporal cluster that wants TLS and an API key (Temporal Cloud, a secured
self-hosted frontend): the settings map to `Client.connect`'s arguments, mistakes are named at
start with the variable, the key never shows, and a client connects through mutual TLS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from dibao.settings import PROJECT_ROOT, Settings, get_settings, settings_error
from dibao.temporal_client import (
    ConnectOptions,
    TemporalSettingsError,
    connect,
    connect_options,
    startup_settings,
)
from tests.conftest import TEST_CODEC_KEYS

CLUSTER = "dibao-610423.a1b2c.tmprl.cloud:7233"
SERVER_NAME = "temporal.county.test"
API_KEY = "tcak-do-not-print-me-0123456789"
VARIABLES = (
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_API_KEY",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def settings(**values: Any) -> Settings:
    # Not from .data/dev.env: a running `make dev` must not lend these tests its address.
    return Settings(_env_file=None, **values)


@dataclass(frozen=True)
class Pki:
    """A county's own CA, the frontend's certificate (for SERVER_NAME) and a worker's."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _certificate(
    directory: Path,
    name: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    usage: x509.ObjectIdentifier | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca = _certificate(tmp_path, "county-ca", None, None)
    _certificate(tmp_path, SERVER_NAME, ca, ExtendedKeyUsageOID.SERVER_AUTH)
    _certificate(tmp_path, "dibao-worker", ca, ExtendedKeyUsageOID.CLIENT_AUTH)
    return Pki(
        ca=tmp_path / "county-ca.pem",
        server_cert=tmp_path / f"{SERVER_NAME}.pem",
        server_key=tmp_path / f"{SERVER_NAME}.key",
        client_cert=tmp_path / "dibao-worker.pem",
        client_key=tmp_path / "dibao-worker.key",
    )


# --- settings → connect arguments (no network) ---------------------------------------------


def test_a_plain_cluster_gets_no_tls_and_no_key() -> None:
    options = connect_options(
        settings(temporal_address="temporal.internal:7233", temporal_namespace="dibao-610423")
    )
    assert options == ConnectOptions(
        target_host="temporal.internal:7233", namespace="dibao-610423", tls=False, api_key=None
    )
    # The dev server `make dev` starts, when no address is set.
    assert connect_options(settings()) == ConnectOptions(
        target_host="127.0.0.1:7233", namespace="default", tls=False, api_key=None
    )


def test_an_api_key_turns_tls_on_with_the_system_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", CLUSTER)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "dibao-610423.a1b2c")
    monkeypatch.setenv("TEMPORAL_API_KEY", API_KEY)
    options = connect_options(settings())
    assert options == ConnectOptions(
        target_host=CLUSTER, namespace="dibao-610423.a1b2c", tls=True, api_key=API_KEY
    )
    # TEMPORAL_TLS=false keeps it off: the key then goes to a local TLS sidecar.
    monkeypatch.setenv("TEMPORAL_TLS", "false")
    assert connect_options(settings())["tls"] is False
    monkeypatch.setenv("TEMPORAL_TLS", "true")
    monkeypatch.delenv("TEMPORAL_API_KEY")
    assert connect_options(settings()) == ConnectOptions(
        target_host=CLUSTER, namespace="dibao-610423.a1b2c", tls=True, api_key=None
    )


def test_mutual_tls_reads_the_pem_files_named_by_the_temporal_cli_variables(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "10.8.0.5:7233")
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(pki.ca))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(pki.client_cert))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(pki.client_key))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_NAME", SERVER_NAME)
    options = connect_options(settings())
    assert options["tls"] == TLSConfig(
        server_root_ca_cert=pki.ca.read_bytes(),
        client_cert=pki.client_cert.read_bytes(),
        client_private_key=pki.client_key.read_bytes(),
        domain=SERVER_NAME,
    )
    assert options["api_key"] is None
    # A server name alone: TLS against the system roots, verified for that name.
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    only_name = settings(temporal_address="10.8.0.5:7233", temporal_tls_server_name=SERVER_NAME)
    assert connect_options(only_name)["tls"] == TLSConfig(domain=SERVER_NAME)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/etc/dibao/worker.pem"},
            "TEMPORAL_TLS_CLIENT_CERT_PATH is set but TEMPORAL_TLS_CLIENT_KEY_PATH is not",
        ),
        (
            {"TEMPORAL_TLS_CLIENT_KEY_PATH": "/etc/dibao/worker.key"},
            "TEMPORAL_TLS_CLIENT_KEY_PATH is set but TEMPORAL_TLS_CLIENT_CERT_PATH is not",
        ),
        (
            {"TEMPORAL_TLS": "false", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "/etc/dibao/ca.pem"},
            "TEMPORAL_TLS is false but TEMPORAL_TLS_SERVER_CA_CERT_PATH is set",
        ),
        ({"TEMPORAL_TLS": "maybe"}, "TEMPORAL_TLS: Input should be a valid boolean"),
        (
            {"TEMPORAL_ADDRESS": "", "TEMPORAL_API_KEY": API_KEY},
            "TEMPORAL_API_KEY is set without TEMPORAL_ADDRESS",
        ),
    ],
)
def test_inconsistent_tls_settings_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", CLUSTER)
    for name, value in given.items():
        if name == "TEMPORAL_ADDRESS" and not value:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert message in settings_error(caught.value)
    assert API_KEY not in str(caught.value)
    # What a starting worker or API prints instead of a stack trace.
    with pytest.raises(SystemExit, match=f"^dibao worker: invalid settings: .*{message}"):
        startup_settings("dibao worker")


def test_a_file_that_cannot_be_read_is_named_with_its_variable(tmp_path: Path, pki: Pki) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    ca_missing = settings(temporal_address=CLUSTER, temporal_tls_ca_path=missing)
    with pytest.raises(TemporalSettingsError) as caught:
        connect_options(ca_missing)
    assert str(caught.value) == (
        f"TEMPORAL_TLS_SERVER_CA_CERT_PATH={missing} cannot be read: No such file or directory"
    )
    # The key where the certificate goes is PEM too; a DER certificate is not.
    der = tmp_path / "worker.der"
    der.write_bytes(
        x509.load_pem_x509_certificate(pki.client_cert.read_bytes()).public_bytes(
            serialization.Encoding.DER
        )
    )
    not_pem = settings(
        temporal_address=CLUSTER, temporal_tls_cert_path=der, temporal_tls_key_path=pki.client_key
    )
    with pytest.raises(TemporalSettingsError, match=f"TEMPORAL_TLS_CLIENT_CERT_PATH={der} is not"):
        connect_options(not_pem)
    if os.geteuid() != 0:  # root reads any file
        unreadable = tmp_path / "worker.key"
        unreadable.write_bytes(pki.client_key.read_bytes())
        unreadable.chmod(0)
        locked = settings(
            temporal_address=CLUSTER,
            temporal_tls_cert_path=pki.client_cert,
            temporal_tls_key_path=unreadable,
        )
        with pytest.raises(TemporalSettingsError, match="cannot be read: Permission denied"):
            connect_options(locked)


def test_the_api_key_never_shows_in_printed_settings_or_errors() -> None:
    with_key = settings(temporal_address=CLUSTER, temporal_api_key=API_KEY)
    assert API_KEY not in repr(with_key) and API_KEY not in str(with_key)
    assert API_KEY not in with_key.model_dump_json()
    with pytest.raises(ValidationError) as caught:
        settings(temporal_address=CLUSTER, temporal_api_key=API_KEY, temporal_tls="maybe")
    assert API_KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("process", "command"),
    [
        ("dibao worker", ["-m", "worker"]),
        ("dibao api", ["-m", "uvicorn", "--factory", "api.app:app_factory", "--port", "9"]),
    ],
)
def test_a_process_with_an_unreadable_certificate_stops_at_start_with_one_line(
    tmp_path: Path, pki: Pki, process: str, command: list[str]
) -> None:
    missing = tmp_path / "gone.pem"
    env = {
        **{k: v for k, v in os.environ.items() if k not in VARIABLES},
        "PYTHONPATH": str(PROJECT_ROOT),
        "DIBAO_DATA_DIR": str(tmp_path),
        "TEMPORAL_ADDRESS": CLUSTER,
        "TEMPORAL_API_KEY": API_KEY,
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(missing),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_key),
        "DIBAO_CODEC_KEYS": TEST_CODEC_KEYS,
    }
    done = subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,  # not the project: no .data/dev.env of a running `make dev`
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done
    assert done.stderr.strip().splitlines()[-1] == (
        f"{process}: TEMPORAL_TLS_CLIENT_CERT_PATH={missing} cannot be read: "
        "No such file or directory"
    )
    assert "Traceback" not in done.stderr and API_KEY not in done.stderr + done.stdout


def test_a_cli_command_with_half_an_mtls_pair_names_the_missing_variable(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in VARIABLES},
        "PYTHONPATH": str(PROJECT_ROOT),
        "TEMPORAL_ADDRESS": CLUSTER,
        "TEMPORAL_TLS_CLIENT_CERT_PATH": "/etc/dibao/worker.pem",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "temporal", "setup"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert done.stderr.strip() == (
        "error: invalid settings: TEMPORAL_TLS_CLIENT_CERT_PATH is set but "
        "TEMPORAL_TLS_CLIENT_KEY_PATH is not: mTLS needs both"
    )


# --- through mutual TLS to a real Temporal server ------------------------------------------


@contextlib.asynccontextmanager
async def tls_frontend(pki: Pki, upstream: str) -> AsyncIterator[tuple[str, list[str]]]:
    """A TLS-terminating frontend in front of the test's Temporal server, as a secured
    cluster's load balancer is: it requires a client certificate issued by the county's CA
    and speaks HTTP/2 (gRPC). Yields its address and the subjects of the clients it let in."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = upstream.rsplit(":", 1)
    admitted: list[str] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        admitted.append(dict(pair[0] for pair in peer["subject"])["commonName"])
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield address, admitted
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)


async def test_a_client_connects_through_mutual_tls_with_the_server_name_and_api_key(
    dev_env: WorkflowEnvironment, pki: Pki
) -> None:
    upstream = dev_env.client.service_client.config.target_host
    async with tls_frontend(pki, upstream) as (address, admitted):
        secured = settings(
            temporal_address=address,
            temporal_namespace=dev_env.client.namespace,
            temporal_tls_ca_path=pki.ca,
            temporal_tls_cert_path=pki.client_cert,
            temporal_tls_key_path=pki.client_key,
            # The frontend's certificate names the cluster, not 127.0.0.1.
            temporal_tls_server_name=SERVER_NAME,
            temporal_api_key=API_KEY,
            codec_keys=TEST_CODEC_KEYS,
        )
        client = await connect(secured)
        assert client.service_client.config.api_key == API_KEY
        assert await client.count_workflows("WorkflowType = 'no-such-type'") is not None
        assert admitted and set(admitted) == {"dibao-worker"}
        # Without the worker's certificate the frontend lets nothing in.
        anonymous = secured.model_copy(
            update={"temporal_tls_cert_path": None, "temporal_tls_key_path": None}
        )
        with pytest.raises(RuntimeError, match="Failed client connect"):
            await connect(anonymous)
        assert set(admitted) == {"dibao-worker"}

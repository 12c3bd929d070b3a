"""The one place settings are read. Everything else receives a `Settings` object."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_ENV_FILE = PROJECT_ROOT / ".data" / "dev.env"


class Settings(BaseSettings):
    # While `make dev` runs it writes where its PostgreSQL and Temporal are to .data/dev.env, so
    # commands in another terminal (dibao registry/calendar/rulepack) find them; variables set
    # in the environment still win.
    model_config = SettingsConfigDict(
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        env_file=DEV_ENV_FILE,
        # A rejected value is not echoed back: it may be a codec key or a database password.
        hide_input_in_errors=True,
    )

    # External mode is chosen by setting these; when unset, `make dev` starts embedded services.
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE")
    )
    # A cluster that wants TLS (Temporal Cloud, a secured self-hosted frontend). The variables
    # are the `temporal` CLI's own, so one environment serves it and dibao. TEMPORAL_TLS unset
    # means on when any of the others is set (an API key included), as the SDK does; files are
    # PEM, read when connecting (dibao.temporal_client.connect_options).
    temporal_tls: bool | None = Field(default=None, validation_alias="TEMPORAL_TLS")
    temporal_tls_ca_path: Path | None = Field(
        default=None, validation_alias="TEMPORAL_TLS_SERVER_CA_CERT_PATH"
    )
    temporal_tls_cert_path: Path | None = Field(
        default=None, validation_alias="TEMPORAL_TLS_CLIENT_CERT_PATH"
    )
    temporal_tls_key_path: Path | None = Field(
        default=None, validation_alias="TEMPORAL_TLS_CLIENT_KEY_PATH"
    )
    temporal_tls_server_name: str | None = Field(
        default=None, min_length=1, validation_alias="TEMPORAL_TLS_SERVER_NAME"
    )
    # Sent as "Authorization: Bearer …" on every call; secret so printing settings hides it.
    temporal_api_key: SecretStr | None = Field(default=None, validation_alias="TEMPORAL_API_KEY")
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))

    task_queue: str = Field(default="dibao-cases", validation_alias="DIBAO_TASK_QUEUE")
    data_dir: Path = Field(default=PROJECT_ROOT / ".data", validation_alias="DIBAO_DATA_DIR")
    templates_dir: Path = Field(
        default=PROJECT_ROOT / "templates", validation_alias="DIBAO_TEMPLATES_DIR"
    )
    api_host: str = Field(default="127.0.0.1", validation_alias="DIBAO_API_HOST")
    api_port: int = Field(default=8000, validation_alias="DIBAO_API_PORT")
    temporal_port: int = Field(default=7233, validation_alias="DIBAO_TEMPORAL_PORT")
    temporal_ui_port: int = Field(default=8233, validation_alias="DIBAO_TEMPORAL_UI_PORT")
    # Where ops open a case in the Temporal Web UI (the console's 运维 page links to it).
    # Unset means the local dev UI at http://127.0.0.1:{temporal_ui_port}.
    temporal_ui_url: str | None = Field(default=None, validation_alias="DIBAO_TEMPORAL_UI_URL")
    api_url: str = Field(default="http://127.0.0.1:8000", validation_alias="DIBAO_API_URL")
    default_rule_pack: str = Field(default="seed-default", validation_alias="DIBAO_RULE_PACK")
    complaint_phone: str = Field(default="12345", validation_alias="DIBAO_COMPLAINT_PHONE")
    # How long a bearer token from POST /auth/token (and `dibao login`) lasts: one working day
    # and its overtime, so a token left on a shared office PC dies overnight.
    token_lifetime_hours: float = Field(
        default=12, gt=0, le=24 * 30, validation_alias="DIBAO_TOKEN_LIFETIME_HOURS"
    )
    # Wrong passwords in a row that lock a user, and for how many minutes (`dibao users enable`
    # lifts it early).
    sign_in_attempts: int = Field(
        default=5, ge=1, le=100, validation_alias="DIBAO_SIGN_IN_ATTEMPTS"
    )
    sign_in_lockout_minutes: float = Field(
        default=15, ge=0, le=24 * 60, validation_alias="DIBAO_SIGN_IN_LOCKOUT_MINUTES"
    )
    # The CLI's bearer token when set; otherwise the one `dibao login` saved (cli_token_file).
    cli_token: SecretStr | None = Field(default=None, validation_alias="DIBAO_TOKEN")
    # Seed of the county spot-check draw; recorded with every draw so it can be re-checked.
    # Keep it secret per office, or caseworkers could tell in advance which cases are drawn.
    spot_check_seed: str = Field(
        default="dibao-spot-check", validation_alias="DIBAO_SPOT_CHECK_SEED"
    )
    # How long an action waits for a worker to take it up before the API answers 202 (queued):
    # Temporal keeps the action and applies it once a worker is back.
    update_accept_seconds: float = Field(
        default=5.0, gt=0, le=60, validation_alias="DIBAO_UPDATE_ACCEPT_SECONDS"
    )
    max_body_bytes: int = Field(default=256 * 1024, validation_alias="DIBAO_MAX_BODY_BYTES")
    # How often a worker re-reads the failure drills (`dibao ops drill`); tests use 0.
    drill_poll_seconds: float = Field(
        default=2.0, ge=0, validation_alias="DIBAO_DRILL_POLL_SECONDS"
    )
    # Prometheus: the worker serves the SDK's metrics and its own activity metrics on these
    # ports (0: off). The API serves case metrics at /metrics.
    sdk_metrics_port: int = Field(default=9464, ge=0, validation_alias="DIBAO_SDK_METRICS_PORT")
    worker_metrics_port: int = Field(
        default=9465, ge=0, validation_alias="DIBAO_WORKER_METRICS_PORT"
    )
    # The address both metrics ports listen on: loopback, so a scraper on the same machine
    # (or a proxy) reads them; 0.0.0.0 opens them to the network for a remote Prometheus.
    metrics_host: str = Field(default="127.0.0.1", validation_alias="DIBAO_METRICS_HOST")
    # Logs of the worker and the API: one JSON object per line (carrying the case ID), or text.
    log_format: str = Field(
        default="json", pattern="^(json|text)$", validation_alias="DIBAO_LOG_FORMAT"
    )
    # Keys of the Temporal payload codec (dibao.codec): "id:base64key[,id:base64key...]", the
    # first encrypts, all decrypt. Secret so that printing the settings never shows them.
    codec_keys: SecretStr | None = Field(default=None, validation_alias="DIBAO_CODEC_KEYS")
    # Whether payloads that reach Temporal unencrypted are read (dibao.codec). Off: an update
    # or signal sent to Temporal without the codec is refused. On only while workflows started
    # before encryption still run (their histories hold clear payloads).
    codec_accept_plaintext: bool = Field(
        default=False, validation_alias="DIBAO_CODEC_ACCEPT_PLAINTEXT"
    )
    # Browser origins (comma-separated) allowed to call /codec: the Temporal Web UI decoding
    # payloads. Unset means the local dev UI at http://127.0.0.1:{temporal_ui_port}.
    codec_cors_origins: str | None = Field(
        default=None, validation_alias="DIBAO_CODEC_CORS_ORIGINS"
    )
    # Batches over a county's recipients (standard changes): cases in flight at once, cases
    # read per page, and cases per workflow run before it continues as new (its history stays
    # near 3.5 events per case of a run: 2,000 cases keep it under 8,000 events).
    batch_concurrency: int = Field(
        default=20, ge=1, le=500, validation_alias="DIBAO_BATCH_CONCURRENCY"
    )
    batch_page_size: int = Field(
        default=500, ge=1, le=5000, validation_alias="DIBAO_BATCH_PAGE_SIZE"
    )
    batch_cases_per_run: int = Field(
        default=2000, ge=1, le=10_000, validation_alias="DIBAO_BATCH_CASES_PER_RUN"
    )
    # A ledger import (台账导入) starts its cases' workflows at most this many a second, with
    # at most so many start calls in flight: each start is a first workflow task for the
    # workers, which must keep up with it and still answer the cases people are working on.
    ledger_import_rate: float = Field(
        default=25.0, gt=0, le=1000, validation_alias="DIBAO_LEDGER_IMPORT_RATE"
    )
    ledger_import_concurrency: int = Field(
        default=8, ge=1, le=200, validation_alias="DIBAO_LEDGER_IMPORT_CONCURRENCY"
    )
    # Households one activity of the import's workflow starts (at 25 a second, 20 s of work;
    # a worker lost meanwhile costs at most this page again, each start keyed).
    ledger_import_page_size: int = Field(
        default=500, ge=1, le=10_000, validation_alias="DIBAO_LEDGER_IMPORT_PAGE_SIZE"
    )
    # Workflows a worker keeps in memory between tasks. An uncached recipient case replays its
    # history first (bench/uncached_case.py: ~40-60 ms CPU, its history bounded per review
    # cycle); a cached one costs ~220 KB. 10,000 keeps half of a 20,000-case county warm on
    # each of two workers in ~2.2 GB; see docs/deploy.md.
    max_cached_workflows: int = Field(
        default=10_000, ge=0, validation_alias="DIBAO_MAX_CACHED_WORKFLOWS"
    )
    # How long a case's next task waits on the worker that holds it cached before any worker
    # may take it (and replay it): short enough that a worker that is gone costs little.
    sticky_queue_timeout_seconds: float = Field(
        default=10.0, gt=0, le=600, validation_alias="DIBAO_STICKY_QUEUE_TIMEOUT_SECONDS"
    )
    # Tasks one worker runs at once. Workflow tasks are CPU (a replay is ~0.1 s of it); most
    # activities wait on PostgreSQL, so more of them than the engine's pool (10 + 10 overflow)
    # only queue for a connection. Workflow tasks share one Python interpreter: a query for a
    # case page waits behind every task taken, so a worker taking many new workflows' first
    # tasks at once (a ledger import) answers it late (bench/import.py: fewer answer sooner).
    max_concurrent_workflow_tasks: int = Field(
        default=100, ge=1, le=2000, validation_alias="DIBAO_MAX_CONCURRENT_WORKFLOW_TASKS"
    )
    max_concurrent_activities: int = Field(
        default=100, ge=1, le=2000, validation_alias="DIBAO_MAX_CONCURRENT_ACTIVITIES"
    )

    @field_validator("codec_keys")
    @classmethod
    def _codec_keys_well_formed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from dibao.codec import parse_keys  # imports cryptography; only when keys are set

            parse_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _temporal_tls_consistent(self) -> Settings:
        cert, key = self.temporal_tls_cert_path, self.temporal_tls_key_path
        if (cert is None) != (key is None):
            given, missing = (
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH")
                if key is None
                else ("TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_CERT_PATH")
            )
            raise ValueError(f"{given} is set but {missing} is not: mTLS needs both")
        named = [name for name, value in self._temporal_tls_options() if value is not None]
        if self.temporal_tls is False and named:  # an API key alone may go to a local TLS proxy
            raise ValueError(f"TEMPORAL_TLS is false but {', '.join(named)} is set")
        if self.temporal_api_key is not None:
            named.append("TEMPORAL_API_KEY")
        if self.temporal_address is None and named:
            # Without an address dibao talks to the dev server `make dev` starts, in plain gRPC.
            raise ValueError(
                f"{', '.join(named)} is set without TEMPORAL_ADDRESS (the cluster it is for)"
            )
        return self

    def _temporal_tls_options(self) -> list[tuple[str, object]]:
        return [
            ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", self.temporal_tls_ca_path),
            ("TEMPORAL_TLS_CLIENT_CERT_PATH", self.temporal_tls_cert_path),
            ("TEMPORAL_TLS_CLIENT_KEY_PATH", self.temporal_tls_key_path),
            ("TEMPORAL_TLS_SERVER_NAME", self.temporal_tls_server_name),
        ]

    @property
    def temporal_uses_tls(self) -> bool:
        if self.temporal_tls is not None:
            return self.temporal_tls
        return self.temporal_api_key is not None or any(
            value is not None for _, value in self._temporal_tls_options()
        )

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL as SQLAlchemy wants it: always the psycopg 3 driver."""
        if self.database_url is None:
            raise RuntimeError("DATABASE_URL is not set and no embedded PostgreSQL was started")
        return to_sqlalchemy_url(self.database_url)

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def temporal_ui_workflow(self, workflow_id: str) -> str:
        """The Web UI's page of a workflow (a case's ID is its workflow ID)."""
        base = (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")
        namespace = quote(self.temporal_namespace, safe="")
        return f"{base}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"

    @property
    def token_lifetime(self) -> timedelta:
        return timedelta(hours=self.token_lifetime_hours)

    @property
    def sign_in_lockout(self) -> timedelta:
        return timedelta(minutes=self.sign_in_lockout_minutes)

    @property
    def cli_token_file(self) -> Path:
        return self.data_dir / "cli-token"

    @property
    def codec_origins(self) -> list[str]:
        if self.codec_cors_origins is not None:
            return [o.strip() for o in self.codec_cors_origins.split(",") if o.strip()]
        port = self.temporal_ui_port
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def to_sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def settings_error(err: ValidationError) -> str:
    """A rejected environment as one line per variable (never its value), for a process that
    stops at start instead of printing a stack trace."""
    problems = []
    for error in err.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "invalid settings: " + "; ".join(problems)

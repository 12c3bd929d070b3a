"""The one place settings are read. Everything else receives a `Settings` object."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
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
    )

    # External mode is chosen by setting these; when unset, `make dev` starts embedded services.
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE")
    )
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
    api_url: str = Field(default="http://127.0.0.1:8000", validation_alias="DIBAO_API_URL")
    default_rule_pack: str = Field(default="seed-default", validation_alias="DIBAO_RULE_PACK")
    complaint_phone: str = Field(default="12345", validation_alias="DIBAO_COMPLAINT_PHONE")
    # Who the CLI says is acting, until authentication replaces it (issue 6).
    cli_actor: str = Field(default="cli-user", validation_alias="DIBAO_ACTOR")
    cli_role: str = Field(default="village_caseworker", validation_alias="DIBAO_ROLE")
    # Seed of the county spot-check draw; recorded with every draw so it can be re-checked.
    # Keep it secret per office, or caseworkers could tell in advance which cases are drawn.
    spot_check_seed: str = Field(
        default="dibao-spot-check", validation_alias="DIBAO_SPOT_CHECK_SEED"
    )
    max_body_bytes: int = Field(default=256 * 1024, validation_alias="DIBAO_MAX_BODY_BYTES")

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL as SQLAlchemy wants it: always the psycopg 3 driver."""
        if self.database_url is None:
            raise RuntimeError("DATABASE_URL is not set and no embedded PostgreSQL was started")
        return to_sqlalchemy_url(self.database_url)

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"


def to_sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

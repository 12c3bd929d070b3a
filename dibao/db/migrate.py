"""Apply Alembic migrations from code (used by `make dev`, `dibao db upgrade` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from dibao.settings import PROJECT_ROOT, to_sqlalchemy_url


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolation would choke on '%' in a password.
    config.set_main_option("sqlalchemy.url", to_sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)

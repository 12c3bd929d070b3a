"""The console's browser sessions and the names of places (行政区划)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class ConsoleSessionRow(Base):
    """A signed-in browser. Only the cookie's SHA-256 is kept; a session ends when revoked
    (signed out), when idle too long (last_seen_at) or at its absolute expiry."""

    __tablename__ = "console_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.user_id", ondelete="RESTRICT"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="ck_console_sessions_sha256"),
        CheckConstraint("expires_at > issued_at", name="ck_console_sessions_lifetime"),
        CheckConstraint("last_seen_at >= issued_at", name="ck_console_sessions_seen"),
    )


class RegionRow(Base):
    """A county (6 digits), township (9) or village (12) and its name; the parent is the code
    one level up, which the database checks."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("regions.code", ondelete="RESTRICT"), index=True
    )

    __table_args__ = (
        CheckConstraint("code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})$'", name="ck_regions_code"),
        CheckConstraint(
            "(level = 'county' AND length(code) = 6 AND parent_code IS NULL)"
            " OR (level = 'township' AND length(code) = 9 AND parent_code = left(code, 6))"
            " OR (level = 'village' AND length(code) = 12 AND parent_code = left(code, 9))",
            name="ck_regions_level_parent",
        ),
        CheckConstraint("length(name) > 0", name="ck_regions_name"),
    )

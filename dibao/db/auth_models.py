"""Users and their bearer tokens. The rules on a user's role and jurisdiction are CHECK
constraints as well, so a row written around the application is held to them too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base

# Kept in step with dibao.domain.access (USER_ID_PATTERN, PEOPLE, ROLE_LEVELS); the migration
# creates the same constraints.
USER_ID_CHECK = "user_id ~ '^[a-z0-9][a-z0-9._-]{1,63}$'"
ROLE_CHECK = (
    "role IN ('village_caseworker', 'township_caseworker', 'county_approver', 'supervisor', "
    "'auditor', 'ops', 'user_admin')"
)
JURISDICTION_CHECK = "jurisdiction_code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})$'"
ROLE_LEVEL_CHECK = (
    "(role = 'village_caseworker' AND length(jurisdiction_code) = 12)"
    " OR (role = 'township_caseworker' AND length(jurisdiction_code) = 9)"
    " OR (role IN ('county_approver', 'ops', 'user_admin') AND length(jurisdiction_code) = 6)"
    " OR (role IN ('supervisor', 'auditor') AND length(jurisdiction_code) IN (6, 9))"
)


class UserRow(Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    jurisdiction_code: Mapped[str] = mapped_column(String(12))
    # argon2id, with its parameters and salt in the string (PHC format).
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Set with a one-time password (migration 0031): the user chooses their own first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(USER_ID_CHECK, name="ck_users_user_id"),
        CheckConstraint(ROLE_CHECK, name="ck_users_role"),
        CheckConstraint(JURISDICTION_CHECK, name="ck_users_jurisdiction"),
        CheckConstraint(ROLE_LEVEL_CHECK, name="ck_users_role_level"),
        CheckConstraint("length(display_name) > 0", name="ck_users_display_name"),
        CheckConstraint("password_hash LIKE '$argon2id$%'", name="ck_users_password_hash"),
    )


class SignInFailureRow(Base):
    """Wrong passwords in a row for one user from one source (the client's address); at the
    limit the user is locked until `locked_until` from that source only, so that whoever knows
    a user ID cannot lock its owner out from the owner's own office."""

    __tablename__ = "sign_in_failures"

    user_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("failed_sign_ins >= 0", name="ck_sign_in_failures_count"),
        CheckConstraint("length(source) > 0", name="ck_sign_in_failures_source"),
    )


class ApiTokenRow(Base):
    """An issued bearer token. Only its SHA-256 is kept: a copy of this table signs no one in."""

    __tablename__ = "api_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.user_id", ondelete="RESTRICT"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="ck_api_tokens_sha256"),
        CheckConstraint("expires_at > issued_at", name="ck_api_tokens_lifetime"),
        CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= issued_at", name="ck_api_tokens_revoked"
        ),
    )


class UserAuditRow(Base):
    """Who did what to whose account (migration 0031): append-only, a trigger refuses UPDATE
    and DELETE. `detail` says what changed, never a password or its hash."""

    __tablename__ = "user_audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.user_id", ondelete="RESTRICT")
    )
    detail: Mapped[dict[str, object]] = mapped_column(JSONB)
    request_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("actor_id", "request_id", name="uq_user_audit_request"),
        Index("ix_user_audit_subject", "subject_id", "id"),
    )

"""Policy data the office maintains: the holiday table for years the official calendar does not
cover, and rule packs as versioned data with the pack each county uses.

These share `Base` with the case tables so one metadata describes the whole schema; the tables
are created by migration 0003.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class CalendarYearRow(Base):
    """A year whose official holiday arrangement the office has entered in `calendar_days`.

    Only a listed year is trusted: for an unlisted year beyond the official calendar, deadlines
    fall back to weekends only and carry a warning, even if some of its days have rows.
    """

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, server_default=text("''"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CalendarDayRow(Base):
    """One day that differs from Mon–Fri working (a holiday, a make-up working day), or a
    correction of the official calendar for a year it covers."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, server_default=text("''"))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class RulePackRow(Base):
    """One version of a rule pack. Versions are never changed once written: a case pins
    (id, version), so its rules must stay readable exactly as they were."""

    __tablename__ = "rule_packs"

    # String(40) like cases.rule_pack_id: a longer id could not be pinned by a case.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint("version >= 1", name="ck_rule_packs_version"),
        CheckConstraint("id ~ '^[a-z0-9][a-z0-9-]*$'", name="ck_rule_packs_id"),
        # The parameters carry their own id and version (RulePack.to_params); they must agree
        # with the key, or a case could pin one version and run another.
        CheckConstraint(
            "params->>'id' = id AND params->>'version' = version::text "
            "AND params->>'title' = title",
            name="ck_rule_packs_params_match",
        ),
    )


class CountyRulePackRow(Base):
    """The pack a county's new cases use, always at that pack's latest version."""

    __tablename__ = "county_rule_packs"

    county_code: Mapped[str] = mapped_column(CHAR(6), primary_key=True)
    # No foreign key: rule_packs is keyed by (id, version). Packs are never deleted, so the
    # repository's existence check cannot be undone by a concurrent change.
    pack_id: Mapped[str] = mapped_column(String(40))
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("county_code ~ '^[0-9]{6}$'", name="ck_county_rule_packs_code"),
    )


class CountyStandardRow(Base):
    """A county's standard for one area type from a month on (migration 0016). Append-only:
    the standard in force for a month is the latest row that took effect by then."""

    __tablename__ = "county_standards"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(CHAR(6))  # "000000": every county without its own
    area_type: Mapped[str] = mapped_column(String(10))
    from_month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # urban per month, rural per year
    source: Mapped[str] = mapped_column(String(100))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("county_code", "area_type", "source", name="uq_county_standards_source"),
        CheckConstraint("county_code ~ '^[0-9]{6}$'", name="ck_county_standards_county"),
        CheckConstraint("area_type IN ('urban', 'rural')", name="ck_county_standards_area"),
        CheckConstraint(
            "from_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' AND from_month >= '2000-01'",
            name="ck_county_standards_from_month",
        ),
        CheckConstraint("amount_fen > 0", name="ck_county_standards_amount"),
    )

"""Tables of the application procedure: postings, objections, spot checks, certificates,
entitlements and the near-relative registry (近亲属备案)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class PostingRow(Base):
    """One public posting (公示) of one case. Holds only what may be posted (DOMAIN.md step 5)."""

    __tablename__ = "postings"

    posting_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    step_key: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(40))
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(9))
    head_name: Mapped[str] = mapped_column(String(50))
    household_size: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(10))
    monthly_amount_fen: Mapped[int] = mapped_column(BigInteger)
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("case_id", "step_key", name="uq_postings_case_step"),
        # A village's open postings in the board's order, by key (migration 0033).
        Index(
            "ix_postings_open_village",
            "village_code",
            "stage",
            "opens_at",
            "posting_id",
            postgresql_where=text("outcome = 'open'"),
        ),
    )


class ObjectionRow(Base):
    """An objection during a posting. The objector's identity and contact live only here."""

    __tablename__ = "objections"

    objection_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    summary: Mapped[str] = mapped_column(Text)
    objector_name: Mapped[str] = mapped_column(String(50))
    objector_contact: Mapped[str] = mapped_column(String(100))
    received_by: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class SpotCheckRow(Base):
    __tablename__ = "spot_checks"

    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(100))
    draw: Mapped[float] = mapped_column(Float)
    share: Mapped[float] = mapped_column(Float)
    selected: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CertificateRow(Base):
    """低保证: one per approved case, numbered per county and year without gaps."""

    __tablename__ = "certificates"

    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"), primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(30), unique=True)
    county_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("county_code", "year", "seq", name="uq_certificates_seq"),)


class EntitlementRow(Base):
    """An entitlement change (from which month, how much): appended, never updated in place."""

    __tablename__ = "entitlement_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    step_key: Mapped[str] = mapped_column(String(100))
    certificate_no: Mapped[str] = mapped_column(String(30))
    effective_month: Mapped[str] = mapped_column(String(7))
    monthly_amount_fen: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    change_kind: Mapped[str] = mapped_column(String(20), server_default="start")
    # Members the amount is for; NULL on rows written before it was recorded.
    paid_members: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("case_id", "step_key", name="uq_entitlements_case_step"),)


class StaffRelativeRow(Base):
    """近亲属备案: a staff member or village cadre and one registered close relative."""

    __tablename__ = "staff_relatives"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(String(100), index=True)
    staff_role: Mapped[str] = mapped_column(String(40))
    relative_name: Mapped[str] = mapped_column(String(50))
    relative_id_number: Mapped[str] = mapped_column(String(18), index=True)
    relation: Mapped[str] = mapped_column(String(40))
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Whose registry this is (dibao.domain.access.registry_jurisdiction): the staff member's
    # jurisdiction, or for one without an account the registrant's county.
    jurisdiction_code: Mapped[str] = mapped_column(String(12), server_default="")

    __table_args__ = (
        UniqueConstraint(
            "staff_id", "relative_id_number", "jurisdiction_code", name="uq_staff_relative"
        ),
        CheckConstraint(
            "jurisdiction_code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})?$'",
            name="ck_staff_relatives_jurisdiction",
        ),
    )


class RecipientSpotCheckRow(Base):
    """The yearly draw of recipients for home visits; drawn once per county and year."""

    __tablename__ = "recipient_spot_checks"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"), primary_key=True)
    seed: Mapped[str] = mapped_column(String(100))
    draw: Mapped[float] = mapped_column(Float)
    selected: Mapped[bool] = mapped_column(Boolean)
    drawn_by: Mapped[str] = mapped_column(String(100))
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PayeeAccountRow(Base):
    """An account the household's benefit is paid into, as recorded after filing (the one
    given at filing is in the application). Appended, never changed: the newest row is the
    account the payroll uses, and the older ones say where earlier payments went."""

    __tablename__ = "payee_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    step_key: Mapped[str] = mapped_column(String(100))
    account_holder: Mapped[str] = mapped_column(String(50))
    bank: Mapped[str] = mapped_column(String(100))
    account_no: Mapped[str] = mapped_column(String(30))
    # 代领人: the holder is no member of the household; the reason is shown on the roster.
    agent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    agent_reason: Mapped[str] = mapped_column(Text, server_default=text("''"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("case_id", "step_key", name="uq_payee_accounts_case_step"),)

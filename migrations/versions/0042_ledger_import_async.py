"""ledger imports checked and written in the background: status, the file, each household as
parsed

An upload of tens of thousands of households was checked and written inside the HTTP request
(about a minute at 20,000). The request now only stores the file under its import (a row of
ledger_import_files, apart from the listing's rows so that listing imports reads no file) and
answers 202; a Temporal workflow checks it (status `checking`), then either keeps the errors
(`errors`, nothing written) or writes the households (`importing`, their workflows started page
by page from each household as parsed, ledger_import_households.household) and ends `done`.

Existing imports: `done` when finished, else `importing` (their households' parsed form is
filled in from the file when the same file is uploaded again to resume them).

Revision ID: 0042
Revises: 0040
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0042"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ledger_imports",
        sa.Column("status", sa.String(10), nullable=False, server_default="importing"),
    )
    op.add_column(
        "ledger_imports",
        sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    )
    op.execute("UPDATE ledger_imports SET status = 'done' WHERE finished_at IS NOT NULL")
    op.alter_column("ledger_imports", "status", server_default=None)
    op.create_check_constraint(
        "ck_ledger_imports_status",
        "ledger_imports",
        "status IN ('checking', 'errors', 'importing', 'done')",
    )
    # The county's past imports, newest first, a page at a time by key.
    op.create_index(
        "ix_ledger_imports_county_started",
        "ledger_imports",
        ["county_code", sa.text("started_at DESC"), sa.text("import_id DESC")],
    )
    op.create_table(
        "ledger_import_files",
        sa.Column(
            "import_id", sa.String(40), sa.ForeignKey("ledger_imports.import_id"), primary_key=True
        ),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("errors", JSONB, nullable=True),
    )
    op.add_column("ledger_import_households", sa.Column("household", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("ledger_import_households", "household")
    op.drop_table("ledger_import_files")
    op.drop_index("ix_ledger_imports_county_started", table_name="ledger_imports")
    op.drop_constraint("ck_ledger_imports_status", "ledger_imports")
    op.drop_column("ledger_imports", "error_count")
    op.drop_column("ledger_imports", "status")

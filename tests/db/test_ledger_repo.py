"""Which people of a ledger already are in an open case: heads and every other member."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from dibao.db import ledger_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.enums import Role
from dibao.domain.ledger import check_ledger, file_sha256
from dibao.messages.case import Actor
from dibao.settings import Settings
from tests.golive import ledger_rows


async def test_members_of_open_cases_are_found_by_any_id_number(database_url: str) -> None:
    rows = ledger_rows(3)
    households = check_ledger(rows, "610423", datetime.now(UTC).date()).households
    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            await ledger_repo.write_import(
                session,
                file_sha=file_sha256(b"seed"),
                file_name="seed.csv",
                county_code="610423",
                households=households,
                rule_pack_id="seed-default",
                rule_pack_version=1,
                actor=Actor("chen.gang", Role.COUNTY_APPROVER, "610423"),
                at=datetime.now(UTC),
            )
            # LD000002's case is closed: its members may be imported again.
            await session.execute(
                text(
                    "UPDATE cases SET closed_at = now() WHERE case_id = "
                    "(SELECT case_id FROM entitlement_changes WHERE certificate_no = 'LD000002')"
                )
            )
            await session.commit()
            head, child = rows[0]["id_number"], rows[3]["id_number"]
            found = await ledger_repo.in_open_cases(
                session,
                [head.lower(), child, rows[4]["id_number"], rows[5]["id_number"], "X" * 18],
            )
            assert found == frozenset({head, child})
            assert await ledger_repo.in_open_cases(session, []) == frozenset()
    finally:
        await engine.dispose()

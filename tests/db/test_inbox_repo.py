"""The inbox pages by key: every waiting case once, soonest due first, undated last."""

from __future__ import annotations

import psycopg
import pytest

from dibao.db import inbox_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.enums import Role
from dibao.settings import Settings


def seed_cases(database_url: str) -> None:
    """130 open cases of one village: 60 at survey and 60 at evaluation wait for its
    caseworker, 10 for the county approver."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """
            INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id,
                rule_pack_version, area_type, province_code, county_code, township_code,
                village_code, stage_entered_at, due_at, filed_at, waiting_role)
            SELECT 'DB-T' || lpad(i::text, 11, '0'), left(md5(i::text), 18),
                CASE WHEN i % 2 = 0 THEN 'survey' ELSE 'evaluation' END, 'in_progress',
                'seed-default', 1, 'rural', '61', '610423', '610423100', '610423100201',
                now(), CASE WHEN i % 5 = 0 THEN NULL ELSE now() + (i % 7) * interval '1 day' END,
                now(), CASE WHEN i <= 120 THEN 'village_caseworker' ELSE 'county_approver' END
            FROM generate_series(1, 130) AS i
            """
        )
        conn.execute(
            """
            INSERT INTO applications (case_id, payload, request_sha256, filed_by, filed_role)
            SELECT case_id, jsonb_build_object('members', jsonb_build_array(
                    jsonb_build_object('name', '成员', 'relation', 'child'),
                    jsonb_build_object('name', '户主' || case_id, 'relation', 'head'))),
                md5(case_id) || md5(case_id), 'zhang.wei', 'village_caseworker'
            FROM cases
            """
        )


async def test_pages_by_key_cover_every_case_once_in_due_order(database_url: str) -> None:
    seed_cases(database_url)
    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    seen: list[inbox_repo.InboxRow] = []
    after = None
    try:
        async with make_sessionmaker(engine)() as session:
            while True:
                page = await inbox_repo.inbox(
                    session, "zhang.wei", Role.VILLAGE_CASEWORKER, "610423100201", after=after
                )
                seen.extend(page.rows)
                if page.next_key is None:
                    break
                after = page.next_key
    finally:
        await engine.dispose()
    assert page.counts == {"survey": 60, "evaluation": 60}
    assert len(seen) == 120 and len({r.case_id for r in seen}) == 120
    dated = [r.due_at for r in seen if r.due_at is not None]
    assert dated == sorted(dated)
    assert all(r.due_at is None for r in seen[len(dated) :])  # undated cases last
    assert all(r.head_name == "户主" + r.case_id for r in seen)  # the head, not members[0]


async def test_counts_per_stage_stop_at_the_cap_and_say_so(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cap is 1,000 in production; 50 here, so a stage of 60 cases reads "50+".
    monkeypatch.setattr(inbox_repo, "COUNT_CAP", 50)
    seed_cases(database_url)
    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    try:
        async with make_sessionmaker(engine)() as session:
            mine = await inbox_repo.inbox(
                session, "zhang.wei", Role.VILLAGE_CASEWORKER, "610423100201"
            )
            county = await inbox_repo.inbox(session, "chen.gang", Role.COUNTY_APPROVER, "610423")
    finally:
        await engine.dispose()
    assert mine.counts == {"survey": 50, "evaluation": 50}
    assert mine.capped == {"survey", "evaluation"}
    assert county.counts == {"survey": 5, "evaluation": 5} and not county.capped

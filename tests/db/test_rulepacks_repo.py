"""Rule packs as versioned data in PostgreSQL, and the pack each county uses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import rulepacks_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.enums import Stage
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT
from dibao.settings import Settings


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(Settings(database_url=database_url))
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def test_built_in_packs_are_present_after_migration(session: AsyncSession) -> None:
    rows = await rulepacks_repo.list_packs(session)
    assert [(r.id, r.version) for r in rows] == [
        ("mca-2021", 1),
        ("seed-default", 1),
        ("training-seed-default", 1),
    ]
    assert await rulepacks_repo.get_pack(session, "seed-default", 1) == SEED_DEFAULT
    assert await rulepacks_repo.get_pack(session, "mca-2021", 1) == MCA_2021
    assert await rulepacks_repo.latest_pack(session, "mca-2021") == MCA_2021
    assert rows[0].created_by == "system"
    assert rows[0].title == MCA_2021.title


async def test_unknown_pack_or_version(session: AsyncSession) -> None:
    with pytest.raises(rulepacks_repo.UnknownRulePack):
        await rulepacks_repo.latest_pack(session, "no-such-pack")
    with pytest.raises(rulepacks_repo.UnknownRulePack):
        await rulepacks_repo.get_pack(session, "seed-default", 2)


async def test_county_without_assignment_uses_the_default(session: AsyncSession) -> None:
    assert await rulepacks_repo.county_assignment(session, "610423") is None
    assert await rulepacks_repo.pack_for_county(session, "610423", "seed-default") == SEED_DEFAULT


async def test_county_assignment(session: AsyncSession) -> None:
    row = await rulepacks_repo.assign_county(session, "610423", "mca-2021", "li.na")
    assert (row.county_code, row.pack_id, row.assigned_by) == ("610423", "mca-2021", "li.na")
    assert await rulepacks_repo.pack_for_county(session, "610423", "seed-default") == MCA_2021
    # Other counties keep the default.
    assert await rulepacks_repo.pack_for_county(session, "610424", "seed-default") == SEED_DEFAULT
    # Reassigning replaces the assignment.
    row = await rulepacks_repo.assign_county(session, "610423", "seed-default", "wang.fang")
    assert (row.pack_id, row.assigned_by) == ("seed-default", "wang.fang")
    assert await rulepacks_repo.pack_for_county(session, "610423", "mca-2021") == SEED_DEFAULT


async def test_assigning_an_unknown_pack_or_malformed_county_is_refused(
    session: AsyncSession,
) -> None:
    with pytest.raises(rulepacks_repo.UnknownRulePack):
        await rulepacks_repo.assign_county(session, "610423", "no-such-pack", "li.na")
    with pytest.raises(ValueError, match="6 digits"):
        await rulepacks_repo.assign_county(session, "61042", "mca-2021", "li.na")
    assert await rulepacks_repo.county_assignment(session, "610423") is None


async def test_publish_creates_version_2_and_version_1_stays_readable(
    session: AsyncSession,
) -> None:
    await rulepacks_repo.assign_county(session, "610423", "seed-default", "li.na")
    published = await rulepacks_repo.publish_version(
        session,
        "seed-default",
        {"posting_days": 10, "procedure": ["survey", "verification", "county_approval"]},
        "wang.fang",
    )
    assert published.version == 2
    assert published.posting_days == 10
    assert published.procedure == (Stage.SURVEY, Stage.VERIFICATION, Stage.COUNTY_APPROVAL)

    # Cases pinned seed-default@1: they read exactly the parameters they were filed under.
    assert await rulepacks_repo.get_pack(session, "seed-default", 1) == SEED_DEFAULT
    assert await rulepacks_repo.get_pack(session, "seed-default", 2) == published
    assert await rulepacks_repo.latest_pack(session, "seed-default") == published
    # New cases of an assigned county get the latest version.
    assert (await rulepacks_repo.pack_for_county(session, "610423", "mca-2021")).version == 2
    row = await rulepacks_repo.get_pack_row(session, "seed-default")
    assert row is not None
    assert (row.version, row.created_by) == (2, "wang.fang")
    assert [r.version for r in await rulepacks_repo.list_versions(session, "seed-default")] == [
        1,
        2,
    ]
    versions = {r.id: r.version for r in await rulepacks_repo.list_packs(session)}
    assert versions == {"seed-default": 2, "mca-2021": 1, "training-seed-default": 1}

    third = await rulepacks_repo.publish_version(
        session, "seed-default", {"title": "新标题"}, "wang.fang"
    )
    assert (third.version, third.posting_days, third.title) == (3, 10, "新标题")


async def test_unknown_field_is_rejected_and_nothing_is_published(session: AsyncSession) -> None:
    with pytest.raises(rulepacks_repo.InvalidRulePack) as raised:
        await rulepacks_repo.publish_version(
            session, "mca-2021", {"posting_dayz": 10, "posting_days": 10}, "li.na"
        )
    assert raised.value.errors[0] == "posting_dayz: unknown field"
    assert (await rulepacks_repo.latest_pack(session, "mca-2021")).version == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"posting_days": "10"}, "posting_days"),
        ({"posting_days": True}, "posting_days"),
        ({"posting_days": 0}, "posting_days: must be at least 1"),
        ({"spot_check_share": 1.5}, "spot_check_share"),
        ({"procedure": ["survey", "no_such_stage"]}, "procedure"),
        ({"id": "other"}, "id: cannot be changed"),
        ({"version": 7}, "version: cannot be changed"),
        ({"posting_days": 7}, "as it is"),
        ({"amount_rounding": "nearest"}, "amount_rounding"),
        ({"earliest_month": "0000-01"}, "earliest_month: must be a month"),
        ({"months_ahead": 100_000}, "months_ahead: must be between 0 and 120"),
        ({"standard_min_fen_month": 0}, "standard_min_fen_month"),
    ],
)
async def test_invalid_changes_are_rejected(
    session: AsyncSession, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(rulepacks_repo.InvalidRulePack) as raised:
        await rulepacks_repo.publish_version(session, "seed-default", dict(changes), "li.na")
    assert any(message in e for e in raised.value.errors), raised.value.errors
    assert (await rulepacks_repo.latest_pack(session, "seed-default")).version == 1


async def test_publishing_an_unknown_pack_is_refused(session: AsyncSession) -> None:
    with pytest.raises(rulepacks_repo.UnknownRulePack):
        await rulepacks_repo.publish_version(session, "no-such-pack", {"posting_days": 9}, "x")


def test_stored_versions_cannot_be_changed_in_place(database_url: str) -> None:
    # The database itself refuses, whatever code runs against it.
    with (
        psycopg.connect(database_url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute("UPDATE rule_packs SET title = 'x' WHERE id = 'seed-default'")


async def test_only_a_training_pack_may_shorten_postings(session: AsyncSession) -> None:
    with pytest.raises(rulepacks_repo.InvalidRulePack) as raised:
        await rulepacks_repo.publish_version(
            session, "seed-default", {"posting_seconds": 60}, "admin"
        )
    assert "only a training pack" in raised.value.errors[0]
    training = await rulepacks_repo.latest_pack(session, "training-seed-default")
    assert training.posting_duration.total_seconds() == 60


async def test_a_published_training_pack_is_titled_by_its_own_posting_period(
    session: AsyncSession,
) -> None:
    before = await rulepacks_repo.latest_pack(session, "training-seed-default")
    assert "60秒" in before.title
    pack = await rulepacks_repo.publish_version(
        session, "training-seed-default", {"posting_seconds": 10}, "admin"
    )
    assert pack.title == "培训演示：三级会审、三榜公示（公示期缩短为10秒）"
    stored = await rulepacks_repo.latest_pack(session, "training-seed-default")
    assert (stored.version, stored.title) == (pack.version, pack.title)
    rows = await rulepacks_repo.list_versions(session, "training-seed-default")
    # Each version's row is titled by its own parameters: the one before keeps its 60 seconds.
    assert [(r.version, r.title) for r in rows][-2:] == [
        (before.version, before.title),
        (pack.version, pack.title),
    ]

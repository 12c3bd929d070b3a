"""Rule packs as versioned data, and the pack each county's new cases use.

A stored version never changes (a trigger refuses UPDATE and DELETE): a case pins (id, version),
so policy changes are new versions, and cases filed before keep reading theirs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.policy_models import CountyRulePackRow, RulePackRow
from dibao.domain.rulepacks import (
    CHANGEABLE_FIELDS,
    FIXED_FIELDS,
    RulePack,
    change_problems,
    policy_problems,
    titled,
    unchanged_problem,
)

COUNTY_CODE = re.compile(r"^[0-9]{6}$")

# Strict JSON validation: types as declared on RulePack (no "10" for 10, no true for 1), enums
# by value, JSON arrays for tuples.
_PACK = TypeAdapter(RulePack)


class UnknownRulePack(LookupError):
    def __init__(self, pack_id: str, version: int | None = None) -> None:
        self.pack_id = pack_id
        self.version = version
        what = f"{pack_id} version {version}" if version is not None else pack_id
        super().__init__(f"unknown rule pack {what}")


class InvalidRulePack(ValueError):
    """A proposed version is not a valid pack; `errors` names each field and reason."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


class ConcurrentPublish(RuntimeError):
    pass


async def get_pack_row(
    session: AsyncSession, pack_id: str, version: int | None = None
) -> RulePackRow | None:
    """One version, or the latest when `version` is None."""
    query = select(RulePackRow).where(RulePackRow.id == pack_id)
    if version is not None:
        query = query.where(RulePackRow.version == version)
    row = await session.execute(query.order_by(RulePackRow.version.desc()).limit(1))
    return row.scalar_one_or_none()


async def get_pack(session: AsyncSession, pack_id: str, version: int) -> RulePack:
    row = await get_pack_row(session, pack_id, version)
    if row is None:
        raise UnknownRulePack(pack_id, version)
    return RulePack.from_params(row.params)


async def latest_pack(session: AsyncSession, pack_id: str) -> RulePack:
    row = await get_pack_row(session, pack_id)
    if row is None:
        raise UnknownRulePack(pack_id)
    return RulePack.from_params(row.params)


async def pack_exists(session: AsyncSession, pack_id: str) -> bool:
    return await get_pack_row(session, pack_id) is not None


async def list_packs(session: AsyncSession) -> list[RulePackRow]:
    """The latest version of every pack, by id."""
    latest = (
        select(RulePackRow.id, func.max(RulePackRow.version).label("version"))
        .group_by(RulePackRow.id)
        .subquery()
    )
    rows = await session.execute(
        select(RulePackRow)
        .join(
            latest,
            (RulePackRow.id == latest.c.id) & (RulePackRow.version == latest.c.version),
        )
        .order_by(RulePackRow.id)
    )
    return list(rows.scalars())


async def list_versions(session: AsyncSession, pack_id: str) -> list[RulePackRow]:
    rows = await session.execute(
        select(RulePackRow).where(RulePackRow.id == pack_id).order_by(RulePackRow.version)
    )
    return list(rows.scalars())


def _check_county(county_code: str) -> None:
    if not COUNTY_CODE.match(county_code):
        raise ValueError(f"county code must be 6 digits, got {county_code!r}")


async def county_assignment(session: AsyncSession, county_code: str) -> CountyRulePackRow | None:
    _check_county(county_code)
    return await session.get(CountyRulePackRow, county_code, populate_existing=True)


async def pack_for_county(
    session: AsyncSession, county_code: str, default_pack_id: str
) -> RulePack:
    """The county's assigned pack at its latest version, else the default at its latest."""
    assignment = await county_assignment(session, county_code)
    pack_id = assignment.pack_id if assignment is not None else default_pack_id
    return await latest_pack(session, pack_id)


async def assign_county(
    session: AsyncSession, county_code: str, pack_id: str, assigned_by: str
) -> CountyRulePackRow:
    _check_county(county_code)
    # Packs are never deleted, so this check still holds when the row is written.
    if not await pack_exists(session, pack_id):
        raise UnknownRulePack(pack_id)
    await session.execute(
        insert(CountyRulePackRow)
        .values(county_code=county_code, pack_id=pack_id, assigned_by=assigned_by)
        .on_conflict_do_update(
            index_elements=[CountyRulePackRow.county_code],
            set_={"pack_id": pack_id, "assigned_by": assigned_by, "assigned_at": func.now()},
        )
    )
    await session.commit()
    row = await county_assignment(session, county_code)
    assert row is not None  # just written in this session's committed transaction
    return row


def validate_params(params: dict[str, Any]) -> RulePack:
    """A RulePack from stored-form parameters, or InvalidRulePack naming every problem."""
    unknown = sorted(set(params) - CHANGEABLE_FIELDS - FIXED_FIELDS)
    if unknown:
        known = ", ".join(sorted(CHANGEABLE_FIELDS))
        raise InvalidRulePack([f"{name}: unknown field (known: {known})" for name in unknown])
    try:
        pack = _PACK.validate_json(json.dumps(params), strict=True)
    except ValidationError as err:
        raise InvalidRulePack(
            [
                f"{'.'.join(str(p) for p in e['loc']) or '(pack)'}: {e['msg']}"
                for e in err.errors(include_url=False)
            ]
        ) from None
    problems = policy_problems(pack)
    if problems:
        raise InvalidRulePack(problems)
    return pack


async def publish_version(
    session: AsyncSession, pack_id: str, params_changes: dict[str, Any], created_by: str
) -> RulePack:
    """A new version: the latest with `params_changes` applied (stored-form values, as in
    `RulePack.to_params`). The latest stays as it is for the cases that pinned it."""
    latest = await get_pack_row(session, pack_id)
    if latest is None:
        raise UnknownRulePack(pack_id)
    errors = change_problems(params_changes)
    if errors:
        raise InvalidRulePack(errors)
    current = RulePack.from_params(latest.params)
    params = {**current.to_params(), **params_changes, "version": latest.version + 1}
    pack = titled(validate_params(params))
    unchanged = unchanged_problem(current, pack)
    if unchanged:
        raise InvalidRulePack([unchanged])
    stored = pack.to_params()
    session.add(
        RulePackRow(
            id=pack.id,
            version=pack.version,
            title=pack.title,
            params=stored,
            created_by=created_by,
        )
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if await get_pack_row(session, pack_id, pack.version) is None:
            raise
        # Two publishers read the same latest version; the first one's version stands.
        raise ConcurrentPublish(
            f"{pack_id} version {pack.version} was published meanwhile; review it and retry"
        ) from None
    return pack


async def approval_delegated(session: AsyncSession, pack_id: str, version: int) -> bool:
    """Whether the case's pinned pack moves approval to the township (mca-2021 Art. 2): what
    the role checks of its approval stage read before the request reaches the workflow."""
    row = await get_pack_row(session, pack_id, version)
    return bool(row.params.get("approval_delegated", False)) if row is not None else False

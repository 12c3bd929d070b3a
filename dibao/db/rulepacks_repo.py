"""Rule packs as versioned data, and the pack each county's new cases use.

A stored version never changes (a trigger refuses UPDATE and DELETE): a case pins (id, version),
so policy changes are new versions, and cases filed before keep reading theirs.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.policy_models import CountyRulePackRow, RulePackRow
from dibao.domain.rulepacks import TRAINING_PREFIX, RulePack, pack_law_problems, titled

COUNTY_CODE = re.compile(r"^[0-9]{6}$")
MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")

# Fields a new version may change. id and version are the key the cases pin.
FIXED_FIELDS = frozenset({"id", "version"})
CHANGEABLE_FIELDS = frozenset(f.name for f in dataclasses.fields(RulePack)) - FIXED_FIELDS

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
    problems = _policy_problems(pack)
    if problems:
        raise InvalidRulePack(problems)
    return pack


def _policy_problems(pack: RulePack) -> list[str]:
    """What the types allow but no policy could mean (a zero-day posting, a share above 1)."""
    problems: list[str] = []
    if not pack.title.strip():
        problems.append("title: must not be empty")
    if not pack.procedure:
        problems.append("procedure: must list at least one stage")
    if len(set(pack.procedure)) != len(pack.procedure):
        problems.append("procedure: a stage is listed twice")
    positive = {
        "posting_days": pack.posting_days,
        "refusal_notice_working_days": pack.refusal_notice_working_days,
        "evaluation_quorum": pack.evaluation_quorum,
        "survey_working_days": pack.survey_working_days,
        "verification_working_days": pack.verification_working_days,
        "township_review_working_days": pack.township_review_working_days,
        "county_approval_working_days": pack.county_approval_working_days,
        "whole_procedure_working_days": pack.whole_procedure_working_days,
        "whole_procedure_extended_working_days": pack.whole_procedure_extended_working_days,
    }
    problems += [
        f"{name}: must be at least 1" for name, v in positive.items() if v is not None and v < 1
    ]
    extended, limit = pack.whole_procedure_extended_working_days, pack.whole_procedure_working_days
    if extended is not None and (limit is None or extended <= limit):
        problems.append(
            "whole_procedure_extended_working_days: must exceed whole_procedure_working_days"
        )
    not_negative = {
        "urban_standard_fen_month": pack.urban_standard_fen_month,
        "rural_standard_fen_year": pack.rural_standard_fen_year,
        "deposit_limit_fen": pack.deposit_limit_fen,
        "employment_cost_fen_month": pack.employment_cost_fen_month,
    }
    problems += [f"{name}: must not be negative" for name, v in not_negative.items() if v < 0]
    problems += pack_law_problems(pack)
    if pack.posting_seconds is not None:
        if not pack.id.startswith(TRAINING_PREFIX):
            problems.append(
                f"posting_seconds: only a training pack (id starting '{TRAINING_PREFIX}') may "
                "shorten postings; a real posting lasts posting_days"
            )
        elif pack.posting_seconds < 1:
            problems.append("posting_seconds: must be at least 1")
    if not 0 <= pack.spot_check_share <= 1:
        problems.append("spot_check_share: must be between 0 and 1")
    categories = [category for category, _ in pack.tier_shares]
    if len(set(categories)) != len(categories):
        problems.append("tier_shares: a category is listed twice")
    if any(not 0 <= share <= 1 for _, share in pack.tier_shares):
        problems.append("tier_shares: each share must be between 0 and 1")
    if not MONTH.match(pack.earliest_month) or pack.earliest_month < "2000-01":
        problems.append("earliest_month: must be a month, YYYY-MM, from 2000-01")
    if not 0 <= pack.months_ahead <= 120:
        problems.append("months_ahead: must be between 0 and 120")
    if not 1 <= pack.standard_min_fen_month <= pack.standard_max_fen_month:
        problems.append(
            "standard_min_fen_month: must be at least 1 and at most standard_max_fen_month"
        )
    return problems


async def publish_version(
    session: AsyncSession, pack_id: str, params_changes: dict[str, Any], created_by: str
) -> RulePack:
    """A new version: the latest with `params_changes` applied (stored-form values, as in
    `RulePack.to_params`). The latest stays as it is for the cases that pinned it."""
    latest = await get_pack_row(session, pack_id)
    if latest is None:
        raise UnknownRulePack(pack_id)
    errors = [
        f"{name}: unknown field"
        for name in sorted(set(params_changes) - CHANGEABLE_FIELDS - FIXED_FIELDS)
    ]
    errors += [
        f"{name}: cannot be changed; a new version gets the next number"
        if name == "version"
        else f"{name}: cannot be changed; a different pack is a different id"
        for name in sorted(set(params_changes) & FIXED_FIELDS)
    ]
    if errors:
        known = ", ".join(sorted(CHANGEABLE_FIELDS))
        raise InvalidRulePack([*errors, f"changeable fields: {known}"])
    current = RulePack.from_params(latest.params)
    params = {**current.to_params(), **params_changes, "version": latest.version + 1}
    pack = titled(validate_params(params))
    if dataclasses.replace(pack, version=current.version) == current:
        raise InvalidRulePack([f"the changes leave {pack_id} version {latest.version} as it is"])
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

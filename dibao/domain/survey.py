"""The household survey (入户调查): what the investigators found, and when a report is acceptable.

Dates travel as ISO strings ("2026-11-23") because workflow payloads are JSON.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dibao.domain.application import Assets, FieldError, IncomeItem, Member, validate_id_number


class ExclusionFlag(StrEnum):
    """Must-exclude facts the investigators establish that no registry shows (003, 必取必退)."""

    RELATIVE_IN_PUBLIC_SECTOR = "relative_in_public_sector"  # 直系亲属在机关事业单位、大型企业工作
    MOVED_AWAY_LONG_TERM = "moved_away_long_term"  # 户口迁出或长期外出居住
    LAND_COMPENSATION = "land_compensation"  # 已获征地拆迁补偿
    BOUGHT_URBAN_HOUSING = "bought_urban_housing"  # 农村家庭在城镇购房
    CHILD_PRIVATE_SCHOOL_OR_ABROAD = "child_private_school_or_abroad"  # 子女自费择校或出国留学
    GRADUATE_EMPLOYED = "graduate_employed"  # 毕业生已就业或缴纳住房公积金
    DECEASED_MEMBER_INCLUDED = "deceased_member_included"  # 死亡人员仍在保障名单
    ADDRESS_CHANGE_UNREPORTED = "address_change_unreported"  # 变更住址不告知


@dataclass(frozen=True)
class NeighbourVisit:
    neighbour: str  # who was asked (name or description, e.g. "东邻 张某")
    summary: str


@dataclass(frozen=True)
class SurveyReport:
    investigators: tuple[str, ...]  # staff IDs; at least two different people (001 三(二))
    surveyed_on: str  # ISO date
    members: tuple[Member, ...]  # the household as found at the visit
    incomes: tuple[IncomeItem, ...]
    assets: Assets
    living_conditions: str
    neighbour_visits: tuple[NeighbourVisit, ...] = ()
    attachments: tuple[str, ...] = ()  # references to photos and signed records kept on file
    family_member_signed: bool = False
    exclusion_flags: tuple[ExclusionFlag, ...] = ()


MIN_INVESTIGATORS = 2


def validate_survey(report: SurveyReport, today: date | None = None) -> list[FieldError]:
    errors: list[FieldError] = []
    investigators = {i.strip() for i in report.investigators if i.strip()}
    if len(investigators) < MIN_INVESTIGATORS:
        errors.append(
            FieldError(
                ("investigators",),
                f"at least {MIN_INVESTIGATORS} different investigators must take part "
                f"(谁清查、谁签字、谁负责); got {len(investigators)}",
            )
        )
    try:
        surveyed = date.fromisoformat(report.surveyed_on)
        if today is not None and surveyed > today:
            errors.append(FieldError(("surveyed_on",), "lies in the future"))
    except ValueError:
        errors.append(FieldError(("surveyed_on",), "must be a date, YYYY-MM-DD"))
    if not report.members:
        errors.append(FieldError(("members",), "the survey must record the household's members"))
    for i, member in enumerate(report.members):
        reason = validate_id_number(member.id_number, today)
        if reason:
            errors.append(FieldError(("members", i, "id_number"), reason))
    if not report.living_conditions.strip():
        errors.append(FieldError(("living_conditions",), "must describe what was seen"))
    return errors

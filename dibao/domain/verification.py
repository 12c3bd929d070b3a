"""Cross-department verification (家庭经济状况核对): registry records and discrepancies.

The connectors that fetch records live in `activities/verification/`; comparing them with what
the household declared is a pure rule, here.
"""

from dataclasses import dataclass
from enum import StrEnum

from dibao.domain.application import Application
from dibao.domain.survey import SurveyReport


class Department(StrEnum):
    TAX = "tax"  # 税务
    SOCIAL_INSURANCE = "social_insurance"  # 人社: social insurance and pensions
    REAL_ESTATE = "real_estate"  # 不动产登记
    VEHICLES = "vehicles"  # 公安交管
    BUSINESS_REGISTRATION = "business_registration"  # 市场监管
    HOUSING_FUND = "housing_fund"  # 住房公积金
    HOUSEHOLD_REGISTRATION = "household_registration"  # 公安户籍: registration and deaths
    BANKS = "banks"  # 银行存款


class RecordKind(StrEnum):
    WAGE_INCOME = "wage_income"  # monthly, fen
    PENSION = "pension"  # monthly, fen
    HOME = "home"  # one record per home
    SHOP = "shop"  # commercial property
    VEHICLE = "vehicle"  # detail holds the vehicle kind (car, van, truck, ship, motorcycle ...)
    BUSINESS_LICENCE = "business_licence"
    HOUSING_FUND_CONTRIBUTION = "housing_fund_contribution"  # monthly, fen
    DECEASED = "deceased"
    MOVED_OUT = "moved_out"
    DEPOSIT = "deposit"  # balance, fen


@dataclass(frozen=True)
class RegistryRecord:
    department: Department
    id_number: str
    kind: RecordKind
    amount_fen: int | None = None
    detail: str = ""
    as_of: str = ""  # ISO date of the extract


@dataclass(frozen=True)
class Discrepancy:
    department: Department
    id_number: str
    kind: RecordKind
    declared: str
    found: str
    message: str  # Chinese, fit to show the household


@dataclass(frozen=True)
class VerificationOutcome:
    checked: tuple[Department, ...]
    records: tuple[RegistryRecord, ...]
    discrepancies: tuple[Discrepancy, ...]


def find_discrepancies(
    application: Application,
    survey: SurveyReport | None,
    records: tuple[RegistryRecord, ...],
) -> tuple[Discrepancy, ...]:
    """What the registries show that the household did not declare (or the survey did not find).

    The survey's findings, when there is a survey, supersede the declaration.
    """
    raise NotImplementedError  # implemented by the verification work

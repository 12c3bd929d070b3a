"""The application (申请) as filed: value types and the checks that make it acceptable.

Money is held in fen (分, integer) so that sums and comparisons are exact.
"""

import functools
import itertools
import re
from dataclasses import dataclass, field
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from dibao.domain.enums import (
    AreaType,
    DisabilityKind,
    IncomeCategory,
    Material,
    ProxyKind,
    Relation,
    RigidExpenseKind,
    VehicleKind,
)


@dataclass(frozen=True)
class Member:
    name: str
    id_number: str
    relation: Relation
    disability_grade: int | None = None  # 1 (most severe) to 4, from the disability certificate
    major_illness: bool = False
    chronic_illness: bool = False
    able_to_work: bool = False
    disability_kind: DisabilityKind | None = None
    # Where the member's own hukou is (6-digit county code), when not the application's
    # (mca-2021 Art. 5: members registered in different places); "" = the application's.
    hukou_county_code: str = ""
    # The member's usual residence (经常居住地) is where their own hukou is; Art. 5 turns on it.
    lives_at_hukou: bool = True


@dataclass(frozen=True)
class Hukou:
    """Household-registration location as statistical division codes (统计用区划代码)."""

    province_code: str  # 2 digits
    county_code: str  # 6 digits
    township_code: str  # 9 digits
    village_code: str  # 12 digits
    address: str = ""


@dataclass(frozen=True)
class IncomeItem:
    category: IncomeCategory
    monthly_fen: int  # average per month over the last 12 months


@dataclass(frozen=True)
class RigidExpense:
    """A cost a member's disability or serious illness adds (刚性支出, mca-2021 Art. 13),
    average per month; deducted from income only with its proof on file."""

    member_id_number: str
    kind: RigidExpenseKind
    monthly_fen: int
    description: str = ""


@dataclass(frozen=True)
class SupportObligor:
    """A relative outside the household legally obliged to support a member (赡养、抚养、扶养
    义务人): counted per obligor by the pack's SupportRule (Art. 13: 赡养费 is transfer income)."""

    name: str
    relation: str  # to the supported member, in words (e.g. 子女)
    agreed_fen_month: int = 0  # agreed, ordered by a court, or actually paid
    # The obligor's own family, for SupportRule.CAPACITY; None when not known.
    family_income_fen_month: int | None = None
    family_size: int | None = None


@dataclass(frozen=True)
class Proxy:
    """Who applies for the family under a written mandate (委托申请, mca-2021 Art. 6)."""

    kind: ProxyKind
    name: str
    reason: str  # why the family cannot apply itself (申请有困难)


@dataclass(frozen=True)
class Assets:
    deposits_fen: int = 0
    securities_fen: int = 0
    # mca-2021 Art. 14: 基金、商业保险（现金价值）、债权、互联网金融资产 — money like deposits.
    other_financial_fen: int = 0
    vehicles: tuple[VehicleKind, ...] = ()
    homes: int = 0
    shop_or_business_assets: bool = False
    business_licence: bool = False
    receives_pension: bool = False


@dataclass(frozen=True)
class Payee:
    """The account the benefit is paid into (社会化发放: the county's bank pays it)."""

    account_holder: str  # 开户人, usually the head of household
    bank: str  # 开户行
    account_no: str  # 账号: digits only
    # 代领人: the holder is no member of the household and collects for it, for the reason
    # recorded (e.g. a guardian of an elderly or disabled member); shown on the roster.
    agent: bool = False
    agent_reason: str = ""


@dataclass(frozen=True)
class Application:
    members: tuple[Member, ...]
    hukou: Hukou
    area_type: AreaType
    incomes: tuple[IncomeItem, ...] = ()
    assets: Assets = field(default_factory=Assets)
    materials: tuple[Material, ...] = ()
    declaration_signed: bool = False  # 家庭收入财产声明及如实申报承诺书
    verification_authorised: bool = False  # 家庭经济状况核查授权委托书
    phone: str = ""
    # Where the benefit is paid; may be given later (POST /cases/{id}/payee).
    payee: Payee | None = None
    rigid_expenses: tuple[RigidExpense, ...] = ()
    support_obligors: tuple[SupportObligor, ...] = ()
    proxy: Proxy | None = None
    # The applicant holds a residence permit (居住证) and applies where they live (Art. 5).
    residence_permit: bool = False

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.relation is Relation.HEAD)


@dataclass(frozen=True)
class FieldError:
    """One reason an input is unacceptable. `path` locates the field, e.g. ("members", 1, "id_number")."""

    path: tuple[str | int, ...]
    message: str


_ACCOUNT_NO = re.compile(r"^[0-9]{12,30}$")


def validate_payee(payee: Payee, path: tuple[str | int, ...] = ("payee",)) -> list[FieldError]:
    errors: list[FieldError] = []
    if not payee.account_holder.strip():
        errors.append(FieldError((*path, "account_holder"), "must not be empty"))
    if not payee.bank.strip():
        errors.append(FieldError((*path, "bank"), "must not be empty"))
    if not _ACCOUNT_NO.match(payee.account_no):
        errors.append(FieldError((*path, "account_no"), "must be 12 to 30 digits, no spaces"))
    return errors


def payee_holder_problems(
    payee: Payee, members: tuple[Member, ...], path: tuple[str | int, ...] = ("payee",)
) -> list[FieldError]:
    """Whose account may receive the household's benefit: a member's (matched by name), or a
    recorded agent's (代领人) with the reason. Anyone else's is refused, not paid silently."""
    holder = payee.account_holder.strip()
    is_member = any(m.name.strip() == holder for m in members)
    if payee.agent:
        if is_member:
            return [
                FieldError(
                    (*path, "agent"),
                    "the account holder is a member of the household; an agent (代领人) is "
                    "someone outside it, so leave agent false",
                )
            ]
        if not payee.agent_reason.strip():
            return [
                FieldError(
                    (*path, "agent_reason"),
                    "an agent (代领人) collects for the household only for a recorded reason",
                )
            ]
        return []
    if payee.agent_reason.strip():
        return [FieldError((*path, "agent"), "an agent_reason is given, but agent is false")]
    if not is_member:
        return [
            FieldError(
                (*path, "account_holder"),
                "must be the name of a member of the household, or the payee must be recorded "
                "as an agent (代领人): agent true, with agent_reason",
            )
        ]
    return []


_CODE_LENGTHS = {"province_code": 2, "county_code": 6, "township_code": 9, "village_code": 12}
_MAX_MEMBERS = 30


_ID_SHAPE = re.compile(r"\d{17}[\dX]")


@functools.lru_cache(maxsize=16384)
def _region_held(region: str, birth_year: int) -> bool:
    """Whether the six-digit region code (行政区划代码) was assigned in the birth year: the
    only part of GB 11643's check python-stdnum looks up in its table, and the slow part of it
    (a large file's people share a few hundred regions and birth years)."""
    try:
        # The look-up reads the number's first six digits and its birth year only.
        ric.get_birth_place(f"{region}{birth_year:04d}0101" + "0000")
    except ValidationError:
        return False
    return True


def _ric_valid(id_number: str) -> bool:
    """`stdnum.cn.ric.is_valid` for a number of the right shape, with its region look-up
    cached: the same checks in the same order (check digit, birth date, region)."""
    if id_number[-1] != ric.calc_check_digit(id_number):
        return False
    try:
        birth = ric.get_birth_date(id_number)
    except ValidationError:
        return False
    return _region_held(id_number[:6], birth.year)


def validate_id_number(id_number: str, today: date | None = None) -> str | None:
    """The reason a resident ID number (居民身份证号码) is invalid, or None.

    `today` (China date) also rules out a birth date in the future; the caller passes it so
    that this stays a pure function.
    """
    if not _ID_SHAPE.fullmatch(id_number):
        return "must be 18 characters: 17 digits then a digit or X"
    if not _ric_valid(id_number):
        return "check digit, birth date or region code is wrong (GB 11643)"
    if today is not None and ric.get_birth_date(id_number) > today:
        return "birth date lies in the future"
    return None


def validate_application(app: Application, today: date | None = None) -> list[FieldError]:
    """Every reason the application cannot be filed; empty when it can.

    Type and range checks happen at the API boundary; these are the rules that need the whole
    application (one head, no member twice, codes nested) or a check digit.
    """
    errors: list[FieldError] = []
    if not app.members:
        errors.append(FieldError(("members",), "at least the head of household is required"))
    if len(app.members) > _MAX_MEMBERS:
        errors.append(FieldError(("members",), f"at most {_MAX_MEMBERS} members"))
    heads = [i for i, m in enumerate(app.members) if m.relation is Relation.HEAD]
    if app.members and len(heads) != 1:
        errors.append(
            FieldError(
                ("members",),
                f"exactly one member must have relation 'head', found {len(heads)}",
            )
        )
    seen: dict[str, int] = {}
    for i, member in enumerate(app.members):
        if not member.name.strip():
            errors.append(FieldError(("members", i, "name"), "must not be blank"))
        reason = validate_id_number(member.id_number, today)
        if reason:
            errors.append(FieldError(("members", i, "id_number"), reason))
        elif member.id_number in seen:
            errors.append(
                FieldError(
                    ("members", i, "id_number"),
                    f"same ID number as members[{seen[member.id_number]}]",
                )
            )
        else:
            seen[member.id_number] = i
        if member.disability_grade is not None and not 1 <= member.disability_grade <= 4:
            errors.append(FieldError(("members", i, "disability_grade"), "must be 1 to 4"))
    errors.extend(_validate_hukou(app.hukou))
    if app.payee is not None:
        errors.extend(validate_payee(app.payee) or payee_holder_problems(app.payee, app.members))
    for i, item in enumerate(app.incomes):
        if item.monthly_fen < 0:
            errors.append(FieldError(("incomes", i, "monthly_amount"), "must not be negative"))
    ids = {m.id_number.upper() for m in app.members}
    for i, expense in enumerate(app.rigid_expenses):
        if expense.member_id_number.upper() not in ids:
            errors.append(
                FieldError(
                    ("rigid_expenses", i, "member_id_number"),
                    "must be the ID number of a member: a rigid cost is a member's (Art. 13)",
                )
            )
        if expense.monthly_fen < 0:
            errors.append(
                FieldError(("rigid_expenses", i, "monthly_amount"), "must not be negative")
            )
    for i, obligor in enumerate(app.support_obligors):
        if obligor.agreed_fen_month < 0:
            errors.append(
                FieldError(("support_obligors", i, "agreed_monthly_amount"), "must not be negative")
            )
    for name in ("deposits_fen", "securities_fen", "other_financial_fen", "homes"):
        if getattr(app.assets, name) < 0:
            label = name.removesuffix("_fen")
            errors.append(FieldError(("assets", label), "must not be negative"))
    return errors


def _validate_hukou(hukou: Hukou) -> list[FieldError]:
    errors: list[FieldError] = []
    codes: dict[str, str] = {}
    for name, length in _CODE_LENGTHS.items():
        value = getattr(hukou, name)
        if not re.fullmatch(rf"\d{{{length}}}", value):
            errors.append(FieldError(("hukou", name), f"must be {length} digits"))
        else:
            codes[name] = value
    # Each level's code starts with its parent's: a village code that does not belong to the
    # township would file the case in the wrong jurisdiction.
    chain = list(_CODE_LENGTHS)
    for parent, child in itertools.pairwise(chain):
        if parent in codes and child in codes and not codes[child].startswith(codes[parent]):
            errors.append(FieldError(("hukou", child), f"does not lie within {parent}"))
    return errors

"""A county's ledger (台账) of households already receiving, as imported when it goes live.

Pure rules: the columns of the template, the check of a whole file (every error by row and
column, in Chinese), and what a clean household becomes — an application, the recipient state a
case starts in, and the opening entitlement, dated so that the first payroll pays only the
months after the month the old system paid up to.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from dibao.domain.application import Application, Hukou, Member, Payee, validate_id_number
from dibao.domain.eligibility import HouseholdCategory
from dibao.domain.enums import AreaType, Relation
from dibao.domain.recipient import RecipientState, add_months

# (key, header): the template's columns in order. One row per member; the household's own
# fields are filled on the head's row (户主) and may be repeated, identical, on the others.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("certificate_no", "低保证号"),
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("relation", "与户主关系"),
    ("village_code", "户籍地区划代码"),
    ("address", "户籍地址"),
    ("area_type", "城乡类别"),
    ("category", "保障类别"),
    ("amount", "月保障金额（元）"),
    ("first_paid_month", "首次发放年月"),
    ("paid_up_to", "已发放至年月"),
    ("next_review_on", "下次复核日期"),
    ("account_holder", "开户人"),
    ("bank", "开户行"),
    ("account_no", "账号"),
)
HEADERS = {key: header for key, header in COLUMNS}
HOUSEHOLD_FIELDS = (
    "village_code",
    "address",
    "area_type",
    "category",
    "amount",
    "first_paid_month",
    "paid_up_to",
    "next_review_on",
    "account_holder",
    "bank",
    "account_no",
)
RELATIONS: dict[str, Relation] = {
    "户主": Relation.HEAD,
    "配偶": Relation.SPOUSE,
    "子女": Relation.CHILD,
    "父母": Relation.PARENT,
    "祖父母": Relation.GRANDPARENT,
    "外祖父母": Relation.GRANDPARENT,
    "孙子女": Relation.GRANDCHILD,
    "外孙子女": Relation.GRANDCHILD,
    "兄弟姐妹": Relation.SIBLING,
    "儿媳": Relation.CHILD_IN_LAW,
    "女婿": Relation.CHILD_IN_LAW,
    "其他": Relation.OTHER,
}
AREA_TYPES = {"城市": AreaType.URBAN, "农村": AreaType.RURAL}
AREA_LABELS = {v: k for k, v in AREA_TYPES.items()}
CATEGORY_LABELS = {
    HouseholdCategory.A: "A类",
    HouseholdCategory.B: "B类",
    HouseholdCategory.C: "C类",
}
_CATEGORIES = {
    **{c.value: c for c in HouseholdCategory},
    **{label: c for c, label in CATEGORY_LABELS.items()},
}
# The template's example row: a household of the sample county (examples/household.json).
EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        "certificate_no": "610423-2019-00017",
        "name": "王秀英",
        "id_number": "612522195803120027",
        "relation": "户主",
        "village_code": "610423100201",
        "address": "泾阳县某镇某村3组",
        "area_type": "农村",
        "category": "A类",
        "amount": "727.50",
        "first_paid_month": "2019-05",
        "paid_up_to": "2026-10",
        "next_review_on": "2027-03-01",
        "account_holder": "王秀英",
        "bank": "示例农商银行",
        "account_no": "6228480012345678901",
    },
)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_AMOUNT = re.compile(r"^\d{1,7}(\.\d{1,2})?$")
_VILLAGE = re.compile(r"^\d{12}$")
_ACCOUNT = re.compile(r"^\d{12,30}$")
_CERTIFICATE = re.compile(r"^[0-9A-Za-z\-]{1,30}$")


class ImportStatus(StrEnum):
    """Where an uploaded ledger is: checked in the background, then refused whole with its
    errors (nothing written) or written and its cases' workflows starting, then done."""

    CHECKING = "checking"
    ERRORS = "errors"
    IMPORTING = "importing"
    DONE = "done"

    @property
    def finished(self) -> bool:
        """Nothing more happens to it (unless the same file is uploaded again after errors)."""
        return self in (ImportStatus.ERRORS, ImportStatus.DONE)


@dataclass(frozen=True)
class LedgerError:
    """One problem of the file: the spreadsheet row (1 is the header), the column's header
    ("" when it concerns the whole row or file) and what is wrong, in Chinese."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class ImportedHousehold:
    """One household of a clean ledger."""

    key: str  # the 低保证号: one household per certificate
    rows: tuple[int, ...]  # its spreadsheet rows
    members: tuple[Member, ...]
    hukou: Hukou
    area_type: AreaType
    category: HouseholdCategory
    monthly_amount_fen: int
    first_paid_month: str
    paid_up_to: str
    next_review_on: str
    payee: Payee

    @property
    def certificate_no(self) -> str:
        return self.key

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.relation is Relation.HEAD)

    @property
    def opening_month(self) -> str:
        """The first month dibao pays: the one after the old system's last."""
        return add_months(self.paid_up_to, 1)


@dataclass(frozen=True)
class LedgerCheck:
    households: tuple[ImportedHousehold, ...]
    errors: tuple[LedgerError, ...]

    @property
    def persons(self) -> int:
        return sum(len(h.members) for h in self.households)


def file_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def case_id_for(file_sha: str, key: str) -> str:
    """The case an imported household becomes: the same for the same file and household, so
    a repeated import finds it, and opaque (no certificate or ID number readable in it)."""
    digest = hashlib.sha256(f"{file_sha}:{key}".encode()).digest()
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = int.from_bytes(digest[:8], "big")
    return "DB-L" + "".join(alphabet[(value >> (5 * i)) & 31] for i in range(11))


def _amount_fen(text: str) -> int:
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


def check_ledger(
    rows: list[dict[str, str]],
    county_code: str,
    today: date,
    in_open_cases: frozenset[str] = frozenset(),
) -> LedgerCheck:
    """Check the whole file; the households when there is no error, else every error.

    `rows` are the data rows by column key, the first being spreadsheet row 2; `in_open_cases`
    the ID numbers of people who already are in an open case of dibao, as its head or as any
    other member: a person is paid by one household only.
    """
    errors: list[LedgerError] = []

    def err(row: int, key: str, message: str) -> None:
        errors.append(LedgerError(row, HEADERS.get(key, ""), message))

    if not rows:
        return LedgerCheck((), (LedgerError(1, "", "文件中没有数据行"),))
    this_month = f"{today.year:04d}-{today.month:02d}"
    ids = Counter(r.get("id_number", "").strip().upper() for r in rows)
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for index, raw in enumerate(rows, start=2):
        row = {k: (raw.get(k) or "").strip() for k, _ in COLUMNS}
        row["id_number"] = row["id_number"].upper()
        for key in ("certificate_no", "name", "id_number", "relation"):
            if not row[key]:
                err(index, key, "必填，不能为空")
        if row["certificate_no"] and not _CERTIFICATE.match(row["certificate_no"]):
            err(index, "certificate_no", "只能包含数字、字母和连字符，最长30位")
        if row["id_number"]:
            problem = validate_id_number(row["id_number"], today)
            if problem:
                err(index, "id_number", "身份证号无效（18位，校验码、出生日期或地区码有误）")
            elif ids[row["id_number"]] > 1:
                err(index, "id_number", "身份证号在文件中重复出现")
            elif row["id_number"] in in_open_cases:
                err(index, "id_number", "此人已有未结案件，不能再导入")
        if row["relation"] and row["relation"] not in RELATIONS:
            err(index, "relation", "应为：" + "、".join(RELATIONS))
        if row["certificate_no"]:
            groups.setdefault(row["certificate_no"], []).append((index, row))

    households: list[ImportedHousehold] = []
    for key, members in groups.items():
        heads = [(i, r) for i, r in members if r["relation"] == "户主"]
        first_row = members[0][0]
        if len(heads) != 1:
            err(
                first_row,
                "relation",
                f"低保证号 {key} 的家庭应有且只有一名户主（现有{len(heads)}名）",
            )
            continue
        head_row, head = heads[0]
        before = len(errors)
        for field_key in HOUSEHOLD_FIELDS:
            for index, row in members:
                if index != head_row and row[field_key] and row[field_key] != head[field_key]:
                    err(index, field_key, "与户主行不一致")
        if not _VILLAGE.match(head["village_code"]):
            err(head_row, "village_code", "应为12位村级统计用区划代码")
        elif not head["village_code"].startswith(county_code):
            err(head_row, "village_code", f"不属于本县（{county_code}）")
        if head["area_type"] not in AREA_TYPES:
            err(head_row, "area_type", "应为“城市”或“农村”")
        if head["category"] not in _CATEGORIES:
            err(head_row, "category", "应为 A类、B类 或 C类")
        if not _AMOUNT.match(head["amount"]) or _amount_fen(head["amount"]) <= 0:
            err(head_row, "amount", "应为大于0的金额，单位元，最多两位小数")
        for month_key in ("first_paid_month", "paid_up_to"):
            if not _MONTH.match(head[month_key]):
                err(head_row, month_key, "应为年月，格式 YYYY-MM")
        if _MONTH.match(head["first_paid_month"]) and _MONTH.match(head["paid_up_to"]):
            if head["paid_up_to"] < add_months(head["first_paid_month"], -1):
                err(head_row, "paid_up_to", "早于首次发放年月")
            if head["first_paid_month"] > this_month:
                err(head_row, "first_paid_month", "不能晚于本月")
            if head["paid_up_to"] > add_months(this_month, 1):
                err(head_row, "paid_up_to", "不能晚于下月")
        if not _valid_date(head["next_review_on"]):
            err(head_row, "next_review_on", "应为日期，格式 YYYY-MM-DD")
        if not head["account_holder"]:
            err(head_row, "account_holder", "必填，不能为空")
        if not head["bank"]:
            err(head_row, "bank", "必填，不能为空")
        if not _ACCOUNT.match(head["account_no"]):
            err(head_row, "account_no", "应为12至30位数字，不含空格")
        elif head["account_holder"] and head["account_holder"] not in {
            r["name"] for _, r in members
        }:
            err(head_row, "account_holder", "开户人应为家庭成员")
        if len(errors) > before or any(e.row in {i for i, _ in members} for e in errors[:before]):
            continue
        village = head["village_code"]
        households.append(
            ImportedHousehold(
                key=key,
                rows=tuple(i for i, _ in members),
                members=tuple(
                    Member(
                        name=r["name"], id_number=r["id_number"], relation=RELATIONS[r["relation"]]
                    )
                    for _, r in members
                ),
                hukou=Hukou(
                    province_code=village[:2],
                    county_code=village[:6],
                    township_code=village[:9],
                    village_code=village,
                    address=head["address"],
                ),
                area_type=AREA_TYPES[head["area_type"]],
                category=_CATEGORIES[head["category"]],
                monthly_amount_fen=_amount_fen(head["amount"]),
                first_paid_month=head["first_paid_month"],
                paid_up_to=head["paid_up_to"],
                next_review_on=head["next_review_on"],
                payee=Payee(
                    account_holder=head["account_holder"],
                    bank=head["bank"],
                    account_no=head["account_no"],
                ),
            )
        )
    errors.sort(
        key=lambda e: (
            e.row,
            [h for _, h in COLUMNS].index(e.column) if e.column in HEADERS.values() else -1,
        )
    )
    if errors:
        return LedgerCheck((), tuple(errors))
    return LedgerCheck(tuple(households), ())


def household_record(household: ImportedHousehold) -> dict[str, Any]:
    """The household as parsed, as JSON holds it: read back by `household_of_record` when its
    case's workflow is started, without parsing the whole file again."""
    h = household
    return {
        "key": h.key,
        "rows": list(h.rows),
        "members": [[m.name, m.id_number, m.relation.value] for m in h.members],
        "hukou": [
            h.hukou.province_code,
            h.hukou.county_code,
            h.hukou.township_code,
            h.hukou.village_code,
            h.hukou.address,
        ],
        "area_type": h.area_type.value,
        "category": h.category.value,
        "monthly_amount_fen": h.monthly_amount_fen,
        "first_paid_month": h.first_paid_month,
        "paid_up_to": h.paid_up_to,
        "next_review_on": h.next_review_on,
        "payee": [h.payee.account_holder, h.payee.bank, h.payee.account_no],
    }


def household_of_record(record: dict[str, Any]) -> ImportedHousehold:
    province, county, township, village, address = record["hukou"]
    holder, bank, account = record["payee"]
    return ImportedHousehold(
        key=record["key"],
        rows=tuple(record["rows"]),
        members=tuple(
            Member(name=name, id_number=id_number, relation=Relation(relation))
            for name, id_number, relation in record["members"]
        ),
        hukou=Hukou(
            province_code=province,
            county_code=county,
            township_code=township,
            village_code=village,
            address=address,
        ),
        area_type=AreaType(record["area_type"]),
        category=HouseholdCategory(record["category"]),
        monthly_amount_fen=int(record["monthly_amount_fen"]),
        first_paid_month=record["first_paid_month"],
        paid_up_to=record["paid_up_to"],
        next_review_on=record["next_review_on"],
        payee=Payee(account_holder=holder, bank=bank, account_no=account),
    )


def application_of(household: ImportedHousehold) -> Application:
    """The household as an application would hold it: the file of an imported case."""
    return Application(
        members=household.members,
        hukou=household.hukou,
        area_type=household.area_type,
        payee=household.payee,
    )


# The stage sequence an imported case starts at: seq 1 is its import into the recipient phase.
IMPORTED_SEQ = 1


def recipient_state_of(household: ImportedHousehold) -> RecipientState:
    """The state an imported case starts its recipient phase in (CaseInput.recipient)."""
    return RecipientState(
        certificate_no=household.certificate_no,
        category=household.category,
        monthly_amount_fen=household.monthly_amount_fen,
        area_type=household.area_type,
        members=household.members,
        cycle=1,
        next_review_on=household.next_review_on,
        seq=IMPORTED_SEQ,
        payee=household.payee,
        ledger_month=household.opening_month,
        paid_from=household.opening_month,
    )

"""Closed vocabularies of the procedure. Values are stable: they are stored and sent over the wire."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where a case stands in the procedure (DOMAIN.md, "The application procedure")."""

    APPLICATION = "application"  # 申请: filed, materials being completed
    SURVEY = "survey"  # 入户调查
    VERIFICATION = "verification"  # 家庭经济状况核对
    # 核对结果告知与举证 (mca-2021 Art. 18): entered only when verification contradicts the
    # declaration; not part of any pack's procedure, so no other case passes through it.
    EVIDENCE = "evidence"
    EVALUATION = "evaluation"  # 民主评议
    POSTING_BEFORE_REVIEW = "posting_before_review"  # 第一榜
    TOWNSHIP_REVIEW = "township_review"  # 乡镇审核
    POSTING_BEFORE_APPROVAL = "posting_before_approval"  # 第二榜
    COUNTY_APPROVAL = "county_approval"  # 县级审批
    POSTING_AFTER_APPROVAL = "posting_after_approval"  # 第三榜
    RECIPIENT = "recipient"  # 动态管理
    CLOSED = "closed"


class CaseStatus(StrEnum):
    FILED = "filed"  # accepted by the API, workflow not yet running its first step
    MATERIALS_INCOMPLETE = "materials_incomplete"
    IN_PROGRESS = "in_progress"
    RECEIVING = "receiving"  # approved: the household receives benefit
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"
    TERMINATED = "terminated"  # 终止办理, e.g. for non-cooperation
    EXITED = "exited"  # 停发: benefit ended in the recipient phase

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STATUSES


CLOSED_STATUSES = frozenset(
    {CaseStatus.WITHDRAWN, CaseStatus.REFUSED, CaseStatus.TERMINATED, CaseStatus.EXITED}
)


class AreaType(StrEnum):
    URBAN = "urban"
    RURAL = "rural"


class Relation(StrEnum):
    """Relation to the head of household (户主)."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    SIBLING = "sibling"
    CHILD_IN_LAW = "child_in_law"
    OTHER = "other"


class IncomeCategory(StrEnum):
    """Declared income categories. Which are counted follows 陕西 第八条 / 第九条 (DOMAIN.md)."""

    # counted
    WAGES = "wages"  # 工资性收入 (after tax and personal social-insurance contributions)
    BUSINESS = "business"  # 家庭经营净收入
    PROPERTY = "property"  # 财产性收入
    TRANSFER = "transfer"  # 转移性收入
    RENTAL = "rental"  # 出租收入
    FAMILY_SUPPORT = "family_support"  # 赡养费/抚养费/扶养费
    INHERITANCE_GIFTS = "inheritance_gifts"  # 继承、接受赠予
    OTHER_COUNTED = "other_counted"
    # not counted
    PREFERENTIAL_CARE = "preferential_care"  # 优抚对象抚恤金、补助金
    HONOURS = "honours"  # 政府颁发的荣誉性奖金
    STUDENT_AID = "student_aid"  # 奖学金、助学金
    FAMILY_PLANNING = "family_planning"  # 独生子女费、计划生育奖励
    MEDICAL_REIMBURSEMENT = "medical_reimbursement"  # 新农合报销
    MEDICAL_ASSISTANCE = "medical_assistance"  # 医疗救助
    TEMPORARY_RELIEF = "temporary_relief"  # 临时救助
    # Pensions, told apart (mca-2021 Art. 13): the residents' basic pension (城乡居民基本养老保险
    # 基础养老金) is left out while the pack says so; an employee pension or retirement pay
    # (职工基本养老金、离退休金) is transfer income, and excludes where the pack keeps 003's rule.
    RESIDENT_BASIC_PENSION = "resident_basic_pension"
    EMPLOYEE_PENSION = "employee_pension"

    @property
    def counted(self) -> bool:
        return self in COUNTED_INCOME


COUNTED_INCOME = frozenset(
    {
        IncomeCategory.WAGES,
        IncomeCategory.BUSINESS,
        IncomeCategory.PROPERTY,
        IncomeCategory.TRANSFER,
        IncomeCategory.RENTAL,
        IncomeCategory.FAMILY_SUPPORT,
        IncomeCategory.INHERITANCE_GIFTS,
        IncomeCategory.OTHER_COUNTED,
        IncomeCategory.EMPLOYEE_PENSION,
    }
)
# Counted or not by the case's rule pack (eligibility.counted_income_fen_month).
PACK_COUNTED_INCOME = frozenset({IncomeCategory.RESIDENT_BASIC_PENSION})


class VehicleKind(StrEnum):
    CAR = "car"
    VAN = "van"
    TRUCK = "truck"
    SHIP = "ship"
    # Motorcycles, tricycles and farm machinery are working tools, not a must-exclude asset.
    MOTORCYCLE = "motorcycle"
    TRICYCLE = "tricycle"
    FARM_MACHINERY = "farm_machinery"


class Material(StrEnum):
    """Documents an application needs (004 line 102; 003 for disability and illness)."""

    APPLICATION_FORM = "application_form"
    INCOME_ASSET_DECLARATION = "income_asset_declaration"
    VERIFICATION_AUTHORISATION = "verification_authorisation"
    HOUSEHOLD_REGISTER = "household_register"
    ID_CARDS = "id_cards"
    DISABILITY_CERTIFICATE = "disability_certificate"
    MEDICAL_RECORDS = "medical_records"
    # 刚性支出 (mca-2021 Art. 13): bills or receipts of the costs a disability or serious
    # illness adds; without them the cost is shown but not deducted.
    RIGID_EXPENSE_RECEIPTS = "rigid_expense_receipts"
    # 委托申请 (mca-2021 Art. 6): the written mandate of a proxy applicant.
    PROXY_MANDATE = "proxy_mandate"
    # 居住证 (mca-2021 Art. 5): applying where one lives, not where one's hukou is.
    RESIDENCE_PERMIT = "residence_permit"


class DisabilityKind(StrEnum):
    """Kind of disability on the certificate (残疾人证); Art. 8 names grade 3 intellectual and
    mental disability beside grades 1–2 of any kind."""

    VISUAL = "visual"
    HEARING = "hearing"
    SPEECH = "speech"
    PHYSICAL = "physical"
    INTELLECTUAL = "intellectual"
    MENTAL = "mental"
    MULTIPLE = "multiple"


class RigidExpenseKind(StrEnum):
    DISABILITY = "disability"  # 因残疾增加的刚性支出 (rehabilitation, aids, care)
    ILLNESS = "illness"  # 因患重病增加的刚性支出 (treatment not reimbursed)


class ProxyKind(StrEnum):
    VILLAGE_COMMITTEE = "village_committee"  # 村（居）民委员会
    OTHER_PERSON = "other_person"  # 其他人


class SupportRule(StrEnum):
    """How the support a legally obliged relative (赡养/抚养/扶养义务人) owes is counted."""

    AGREED = "agreed"  # the amount agreed, ordered by a court, or paid: as declared
    CAPACITY = "capacity"  # at least a share of what the obligor's family earns above the line


class Role(StrEnum):
    VILLAGE_CASEWORKER = "village_caseworker"
    TOWNSHIP_CASEWORKER = "township_caseworker"
    COUNTY_APPROVER = "county_approver"
    SUPERVISOR = "supervisor"
    OPS = "ops"
    AUDITOR = "auditor"
    # 县级用户管理员: adds and disables the users of its county; no case work of its own.
    USER_ADMIN = "user_admin"
    SYSTEM = "system"


class NoticeKind(StrEnum):
    ACCEPTANCE = "acceptance"  # 受理通知书
    MATERIALS_INCOMPLETE = "materials_incomplete"  # 一次性告知书
    WITHDRAWAL = "withdrawal"  # 撤回申请确认书
    APPROVAL = "approval"  # 最低生活保障审批通知书 (with the 低保证 number)
    REFUSAL = "refusal"  # 不予批准通知书
    TERMINATION = "termination"  # 终止办理通知书
    PAYMENT_CHANGE = "payment_change"  # 低保金变更（增发/减发/暂停/恢复/停发）通知书
    VERIFICATION_FINDINGS = "verification_findings"  # 家庭经济状况核对结果告知书 (Art. 18)


class AuditAction(StrEnum):
    """What an audit entry records. An action on a case (dibao.domain.actions.CASE_ACTIONS) is
    audited under its own key: the member of the same name and value as its `Action`."""

    FILE_APPLICATION = "file_application"
    IMPORT_LEDGER = "import_ledger"  # a household of the county's ledger (台账导入)
    PRINT_CERTIFICATE_LETTER = "print_certificate_letter"  # 低保证明, with its purpose
    MATERIALS = "materials"
    WITHDRAW = "withdraw"
    SURVEY = "survey"
    EVALUATION = "evaluation"
    EVIDENCE = "evidence"  # the family's answer to a failed check (Art. 18)
    OBJECTION = "objection"
    TOWNSHIP_REVIEW = "township_review"
    COUNTY_VISIT = "county_visit"
    COUNTY_DECISION = "county_decision"
    EXTEND_DEADLINE = "extend_deadline"
    TERMINATE = "terminate"
    REVIEW = "review"
    SIGN_IN = "sign_in"
    LABOUR_ABSENCE = "labour_absence"
    CIRCUMSTANCE = "circumstance"
    APPLY_STANDARD = "apply_standard"
    REEMPLOYMENT = "reemployment"
    WORK_REFUSAL = "work_refusal"
    HOUSEHOLD_CHANGE = "household_change"
    PAYEE = "payee"
    RETRY_STEP = "retry_step"
    SKIP_STEP = "skip_step"
    CLOSE_CASE = "close_case"  # ops closed the case at a step that could not go on
    # A complaint about the case (dibao/domain/complaints.py), each step of it; the complainant
    # is never in the hashed payload.
    COMPLAINT_RECEIVE = "complaint_receive"
    COMPLAINT_ASSIGN = "complaint_assign"
    COMPLAINT_INVESTIGATE = "complaint_investigate"
    COMPLAINT_ANSWER = "complaint_answer"
    COMPLAINT_CLOSE = "complaint_close"


class Opinion(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class PostingOutcome(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"  # ran its full term without objection
    INTERRUPTED = "interrupted"  # an objection sent the case back
    CANCELLED = "cancelled"  # the case closed during the posting


class UserAuditAction(StrEnum):
    """What the user audit log (user_audit) records of an account."""

    ADD_USER = "add_user"
    CHANGE_USER = "change_user"  # role, jurisdiction or name
    DISABLE_USER = "disable_user"
    ENABLE_USER = "enable_user"
    ISSUE_ONE_TIME_PASSWORD = "issue_one_time_password"
    CHANGE_OWN_PASSWORD = "change_own_password"

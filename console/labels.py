"""The documents' own Chinese terms for the enums the pages show."""

from __future__ import annotations

from dibao.domain.enums import (
    CaseStatus,
    IncomeCategory,
    Material,
    NoticeKind,
    Relation,
    Role,
    Stage,
    VehicleKind,
)

STAGE: dict[Stage, str] = {
    Stage.APPLICATION: "申请受理",
    Stage.SURVEY: "入户调查",
    Stage.VERIFICATION: "家庭经济状况核对",
    Stage.EVIDENCE: "核对结果告知与举证",
    Stage.EVALUATION: "民主评议",
    Stage.POSTING_BEFORE_REVIEW: "第一榜公示",
    Stage.TOWNSHIP_REVIEW: "乡镇审核",
    Stage.POSTING_BEFORE_APPROVAL: "第二榜公示",
    Stage.COUNTY_APPROVAL: "县级审批",
    Stage.POSTING_AFTER_APPROVAL: "第三榜公示",
    Stage.RECIPIENT: "动态管理",
    Stage.CLOSED: "已办结",
}

STATUS: dict[CaseStatus, str] = {
    CaseStatus.FILED: "已登记",
    CaseStatus.MATERIALS_INCOMPLETE: "材料不全",
    CaseStatus.IN_PROGRESS: "办理中",
    CaseStatus.RECEIVING: "享受低保",
    CaseStatus.WITHDRAWN: "已撤回",
    CaseStatus.REFUSED: "不予批准",
    CaseStatus.TERMINATED: "终止办理",
    CaseStatus.EXITED: "已停发",
}

ROLE: dict[Role, str] = {
    Role.VILLAGE_CASEWORKER: "村（居）民委员会经办人",
    Role.TOWNSHIP_CASEWORKER: "乡镇（街道）经办人",
    Role.COUNTY_APPROVER: "县级民政部门审批人",
    Role.SUPERVISOR: "监督人员",
    Role.AUDITOR: "审计人员",
    Role.OPS: "运维人员",
    Role.USER_ADMIN: "县级用户管理员",
    Role.SYSTEM: "系统",
}

# Who a stage waits for, as the inbox and the case page say it.
WAITING: dict[Stage, str] = {
    Stage.APPLICATION: "申请人补齐材料（村经办人跟进）",
    Stage.SURVEY: "入户调查报告（村、乡镇经办人）",
    Stage.VERIFICATION: "家庭经济状况核对（系统）",
    Stage.EVIDENCE: "申请人就核对结果举证（乡镇经办人接收，期满按核对结果办理）",
    Stage.EVALUATION: "民主评议结果（村、乡镇经办人）",
    Stage.POSTING_BEFORE_REVIEW: "公示期满",
    Stage.TOWNSHIP_REVIEW: "乡镇审核意见（乡镇经办人）",
    Stage.POSTING_BEFORE_APPROVAL: "公示期满",
    Stage.COUNTY_APPROVAL: "县级审批决定（县级民政部门）",
    Stage.POSTING_AFTER_APPROVAL: "公示期满",
    Stage.RECIPIENT: "动态管理（定期复核）",
    Stage.CLOSED: "无",
}

NOTICE: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTANCE: "受理通知书",
    NoticeKind.MATERIALS_INCOMPLETE: "一次性告知书",
    NoticeKind.WITHDRAWAL: "撤回申请确认书",
    NoticeKind.APPROVAL: "最低生活保障审批通知书",
    NoticeKind.REFUSAL: "不予批准通知书",
    NoticeKind.TERMINATION: "终止办理通知书",
    NoticeKind.PAYMENT_CHANGE: "低保金变更通知书",
    NoticeKind.VERIFICATION_FINDINGS: "家庭经济状况核对结果告知书",
}

INCOME: dict[IncomeCategory, str] = {
    IncomeCategory.WAGES: "工资性收入",
    IncomeCategory.BUSINESS: "家庭经营净收入",
    IncomeCategory.PROPERTY: "财产性收入",
    IncomeCategory.TRANSFER: "转移性收入",
    IncomeCategory.RENTAL: "出租收入",
    IncomeCategory.FAMILY_SUPPORT: "赡养费、抚养费、扶养费",
    IncomeCategory.INHERITANCE_GIFTS: "继承、接受赠予所得",
    IncomeCategory.OTHER_COUNTED: "其他应计收入",
    IncomeCategory.PREFERENTIAL_CARE: "优抚对象抚恤金、补助金",
    IncomeCategory.HONOURS: "政府颁发的荣誉性奖金",
    IncomeCategory.STUDENT_AID: "奖学金、助学金",
    IncomeCategory.FAMILY_PLANNING: "独生子女费、计划生育奖励",
    IncomeCategory.MEDICAL_REIMBURSEMENT: "医疗保险报销",
    IncomeCategory.MEDICAL_ASSISTANCE: "医疗救助金",
    IncomeCategory.TEMPORARY_RELIEF: "临时救助金",
    IncomeCategory.RESIDENT_BASIC_PENSION: "城乡居民基本养老保险基础养老金",
    IncomeCategory.EMPLOYEE_PENSION: "职工养老金、离退休金",
}

MATERIAL: dict[Material, str] = {
    Material.APPLICATION_FORM: "最低生活保障申请书",
    Material.INCOME_ASSET_DECLARATION: "家庭收入和财产状况申报表",
    Material.VERIFICATION_AUTHORISATION: "家庭经济状况核对授权书",
    Material.HOUSEHOLD_REGISTER: "户口簿",
    Material.ID_CARDS: "居民身份证",
    Material.DISABILITY_CERTIFICATE: "残疾证",
    Material.MEDICAL_RECORDS: "病历或诊断证明",
    Material.RIGID_EXPENSE_RECEIPTS: "刚性支出票据",
    Material.PROXY_MANDATE: "委托申请书",
    Material.RESIDENCE_PERMIT: "居住证",
}

RELATION: dict[Relation, str] = {
    Relation.HEAD: "户主",
    Relation.SPOUSE: "配偶",
    Relation.CHILD: "子女",
    Relation.PARENT: "父母",
    Relation.GRANDPARENT: "祖父母、外祖父母",
    Relation.GRANDCHILD: "孙子女、外孙子女",
    Relation.SIBLING: "兄弟姐妹",
    Relation.CHILD_IN_LAW: "儿媳、女婿",
    Relation.OTHER: "其他",
}

VEHICLE: dict[VehicleKind, str] = {
    VehicleKind.CAR: "小汽车",
    VehicleKind.VAN: "面包车",
    VehicleKind.TRUCK: "货车",
    VehicleKind.SHIP: "船舶",
    VehicleKind.MOTORCYCLE: "摩托车",
    VehicleKind.TRICYCLE: "三轮车",
    VehicleKind.FARM_MACHINERY: "农用机械",
}

AUDIT: dict[str, str] = {
    "file_application": "登记申请",
    "materials": "补齐材料",
    "withdraw": "撤回申请",
    "survey": "提交入户调查",
    "evaluation": "录入民主评议",
    "evidence": "登记核对异议证明材料",
    "objection": "登记异议",
    "township_review": "乡镇审核",
    "county_visit": "县级入户核查",
    "county_decision": "县级审批",
    "extend_deadline": "延长办理时限",
    "terminate": "终止办理",
    "review": "定期复核",
    "sign_in": "登记签到",
    "labour_absence": "登记公益劳动缺勤",
    "circumstance": "报告情况变化",
    "apply_standard": "执行新标准",
    "reemployment": "登记就业",
    "work_refusal": "登记拒绝就业",
    "household_change": "家庭人口变化",
    "payee": "变更收款账户",
    "retry_step": "运维重试",
    "skip_step": "运维跳过",
    "close_case": "运维结案",
    "lookup_id_number": "按身份证号查询",
    "complaint_receive": "登记举报投诉",
    "complaint_assign": "交办举报投诉",
    "complaint_investigate": "核查举报投诉",
    "complaint_answer": "书面答复举报投诉",
    "complaint_close": "办结举报投诉",
}

CHANGE: dict[str, str] = {
    "start": "批准享受",
    "increase": "增发",
    "decrease": "减发",
    "unchanged": "复核维持",
    "stop": "停发",
    "suspend": "暂停",
    "resume": "恢复",
}

TABLES: dict[str, dict[str, str]] = {
    "stage": {k.value: v for k, v in STAGE.items()},
    "status": {k.value: v for k, v in STATUS.items()},
    "role": {k.value: v for k, v in ROLE.items()},
    "waiting": {k.value: v for k, v in WAITING.items()},
    "notice": {k.value: v for k, v in NOTICE.items()},
    "income": {k.value: v for k, v in INCOME.items()},
    "material": {k.value: v for k, v in MATERIAL.items()},
    "relation": {k.value: v for k, v in RELATION.items()},
    "vehicle": {k.value: v for k, v in VEHICLE.items()},
    "audit": AUDIT,
    "change": CHANGE,
}


def zh(table: str, value: object) -> str:
    """The Chinese term of an enum value; the value itself when the table lacks it."""
    key = value.value if hasattr(value, "value") else str(value)
    return TABLES[table].get(str(key), str(key))

"""Error messages in Chinese, for the console's forms.

The API answers in English (pydantic's error types, the domain's FieldError messages, the
workflow validators' rejections); the console shows the same refusal in the words of the office.
Each message is matched by pydantic's error type or by the English text's pattern; what no
pattern knows is shown as it is, behind a Chinese lead-in, rather than hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# pydantic error `type` → message; {…} filled from the error's `ctx`.
_PYDANTIC: dict[str, str] = {
    "missing": "必填",
    "string_too_short": "至少 {min_length} 个字",
    "string_too_long": "最多 {max_length} 个字",
    "string_pattern_mismatch": "格式不对",
    "string_type": "须为文字",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "decimal_parsing": "须为数字，例如 1200.50",
    "decimal_type": "须为数字，例如 1200.50",
    "decimal_max_places": "最多两位小数（分）",
    "decimal_max_digits": "数额过大",
    "decimal_whole_digits": "数额过大",
    "finite_number": "须为数字",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "须小于 {lt}",
    "enum": "请从列表中选择",
    "literal_error": "请从列表中选择",
    "bool_parsing": "请勾选或不勾选",
    "date_parsing": "日期格式为 年-月-日（YYYY-MM-DD）",
    "date_from_datetime_parsing": "日期格式为 年-月-日（YYYY-MM-DD）",
    "date_type": "日期格式为 年-月-日（YYYY-MM-DD）",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "list_type": "格式不对",
    "extra_forbidden": "不认识的栏目",
    "model_type": "格式不对",
}

# English messages (domain FieldErrors, workflow validators, API refusals) → Chinese.
# First match wins; groups are put into the Chinese text.
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in [
        # ID numbers (dibao/domain/application.py)
        (r"^must be 18 characters", "身份证号须为18位：前17位是数字，末位是数字或X"),
        (
            r"^check digit, birth date or region code is wrong",
            "身份证号校验位、出生日期或地区码有误",
        ),
        (r"^birth date lies in the future", "身份证号中的出生日期晚于今天"),
        (r"^same ID number as members\[(\d+)\]", "与第{n1}位成员的身份证号相同"),
        (
            r"^exactly one member must have relation 'head', found (\d+)",
            "须有且只有一位户主（现有 {0} 位）",
        ),
        (r"^at least the head of household is required", "至少须填写户主"),
        (r"^at most (\d+) members", "最多 {0} 位成员"),
        (r"^must be (\d+) digits$", "须为 {0} 位数字"),
        (r"^does not lie within", "不属于所选的上级行政区划"),
        (r"^must not be (blank|empty)", "不能为空"),
        (r"^must not be negative", "不能为负数"),
        (r"^must be 1 to 4", "残疾等级为 1 至 4 级"),
        (r"^must be 12 to 30 digits", "账号须为 12 至 30 位数字，不含空格"),
        (
            r"^the account holder is a member of the household",
            "开户人是本户成员，不是代领人，请不要勾选“代领”",
        ),
        (r"^an agent \(代领人\) collects for the household only", "代领须写明代领原因"),
        (r"^an agent_reason is given, but agent is false", "填写了代领原因，但未勾选“代领”"),
        (
            r"^must be the name of a member of the household",
            "开户人须为本户成员（按姓名），否则请勾选“代领”并写明原因",
        ),
        (r"is provided by signing it", "签字类材料请勾选相应的“已签字”项，不要在材料中勾选"),
        (r"^a day is written YYYY-MM-DD", "日期格式为 年-月-日（YYYY-MM-DD）"),
        (r"^must be a date, YYYY-MM-DD", "日期格式为 年-月-日（YYYY-MM-DD）"),
        (r"^lies in the future", "日期不能晚于今天"),
        (r"^invalid text", "含有不可见的控制字符，请删除后重填"),
        # surveys
        (
            r"^at least (\d+) different investigators must take part",
            "至少须有 {0} 名不同的调查人员（谁清查、谁签字、谁负责）",
        ),
        (r"^the survey must record the household's members", "调查须记录家庭成员"),
        (r"^must describe what was seen", "请填写入户所见的生活状况"),
        (
            r"^investigator (\S+) is a registered near relative",
            "调查人员 {0} 是本户备案的近亲属，须回避",
        ),
        # workflow validators (field: why)
        (r"^nothing to supplement", "未选择任何补齐的材料"),
        (r"^a withdrawal needs the applicant's reason", "撤回须写明申请人的理由"),
        (r"^termination needs a reason", "终止办理须写明理由（将写入通知书）"),
        (
            r"^(\d+) attended; the rule pack requires at least (\d+)",
            "到会 {0} 人，规则要求至少 {1} 人",
        ),
        (r"^adds up to (\d+), but (\d+) attended", "各类人员合计 {0} 人，与到会人数 {1} 不符"),
        (r"^vote counts must not be negative", "票数不能为负数"),
        (r"^(\d+) votes cast by (\d+) attendees", "{1} 名到会人员投出 {0} 票，票数超过人数"),
        (r"^say what the objection is", "请写明异议内容"),
        (r"^a negative opinion needs its reasons", "不同意须写明理由"),
        (r"^name who visited", "请填写入户人员"),
        (r"^record what the visit found", "请填写核查情况"),
        (r"^a refusal must give the household its reasons", "不予批准须写明理由"),
        (r"^must be more than zero", "须大于零"),
        (r"^no computed amount to default to", "没有测算金额，请填写月保障金额"),
        (r"^no assessed category to default to", "没有评定类别，请选择类别"),
        (r"^required because", "与测算结果不同，须写明调整理由"),
        (r"^say what changed", "请写明发生了什么变化（将写入通知书）"),
        (r"^not a member of this household", "不是本户成员的身份证号"),
        (r"^an extension is for special cases", "延期须写明特殊情况"),
        # refusals of the whole action (403 / 409)
        (
            r"^this action belongs to stage '(\w+)'; the case is at stage '(\w+)'",
            "该操作属于“{s0}”环节，案件目前在“{s1}”环节",
        ),
        (r"^the case is closed", "案件已办结"),
        (r"^materials are already complete", "材料已齐全，无需补齐"),
        (r"^a survey report was already submitted", "入户调查已提交过"),
        (r"^the county has already decided", "县级已作出审批决定"),
        (r"^a county home visit is required before the decision", "审批前须先完成县级入户核查"),
        (
            r"^a withdrawal or termination of this case was already accepted",
            "该案件的撤回或终止已被受理",
        ),
        (
            r"^the case is approved; ending benefit is a payment change",
            "案件已批准；停发低保金请走变更，不能撤回",
        ),
        (r"^objections are taken during a public posting", "异议只在公示期间受理"),
        (r"^only a household receiving benefit has this", "只有正在享受低保的家庭才有此项"),
        (r"^no re-review is due; the next is on (\S+?)\.", "现在不需要复核；下次复核日期为 {0}"),
        (r"^a re-review survey is already being processed", "复核调查正在处理中"),
        (r"^a gradual exit is already running until (\S+)", "渐退期已在进行，至 {0}"),
        (r"^the time limit was already extended", "办理时限已延长过一次"),
        (
            r"^(\S+) is registered as a near relative of this household",
            "{0} 是本户备案的近亲属，须回避",
        ),
        (r"^(\S+) may not .*: (\S+) is a registered near relative", "您是本户备案的近亲属，须回避"),
        (r"is a registered near relative of the household", "您是本户备案的近亲属，须回避"),
        (r"^an? (\w+) may not ([^;]+)", "您的角色（{r0}）不能办理此项"),
        (
            r"outside (your|the user's) jurisdiction|not in (your|the user's) jurisdiction",
            "该户不在您的辖区内",
        ),
        (
            r"^the household already has an open case (\S+)",
            "该户已有在办案件 {0}，请补齐材料或撤回后再申请",
        ),
        (
            r"^other filings of this household or key were being saved",
            "同一时间有另一份该户的申请正在保存，请重新提交",
        ),
        (
            r"^this key was already used for a different application",
            "此表单已提交过另一份申请，请重新打开新申请页",
        ),
        (
            r"^(\S+) prepared this roster \(制表人\) and may not also check it",
            "{0} 是本花名册的制表人，不能同时审核发放（须由另一名审核人办理）",
        ),
        (
            r"^payroll run (\S+) of county \d+ is still a draft",
            "{0} 尚未审核发放，须先发放或作废后再生成",
        ),
        (r"^(\S+) is outside your county \((\d+)\)", "{0} 不在您所在的县（{1}）内"),
        (
            r"^the role (\S+) is not one a user administrator gives",
            "县级用户管理员不能设置该角色（{0}）：只能设置村、乡镇经办人，县级审批人，监督、审计人员",
        ),
        (r"not found$", "未找到"),
        (r"^the case workflow did not answer", "案件流程没有应答，操作未执行，请稍后再试"),
    ]
]

STAGE_ZH = {
    "application": "申请",
    "survey": "入户调查",
    "verification": "核对",
    "evaluation": "民主评议",
    "posting_before_review": "第一榜公示",
    "township_review": "乡镇审核",
    "posting_before_approval": "第二榜公示",
    "county_approval": "县级审批",
    "posting_after_approval": "第三榜公示",
    "recipient": "动态管理",
    "closed": "已办结",
}

ROLE_ZH = {
    "village_caseworker": "村（社区）经办人",
    "township_caseworker": "乡镇经办人",
    "county_approver": "县级审批人",
    "supervisor": "监督人员",
    "auditor": "审计人员",
    "ops": "运维人员",
    "user_admin": "县级用户管理员",
    "system": "系统",
}


_OVERRIDES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^the assessment found the household ineligible$"), "测算结果为不符合条件"),
    (re.compile(r"^the amount differs from the computed (\S+) 元$"), "金额与测算的 {0} 元不同"),
    (re.compile(r"^the category differs from the assessed (\w+)$"), "类别与评定的 {0} 类不同"),
    (re.compile(r"^no assessment is available$"), "没有测算结果"),
]


def _override_zh(reasons: str) -> str:
    """Why a county decision needs its override reason, each reason in Chinese."""
    parts = []
    for reason in reasons.split(" and "):
        for pattern, zh in _OVERRIDES:
            m = pattern.match(reason.strip())
            if m:
                parts.append(zh.format(*m.groups()))
                break
        else:
            parts.append(reason)
    return "、".join(parts) + "，须写明调整理由"


def message_zh(message: str) -> str:
    """One English message in Chinese; unknown ones keep their text behind a lead-in."""
    if message.startswith("required because "):
        return _override_zh(message.removeprefix("required because "))
    for pattern, zh in _MESSAGES:
        m = pattern.search(message)
        if m is None:
            continue
        groups = m.groups()
        named: dict[str, Any] = {}
        if groups and groups[0] and groups[0].isdigit():
            named["n1"] = int(groups[0]) + 1
        named["s0"] = STAGE_ZH.get(groups[0], groups[0]) if groups else ""
        named["s1"] = STAGE_ZH.get(groups[1], groups[1]) if len(groups) > 1 else ""
        named["r0"] = ROLE_ZH.get(groups[0], groups[0]) if groups else ""
        return zh.format(*groups, **named)
    return f"未被接受：{message}"


def pydantic_zh(error: Mapping[str, Any]) -> str:
    """One pydantic error (ValidationError.errors() item) in Chinese."""
    kind = str(error.get("type", ""))
    if kind == "value_error":
        # An AfterValidator's or the domain's ValueError: its text after pydantic's prefix.
        text = str(error.get("msg", "")).removeprefix("Value error, ")
        return message_zh(text)
    template = _PYDANTIC.get(kind)
    if template is None:
        return "填写有误"
    ctx = error.get("ctx") or {}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split("{")[0].strip() or "填写有误"


def field_name(loc: Sequence[str | int]) -> str:
    """A location (('body', 'members', 0, 'id_number') or without 'body') as the form's
    field name: members.0.id_number."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts)


def errors_by_field(details: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """FastAPI/pydantic error details ({loc, msg, type}) as {field name: Chinese message};
    the first error of a field is shown ('' is the form as a whole)."""
    out: dict[str, str] = {}
    for detail in details:
        name = field_name(detail.get("loc", ()))
        out.setdefault(name, pydantic_zh(detail))
    return out

"""Jinja2 environment for official documents: autoescaped, and an unknown name is an error.

A notice with a silently empty field would go to a family looking complete; StrictUndefined
makes it fail in the activity instead, where it is retried and shows up to ops.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dibao.domain.calendar import CHINA_TZ
from dibao.domain.enums import NoticeKind

TEMPLATE_FOR_KIND: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTANCE: "notices/acceptance.html.j2",
    NoticeKind.MATERIALS_INCOMPLETE: "notices/materials_incomplete.html.j2",
    NoticeKind.WITHDRAWAL: "notices/withdrawal.html.j2",
    NoticeKind.APPROVAL: "notices/approval.html.j2",
    NoticeKind.REFUSAL: "notices/refusal.html.j2",
    NoticeKind.TERMINATION: "notices/termination.html.j2",
    NoticeKind.PAYMENT_CHANGE: "notices/payment_change.html.j2",
    NoticeKind.VERIFICATION_FINDINGS: "notices/verification_findings.html.j2",
}

POSTING_TITLES: dict[str, str] = {
    "posting_before_review": "第一榜：民主评议结果公示",
    "posting_before_approval": "第二榜：乡镇（街道）审核结果公示",
    "posting_after_approval": "第三榜：县级审批结果公示",
    "recipient": "动态管理：低保金增发、减发、暂停、恢复、停发公示",
}


def chinese_date(value: datetime) -> str:
    local = value.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日"


@lru_cache(maxsize=4)
def environment(templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["chinese_date"] = chinese_date
    return env


def render_notice(templates_dir: Path, kind: NoticeKind, context: dict[str, Any]) -> str:
    return environment(templates_dir).get_template(TEMPLATE_FOR_KIND[kind]).render(**context)


def render_page(templates_dir: Path, template: str, context: dict[str, Any]) -> str:
    return environment(templates_dir).get_template(template).render(**context)


def content_sha256(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()

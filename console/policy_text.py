"""The policy pages' messages in Chinese: the CSV parsers' problems (registry extracts, the
calendar, the region table) by line and column, as the office reads them."""

from __future__ import annotations

import re

from console.errors_zh import message_zh
from dibao.registry_csv import CsvError

REGISTRY_COLUMNS = {
    "id_number": "身份证号（id_number）",
    "kind": "记录类别（kind）",
    "amount_yuan": "金额（amount_yuan）",
    "detail": "说明（detail）",
    "as_of": "数据日期（as_of）",
    "header": "表头",
    "row": "整行",
    "file": "文件",
}

_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in [
        (r"^'(.*)' is not one of ", "“{0}”不是可用的记录类别"),
        (r"^'(.*)' is not a non-negative amount", "“{0}”不是金额：应为不带符号的元，最多两位小数"),
        (r"^is too large", "金额过大"),
        (r"^'(.*)' is not a date YYYY-MM-DD", "“{0}”不是日期，应为 年-月-日（YYYY-MM-DD）"),
        (
            r"^must be .*; found (.*)$",
            "表头应为 id_number,kind,amount_yuan,detail,as_of，实际为 {0}",
        ),
        (r"^the file is empty", "文件是空的"),
        (r"^has (\d+) fields, expected (\d+)", "有 {0} 栏，应为 {1} 栏"),
        (r"^is not UTF-8 text", "不是 UTF-8 编码的文本，请另存为“CSV UTF-8”"),
        (r"^is not well-formed CSV", "不是格式正确的 CSV（引号不配对等）"),
        (r"^has a header but no records", "只有表头，没有记录"),
    ]
]


def _reason_zh(reason: str) -> str:
    for pattern, zh in _REASONS:
        match = pattern.match(reason)
        if match:
            return zh.format(*match.groups())
    return message_zh(reason)


def registry_error_zh(error: CsvError) -> str:
    column = REGISTRY_COLUMNS.get(error.column, error.column)
    return f"第 {error.line} 行，{column}：{_reason_zh(error.reason)}"


_CALENDAR: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in [
        (
            r"^line (\d+): the header must be .*, got (.*)$",
            "第 {0} 行：表头应为 day,is_working_day,note，实际为 {1}",
        ),
        (r"^line (\d+): expected 3 fields .*, got (\d+)$", "第 {0} 行：应为 3 栏，实际 {1} 栏"),
        (r"^line (\d+): '(.*)' is not a date.*$", "第 {0} 行：“{1}”不是日期（YYYY-MM-DD）"),
        (r"^line (\d+): (\S+) is not in (\d+)$", "第 {0} 行：{1} 不在 {2} 年内"),
        (
            r"^line (\d+): (\S+) is already listed on line (\d+)$",
            "第 {0} 行：{1} 已在第 {2} 行列出",
        ),
        (
            r"^line (\d+): is_working_day must be .*, got '(.*)'$",
            "第 {0} 行：is_working_day 应为 1/0/是/否，实际为“{1}”",
        ),
        (r"^line (\d+): note is longer than (\d+) characters$", "第 {0} 行：备注超过 {1} 个字"),
        (
            r"^line (\d+): the file is empty.*$",
            "第 {0} 行：文件是空的，应有表头 day,is_working_day,note",
        ),
        (
            r"^line (\d+): neither UTF-8 nor GB18030 text$",
            "第 {0} 行：既不是 UTF-8 也不是 GB18030 文本",
        ),
        (r"^the file lists no days$", "文件中没有列出任何日期"),
    ]
]


def calendar_error_zh(message: str) -> str:
    for pattern, zh in _CALENDAR:
        match = pattern.match(message)
        if match:
            return zh.format(*match.groups())
    return message_zh(message)


_REGION_LINES = (
    (r"^expected code,name", "应为“代码,名称”两栏"),
    (r"^code must have 6, 9 or 12 digits", "代码应为6位（县）、9位（乡镇）或12位（村）数字"),
    (r"^name must have 1 to 100 characters", "名称应为1至100个字"),
    (r"^code (\d+) appears twice", "代码 {0} 重复出现"),
)


def region_error_zh(message: str) -> str:
    if message.startswith("a township or village whose parent"):
        return "有乡镇或村（社区）的上级既不在文件中，也未载入；未载入任何数据"
    if message.startswith("the file is not UTF-8"):
        return "文件不是 UTF-8 编码的文本"
    line = re.match(r"^line (\d+): (.*)$", message)
    if line:
        number, reason = line.groups()
        for english, zh in _REGION_LINES:
            found = re.match(english, reason)
            if found:
                return f"第 {number} 行：" + zh.format(*found.groups()) + "；未载入任何数据"
        return f"第 {number} 行：{message_zh(reason)}；未载入任何数据"
    return message_zh(message)

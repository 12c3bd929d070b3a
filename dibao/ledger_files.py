"""The ledger's files: the xlsx template, reading an uploaded xlsx or CSV, and the copy of the
upload with its bad cells marked (the check report a county fixes its workbook from)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from dibao.domain.ledger import COLUMNS, EXAMPLE_ROWS, LedgerError

_BY_HEADER = {header: key for key, header in COLUMNS}
_BAD = PatternFill("solid", fgColor="FFC7CE")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 200_000


@dataclass(frozen=True)
class LedgerFile:
    rows: list[dict[str, str]]  # by column key; the first is spreadsheet row 2
    errors: tuple[LedgerError, ...]  # the file itself cannot be read as a ledger


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "台账"
    sheet.append([header for _, header in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in EXAMPLE_ROWS:
        sheet.append([example[key] for key, _ in COLUMNS])
    for column, (_, header) in zip(sheet.iter_cols(min_row=1, max_row=1), COLUMNS, strict=True):
        sheet.column_dimensions[column[0].column_letter].width = max(12, 2 * len(header) + 4)
    # Text cells: an ID number or account typed into a number cell loses its digits.
    for column in sheet.iter_cols(min_row=2, max_row=1000):
        for cell in column:
            cell.number_format = "@"
    notes = book.create_sheet("说明")
    notes.append(["每行一名家庭成员；同一低保证号的各行为一户，户主行填写家庭信息。"])
    notes.append(
        ["城乡类别：城市/农村；保障类别：A类/B类/C类；年月格式 YYYY-MM，日期 YYYY-MM-DD。"]
    )
    notes.append(["已发放至年月：原系统已发放的最后一个月，本系统从下一个月开始发放。"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        text = value.strftime("%Y-%m-%d")  # a date cell
        return str(text)
    return str(value).strip()


def _rows_of_table(table: list[list[str]]) -> LedgerFile:
    if not table:
        return LedgerFile([], (LedgerError(1, "", "文件为空"),))
    header = [h.strip().lstrip("\ufeff") for h in table[0]]
    errors = [LedgerError(1, h, "缺少此列") for _, h in COLUMNS if h not in header] + [
        LedgerError(1, h, "不是模板中的列") for h in header if h and h not in _BY_HEADER
    ]
    if errors:
        return LedgerFile([], tuple(errors))
    if len(table) - 1 > MAX_ROWS:
        return LedgerFile([], (LedgerError(1, "", f"超过 {MAX_ROWS} 行，请分文件导入"),))
    keys = [_BY_HEADER.get(h, "") for h in header]
    rows: list[dict[str, str]] = []
    for values in table[1:]:
        if not any(v.strip() for v in values):
            rows.append({})  # kept so that row numbers stay those of the sheet
            continue
        rows.append({k: v for k, v in zip(keys, values, strict=False) if k})
    while rows and not rows[-1]:
        rows.pop()
    return LedgerFile(rows, ())


def read_ledger(content: bytes, filename: str) -> LedgerFile:
    """The file's rows by column, or why it is no ledger (wrong format, headers)."""
    if filename.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError:
                return LedgerFile([], (LedgerError(1, "", "CSV 文件应为 UTF-8 或 GB18030 编码"),))
        return _rows_of_table([list(r) for r in csv.reader(io.StringIO(text))])
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is no workbook
        return LedgerFile([], (LedgerError(1, "", "无法读取：请上传 xlsx 或 CSV 文件"),))
    sheet = book.worksheets[0]
    table = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return _rows_of_table(table)


def marked_copy(rows: list[dict[str, str]], errors: tuple[LedgerError, ...]) -> bytes:
    """The ledger as uploaded with each bad cell filled red and its error as a comment, and a
    sheet listing every error by row and column."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "台账"
    sheet.append([header for _, header in COLUMNS])
    for row in rows:
        sheet.append([row.get(key, "") for key, _ in COLUMNS])
    column_of = {header: i for i, (_, header) in enumerate(COLUMNS, start=1)}
    by_cell: dict[tuple[int, int], list[str]] = {}
    for error in errors:
        by_cell.setdefault((error.row, column_of.get(error.column, 1)), []).append(error.message)
    for (row_no, col_no), messages in by_cell.items():
        cell = sheet.cell(row=row_no, column=col_no)
        cell.fill = _BAD
        cell.comment = Comment("；".join(messages), "dibao")
    listing = book.create_sheet("错误清单")
    listing.append(["行", "列", "错误"])
    for error in errors:
        listing.append([error.row, error.column, error.message])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ledger_xlsx(rows: list[dict[str, str]]) -> bytes:
    """A ledger file from rows by column key (tests and the benchmark build theirs so)."""
    return marked_copy(rows, ())


def ledger_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([header for _, header in COLUMNS])
    for row in rows:
        writer.writerow([row.get(key, "") for key, _ in COLUMNS])
    return out.getvalue().encode("utf-8")

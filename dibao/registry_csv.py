"""Registry extracts as CSV files: parse and validate the whole file before anything is loaded.

Format (UTF-8, a byte-order mark is tolerated; one file per department, named on the command
line):

    id_number,kind,amount_yuan,detail,as_of
    61042319850101001X,wage_income,3200.00,某某建材有限公司,2026-10-31
    612522195803120027,home,,陕西省某县某镇 不动产权第0001234号,2026-10-31

`kind` is one of `RecordKind`; `amount_yuan` is empty or a non-negative amount in yuan with at
most two decimals (monthly for incomes, pensions and housing-fund contributions; the balance for
deposits); `detail` is free text (the vehicle kind for `vehicle`: car, van, truck, ship,
motorcycle, tricycle, farm_machinery); `as_of` is the extract date, YYYY-MM-DD, or empty.

A file with any error loads nothing: the office is told every error at once, by line and column,
and corrects the extract (a half-loaded extract would make verification silently wrong).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date

from dibao.domain.application import validate_id_number
from dibao.domain.verification import Department, RecordKind, RegistryRecord

COLUMNS = ("id_number", "kind", "amount_yuan", "detail", "as_of")

_AMOUNT = re.compile(r"(\d+)(?:\.(\d{1,2}))?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_FEN = 2**63 - 1  # the column is a PostgreSQL bigint


@dataclass(frozen=True)
class CsvError:
    line: int  # 1 is the header
    column: str  # a column name, or "header", "row", "file"
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.reason}"


@dataclass(frozen=True)
class ParsedExtract:
    records: tuple[RegistryRecord, ...]  # empty when there are errors
    errors: tuple[CsvError, ...]
    sha256: str  # of the file's bytes, as loaded: the same file is loaded once


def parse_amount_fen(text: str) -> int | None:
    """ "1234.5" -> 123450; None when the text is not a non-negative amount with <= 2 decimals."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)


def _parse_row(
    department: Department, line: int, fields: list[str], today: date | None
) -> tuple[RegistryRecord | None, list[CsvError]]:
    errors: list[CsvError] = []
    values = dict(zip(COLUMNS, (f.strip() for f in fields), strict=True))

    # Extracts sometimes carry the check character as a lower-case x.
    id_number = values["id_number"].upper()
    reason = validate_id_number(id_number, today)
    if reason:
        errors.append(CsvError(line, "id_number", reason))

    kind: RecordKind | None = None
    try:
        kind = RecordKind(values["kind"])
    except ValueError:
        allowed = ", ".join(k.value for k in RecordKind)
        errors.append(CsvError(line, "kind", f"{values['kind']!r} is not one of {allowed}"))

    amount_fen: int | None = None
    if values["amount_yuan"]:
        amount_fen = parse_amount_fen(values["amount_yuan"])
        if amount_fen is None:
            errors.append(
                CsvError(
                    line,
                    "amount_yuan",
                    f"{values['amount_yuan']!r} is not a non-negative amount in yuan with at "
                    "most 2 decimals (e.g. 1234.50; no sign, no thousands separator)",
                )
            )
        elif amount_fen > _MAX_FEN:
            errors.append(CsvError(line, "amount_yuan", "is too large"))
            amount_fen = None

    as_of = values["as_of"]
    if as_of:
        try:
            if not _DATE.fullmatch(as_of):
                raise ValueError
            date.fromisoformat(as_of)
        except ValueError:
            errors.append(CsvError(line, "as_of", f"{as_of!r} is not a date YYYY-MM-DD"))

    if errors or kind is None:
        return None, errors
    record = RegistryRecord(
        department=department,
        id_number=id_number,
        kind=kind,
        amount_fen=amount_fen,
        detail=values["detail"],
        as_of=as_of,
    )
    return record, []


def parse_extract(data: bytes, department: Department, today: date | None = None) -> ParsedExtract:
    """Every record of the file, or every error in it (and then no records).

    `today` (China date) also rules out ID numbers with a birth date in the future.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return ParsedExtract((), (CsvError(line, "file", "is not UTF-8 text"),), sha256)

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[CsvError] = []
    records: list[RegistryRecord] = []
    try:
        header = next(reader, None)
        if header is None:
            return ParsedExtract((), (CsvError(1, "header", "the file is empty"),), sha256)
        names = tuple(name.strip() for name in header)
        if names != COLUMNS:
            errors.append(
                CsvError(1, "header", f"must be {','.join(COLUMNS)}; found {','.join(names)}")
            )
            # Without the right columns every row would be misread: stop at the header.
            return ParsedExtract((), tuple(errors), sha256)
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue  # blank lines (a trailing newline) carry no record
            if len(fields) != len(COLUMNS):
                errors.append(
                    CsvError(line, "row", f"has {len(fields)} fields, expected {len(COLUMNS)}")
                )
                continue
            record, row_errors = _parse_row(department, line, fields, today)
            errors.extend(row_errors)
            if record is not None:
                records.append(record)
    except csv.Error as err:
        errors.append(CsvError(reader.line_num, "file", f"is not well-formed CSV ({err})"))
    if not errors and not records:
        # An empty extract loaded with --replace would wipe the department's records.
        errors.append(CsvError(2, "file", "has a header but no records"))
    if errors:
        return ParsedExtract((), tuple(errors), sha256)
    return ParsedExtract(tuple(records), (), sha256)

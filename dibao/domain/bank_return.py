"""The bank's return (回盘) of a released payroll run: which rows were paid, which came back
(退票) and why; checked against the bank file it answers, and reconciled to the fen.

The return file is CSV, in the bank file's order:

    RUN,<run_id>,<SHA-256 the bank file states>
    seq,case_id,amount_yuan,result,reason
    1,DB-…,727.50,paid,
    2,DB-…,300.00,failed,账户已销户
    TOTAL,<rows>,<paid yuan>,<failed rows>,<failed yuan>
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum

from dibao.domain.money import format_yuan

RETURN_HEADER = ("seq", "case_id", "amount_yuan", "result", "reason")


class RowResult(StrEnum):
    PAID = "paid"
    FAILED = "failed"


@dataclass(frozen=True)
class ReturnRow:
    seq: int
    case_id: str
    amount_fen: int
    result: RowResult
    reason: str


@dataclass(frozen=True)
class BankReturn:
    run_id: str
    rows: tuple[ReturnRow, ...]

    @property
    def failed(self) -> tuple[ReturnRow, ...]:
        return tuple(r for r in self.rows if r.result is RowResult.FAILED)

    @property
    def paid_fen(self) -> int:
        return sum(r.amount_fen for r in self.rows if r.result is RowResult.PAID)

    @property
    def returned_fen(self) -> int:
        return sum(r.amount_fen for r in self.failed)


class ReturnRefused(ValueError):
    """The file does not answer the run; the message says why (no account or name in it)."""


def _fen(text: str) -> int:
    whole, _, cents = text.strip().partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise ValueError(text)
    return int(whole) * 100 + int((cents + "00")[:2])


def bank_rows(bank_file: str) -> list[tuple[int, str, int]]:
    """(seq, case_id, amount) of each row of a bank file (dibao.domain.payroll.bank_file)."""
    out: list[tuple[int, str, int]] = []
    for row in list(csv.reader(io.StringIO(bank_file)))[1:]:
        if row and row[0].isdigit():
            out.append((int(row[0]), row[1].lstrip("'"), _fen(row[6])))
    return out


def parse_return(content: str, run_id: str, bank_file: str, bank_file_sha256: str) -> BankReturn:
    """The return as it answers the run, or ReturnRefused with the reason."""
    lines = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if len(lines) < 3 or lines[0][:1] != ["RUN"] or len(lines[0]) < 3:
        raise ReturnRefused("the file must begin with RUN,<run_id>,<bank file SHA-256>")
    if lines[0][1] != run_id:
        raise ReturnRefused(f"the file answers run {lines[0][1]}, not {run_id}")
    if lines[0][2] != bank_file_sha256:
        raise ReturnRefused(
            "the file answers a bank file with another checksum than the one released"
        )
    if tuple(lines[1]) != RETURN_HEADER:
        raise ReturnRefused("the second row must be the header " + ",".join(RETURN_HEADER))
    total = lines[-1]
    if total[:1] != ["TOTAL"] or len(total) < 5:
        raise ReturnRefused("the last row must be TOTAL,<rows>,<paid>,<failed rows>,<failed>")
    expected = bank_rows(bank_file)
    rows: list[ReturnRow] = []
    for number, line in enumerate(lines[2:-1], start=3):
        if len(line) < 4:
            raise ReturnRefused(f"row {number}: expected {len(RETURN_HEADER)} columns")
        try:
            seq, amount = int(line[0]), _fen(line[2])
            result = RowResult(line[3].strip())
        except ValueError:
            raise ReturnRefused(
                f"row {number}: seq must be a number, amount yuan with two decimals, "
                "result paid or failed"
            ) from None
        reason = line[4].strip() if len(line) > 4 else ""
        if result is RowResult.FAILED and not reason:
            raise ReturnRefused(f"row {number}: a failed row must give the bank's reason")
        rows.append(ReturnRow(seq, line[1].strip().lstrip("'"), amount, result, reason))
    if len(rows) != len(expected):
        raise ReturnRefused(f"the file has {len(rows)} rows; the bank file had {len(expected)}")
    for row, (seq, case_id, amount) in zip(rows, expected, strict=True):
        if (row.seq, row.case_id, row.amount_fen) != (seq, case_id, amount):
            raise ReturnRefused(
                f"row {row.seq}: does not match row {seq} of the bank file "
                f"(case {case_id}, {format_yuan(amount)})"
            )
    answer = BankReturn(run_id, tuple(rows))
    try:
        stated = (int(total[1]), _fen(total[2]), int(total[3]), _fen(total[4]))
    except ValueError:
        raise ReturnRefused("the TOTAL row must hold numbers") from None
    actual = (len(rows), answer.paid_fen, len(answer.failed), answer.returned_fen)
    if stated != actual:
        raise ReturnRefused(
            f"the TOTAL row states {stated[0]} rows, {format_yuan(stated[1])} paid, "
            f"{stated[2]} failed, {format_yuan(stated[3])} returned; the rows add up to "
            f"{actual[0]}, {format_yuan(actual[1])}, {actual[2]}, {format_yuan(actual[3])}"
        )
    return answer


def return_file(
    run_id: str, bank_file: str, bank_file_sha256: str, failures: dict[str, str]
) -> str:
    """A return file answering the bank file, the cases in `failures` failed with their
    reasons (what a bank sends back; tests and the README's walkthrough use it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("RUN", run_id, bank_file_sha256))
    writer.writerow(RETURN_HEADER)
    paid = failed = failed_rows = 0
    rows = bank_rows(bank_file)
    for seq, case_id, amount in rows:
        reason = failures.get(case_id, "")
        writer.writerow((seq, case_id, format_yuan(amount), "failed" if reason else "paid", reason))
        if reason:
            failed, failed_rows = failed + amount, failed_rows + 1
        else:
            paid += amount
    writer.writerow(("TOTAL", len(rows), format_yuan(paid), failed_rows, format_yuan(failed)))
    return out.getvalue()


@dataclass(frozen=True)
class Reconciliation:
    """A run against its bank's answer: paid + returned = released total, to the fen."""

    run_id: str
    released_fen: int
    paid_fen: int
    returned_fen: int
    returned: tuple[ReturnRow, ...]

    @property
    def balanced(self) -> bool:
        return self.paid_fen + self.returned_fen == self.released_fen

"""The bank's return is checked against the bank file it answers: a file of another run, of
another bank file, with a row or a total that does not match, is refused with the reason."""

from __future__ import annotations

import pytest

from dibao.domain.bank_return import ReturnRefused, parse_return, return_file
from dibao.domain.payroll import (
    HouseholdPay,
    Line,
    LineKind,
    PayrollRun,
    bank_file,
    stated_checksum,
)

RUN = PayrollRun(
    "610423",
    "2026-12",
    tuple(
        HouseholdPay(
            f"DB-{i}",
            f"C{i}",
            f"户{i}",
            (Line("2026-12", LineKind.REGULAR, 10_000 + i),),
            bank="银行",
            account_no=f"6228{i:012d}",
        )
        for i in range(4)
    ),
)
BANK = bank_file(RUN)
SHA = stated_checksum(BANK)


def test_a_matching_return_adds_up_to_the_released_total() -> None:
    content = return_file(RUN.run_id, BANK, SHA, {"DB-1": "账户已销户", "DB-3": "户名不符"})
    answer = parse_return(content, RUN.run_id, BANK, SHA)
    assert [r.case_id for r in answer.failed] == ["DB-1", "DB-3"]
    assert answer.paid_fen + answer.returned_fen == RUN.total_fen
    assert answer.returned_fen == 10_001 + 10_003


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda c: c.replace("PR-610423-2026-12", "PR-610423-2026-11", 1), "answers run"),
        (lambda c: c.replace(SHA, "0" * 64), "another checksum"),
        (lambda c: c.replace("100.02,paid", "100.20,paid"), "does not match row 3"),
        (lambda c: c.replace("TOTAL,4,", "TOTAL,5,"), "TOTAL row states 5 rows"),
        (lambda c: c.replace(",failed,账户已销户", ",failed,"), "must give the bank's reason"),
        (lambda c: "\n".join(c.splitlines()[:3] + c.splitlines()[-1:]), "has 1 rows"),
    ],
)
def test_a_return_that_does_not_answer_the_run_is_refused(edit: object, reason: str) -> None:
    content = return_file(RUN.run_id, BANK, SHA, {"DB-1": "账户已销户"})
    with pytest.raises(ReturnRefused, match=reason):
        parse_return(edit(content), RUN.run_id, BANK, SHA)  # type: ignore[operator]

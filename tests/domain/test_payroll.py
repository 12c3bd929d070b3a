"""The payroll ledger, periods and bank file, as pure functions."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

import pytest

from dibao.domain.payroll import (
    Cadence,
    Change,
    HouseholdPay,
    InvalidPeriod,
    Line,
    LineKind,
    assemble_run,
    bank_file,
    entitled_by_month,
    household_lines,
    month_index,
    months_from,
    payroll_lines,
    period_for,
    period_label,
    period_months,
    stated_checksum,
    validate_period,
    verify_bank_file,
)

R, A, X = LineKind.REGULAR, LineKind.ARREARS, LineKind.RECOVERY


def paid_by(lines: list[Line], paid: dict[str, int] | None = None) -> dict[str, int]:
    """What a released run of these lines adds to what was paid."""
    total = dict(paid or {})
    for line in lines:
        total[line.month] = total.get(line.month, 0) + line.amount_fen
    return total


def test_a_change_holds_until_the_next_one() -> None:
    changes = [
        Change("2026-03", 50_000, "start", id=1),
        Change("2026-06", 0, "suspend", id=2),
        Change("2026-08", 45_000, "resume", id=3),
    ]
    months = months_from("2026-01", "2026-09")
    assert entitled_by_month(changes, months) == {
        "2026-01": 0,  # before the first change: never owed
        "2026-02": 0,
        "2026-03": 50_000,
        "2026-04": 50_000,
        "2026-05": 50_000,
        "2026-06": 0,
        "2026-07": 0,
        "2026-08": 45_000,
        "2026-09": 45_000,
    }


def test_changes_are_ordered_by_month_then_id_not_by_arrival() -> None:
    # A backdated decrease recorded after a later increase, and two rows of the same month.
    changes = [
        Change("2026-05", 60_000, "increase", id=2),
        Change("2026-03", 40_000, "decrease", id=3),
        Change("2026-01", 50_000, "start", id=1),
        Change("2026-05", 55_000, "decrease", id=4),  # same month, later row: wins
    ]
    got = entitled_by_month(changes, ["2026-02", "2026-03", "2026-05", "2026-06"])
    assert got == {"2026-02": 50_000, "2026-03": 40_000, "2026-05": 55_000, "2026-06": 55_000}


def test_first_payroll_pays_the_period_and_arrears_from_the_start_month() -> None:
    changes = [Change("2026-09", 72_750, "start", id=1)]
    lines = household_lines(changes, {}, "2026-11")
    assert lines == [
        Line("2026-09", A, 72_750),
        Line("2026-10", A, 72_750),
        Line("2026-11", R, 72_750),
    ]


def test_arrears_after_a_backdated_increase() -> None:
    changes = [Change("2026-09", 50_000, "start", id=1)]
    paid = paid_by(household_lines(changes, {}, "2026-10"))  # October released
    # In November an increase is recorded, effective from September.
    changes.append(Change("2026-09", 60_000, "increase", id=2))
    lines = household_lines(changes, paid, "2026-11")
    assert lines == [
        Line("2026-09", A, 10_000),
        Line("2026-10", A, 10_000),
        Line("2026-11", R, 60_000),
    ]


def test_recovery_after_a_backdated_stop() -> None:
    changes = [Change("2026-08", 50_000, "start", id=1)]
    paid = paid_by(household_lines(changes, {}, "2026-10"))
    assert paid == {"2026-08": 50_000, "2026-09": 50_000, "2026-10": 50_000}
    # The household moved away in September; the stop is recorded in November.
    changes.append(Change("2026-09", 0, "stop", id=2))
    lines = household_lines(changes, paid, "2026-11")
    assert lines == [Line("2026-09", X, -50_000), Line("2026-10", X, -50_000)]


def test_a_rerun_adds_nothing() -> None:
    changes = [Change("2026-07", 30_000, "start", id=1), Change("2026-10", 35_000, "increase", 2)]
    for period in ("2026-10", "2026-Q4", "2026-11", "2026-12"):
        lines = household_lines(changes, {}, period)
        assert lines
        paid = paid_by(lines)
        assert household_lines(changes, paid, period) == []
    # Successive periods, each released in turn, pay every month exactly once.
    paid = {}
    for period in ("2026-10", "2026-11", "2026-12"):
        paid = paid_by(household_lines(changes, paid, period), paid)
    assert paid == entitled_by_month(changes, months_from("2026-07", "2026-12"))


def test_a_decrease_in_the_period_of_an_overlapping_paid_run_is_recovered() -> None:
    # Q4 was paid in advance at 500; December drops to 400 (recorded in December).
    paid = {"2026-10": 50_000, "2026-11": 50_000, "2026-12": 50_000}
    changes = [Change("2026-10", 50_000, id=1), Change("2026-12", 40_000, "decrease", id=2)]
    assert household_lines(changes, paid, "2026-12") == [Line("2026-12", X, -10_000)]
    assert household_lines(changes, paid, "2027-Q1") == [
        Line("2026-12", X, -10_000),
        Line("2027-01", R, 40_000),
        Line("2027-02", R, 40_000),
        Line("2027-03", R, 40_000),
    ]


def test_payroll_lines_ignore_months_after_the_period() -> None:
    entitled = {"2026-11": 100, "2026-12": 100}
    assert payroll_lines(entitled, {}, ["2026-11"]) == [Line("2026-11", R, 100)]


def test_quarterly_and_monthly_periods() -> None:
    assert period_months("2026-11") == ("2026-11",)
    assert period_months("2026-Q4") == ("2026-10", "2026-11", "2026-12")
    assert period_months("2027-Q1") == ("2027-01", "2027-02", "2027-03")
    assert period_label("2026-Q4") == "2026年第四季度"
    assert period_label("2026-03") == "2026年3月"
    for bad in ("2026-13", "2026-Q5", "2026-1", "26-11", "2026-q4", "", "2026-11-01"):
        with pytest.raises(InvalidPeriod):
            period_months(bad)
        assert validate_period(bad) is not None
    assert validate_period("1999-12") is not None
    assert validate_period("2026-Q2") is None


def test_the_period_a_scheduled_run_pays() -> None:
    assert period_for(date(2026, 11, 1), Cadence.MONTHLY) == "2026-11"
    assert period_for(date(2026, 10, 1), Cadence.QUARTERLY) == "2026-Q4"
    assert period_for(date(2027, 1, 1), Cadence.QUARTERLY) == "2027-Q1"
    assert period_for(date(2026, 6, 30), Cadence.QUARTERLY) == "2026-Q2"


def _household(case_id: str, *lines: Line, account: bool = True) -> HouseholdPay:
    bank, number = ("示例农商银行", f"62284800000000{case_id[-1]}") if account else ("", "")
    return HouseholdPay(
        case_id, f"CERT-{case_id}", f"户主{case_id[-1]}", tuple(lines), bank, number
    )


def test_bank_file_totals_order_and_checksum() -> None:
    run = assemble_run(
        "610423",
        "2026-11",
        [
            _household("DB-C", Line("2026-11", R, 30_000)),
            _household("DB-A", Line("2026-10", A, 10_050), Line("2026-11", R, 72_750)),
            # nets 0: booked, not in the bank file
            _household("DB-B", Line("2026-09", A, 5_000), Line("2026-10", X, -5_000)),
            # nets negative: held back as outstanding
            _household("DB-D", Line("2026-10", X, -50_000)),
            _household("DB-E"),  # nothing to pay
        ],
    )
    assert [h.case_id for h in run.households] == ["DB-A", "DB-B", "DB-C"]
    assert [h.case_id for h in run.outstanding] == ["DB-D"]
    assert [h.case_id for h in run.paid] == ["DB-A", "DB-C"]
    assert run.total_fen == 10_050 + 72_750 + 30_000
    content = bank_file(run)
    rows = content.splitlines()
    assert rows == [
        "seq,case_id,certificate_no,account_holder,bank,account_no,amount_yuan,lines",
        "1,DB-A,CERT-DB-A,户主A,示例农商银行,62284800000000A,828.00,"
        "2026-10:arrears:100.50;2026-11:regular:727.50",
        "2,DB-C,CERT-DB-C,户主C,示例农商银行,62284800000000C,300.00,2026-11:regular:300.00",
        "TOTAL,2,1128.00",
        rows[-1],
    ]
    body = content[: content.index("SHA256,")]
    assert rows[-1] == "SHA256," + hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert stated_checksum(content) == hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert verify_bank_file(content)
    assert not verify_bank_file(content.replace("828.00", "928.00"))
    # Deterministic: the same run, given in another order, gives the same bytes.
    again = assemble_run("610423", "2026-11", reversed([*run.households, *run.outstanding]))
    assert bank_file(again) == content


def test_a_household_without_an_account_is_held_back_not_paid_by_name() -> None:
    run = assemble_run(
        "610423",
        "2026-11",
        [
            _household("DB-A", Line("2026-11", R, 72_750)),
            _household("DB-B", Line("2026-11", R, 30_000), account=False),
        ],
    )
    assert [h.case_id for h in run.paid] == ["DB-A"]
    assert [h.case_id for h in run.held] == ["DB-B"]
    assert run.total_fen == 72_750
    assert "DB-B" not in bank_file(run)


def test_empty_bank_file() -> None:
    content = bank_file(assemble_run("610423", "2026-11", []))
    assert content.splitlines()[:2] == [
        "seq,case_id,certificate_no,account_holder,bank,account_no,amount_yuan,lines",
        "TOTAL,0,0.00",
    ]
    assert verify_bank_file(content)


def test_a_holder_name_with_a_comma_is_quoted() -> None:
    run = assemble_run(
        "610423",
        "2026-11",
        [
            HouseholdPay(
                "DB-A",
                "C1",
                "阿依古丽,买买提",
                (Line("2026-11", R, 100),),
                "银行",
                "622848000000001",
            )
        ],
    )
    assert '"阿依古丽,买买提"' in bank_file(run)


def test_member_shares_add_up_to_the_household_amount_exactly() -> None:
    from dibao.domain.payroll import member_shares

    assert member_shares(72750, 3) == (24250, 24250, 24250)
    assert member_shares(72751, 3) == (24251, 24250, 24250)
    assert sum(member_shares(100001, 7)) == 100001
    assert member_shares(72750, 0) == ()  # not recorded: no split is made up


def test_the_change_in_force_gives_the_members_paid_each_month() -> None:
    from dibao.domain.payroll import Change, in_force_by_month

    changes = [
        Change("2026-09", 72750, "start", 1, paid_members=3),
        Change("2026-11", 48500, "decrease", 2, paid_members=2),
    ]
    in_force = in_force_by_month(changes, ["2026-08", "2026-10", "2026-12"])
    assert in_force["2026-08"] is None
    assert in_force["2026-10"] is not None and in_force["2026-10"].paid_members == 3
    assert in_force["2026-12"] is not None and in_force["2026-12"].paid_members == 2


def test_a_holder_or_bank_typed_as_a_formula_is_not_run_by_a_spreadsheet() -> None:
    run = assemble_run(
        "610423",
        "2026-11",
        [
            HouseholdPay(
                "DB-A",
                "C1",
                '=HYPERLINK("http://evil.example/","点击")',
                (Line("2026-11", R, 100),),
                "@SUM(1+1)",
                "622848000000001",
            )
        ],
    )
    row = next(csv.reader(io.StringIO(bank_file(run).splitlines()[1])))
    assert row[3] == '\'=HYPERLINK("http://evil.example/","点击")'
    assert row[4] == "'@SUM(1+1)"
    assert row[5] == "622848000000001"  # plain values are written as they are


def test_months_are_numbered_so_consecutive_months_are_consecutive_numbers() -> None:
    assert month_index("2026-12") + 1 == month_index("2027-01")
    assert month_index("2026-01") == 2026 * 12
    with pytest.raises(InvalidPeriod):
        month_index("2026-13")

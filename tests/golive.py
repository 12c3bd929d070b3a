"""Ledgers for the going-live tests and the benchmark: households of the sample county with
valid ID numbers, each a head and a child."""

from __future__ import annotations

from stdnum.cn import ric

COUNTY = "610423"
VILLAGES = ("610423100201", "610423100202", "610423101201")


def id_number(n: int, year: int = 1985) -> str:
    # Unique for the first 6.7 million n: day, month, year and sequence number in turn.
    day, month, birth, seq = n % 28 + 1, n // 28 % 12 + 1, year + n // 336 % 20, n // 6720 % 1000
    body = f"{COUNTY}{birth:04d}{month:02d}{day:02d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def ledger_rows(households: int, paid_up_to: str = "2026-10") -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for h in range(households):
        certificate = f"LD{h:06d}"
        village = VILLAGES[h % len(VILLAGES)]
        head = {
            "certificate_no": certificate,
            "name": f"户主{h}",
            "id_number": id_number(2 * h),
            "relation": "户主",
            "village_code": village,
            "address": f"某村{h % 9 + 1}组",
            "area_type": "农村" if h % 3 else "城市",
            "category": "ABC"[h % 3] + "类",
            "amount": f"{300 + h % 50}.{h % 100:02d}",
            "first_paid_month": "2020-01",
            "paid_up_to": paid_up_to,
            "next_review_on": "2027-06-01",
            "account_holder": f"户主{h}",
            "bank": "示例农商银行",
            "account_no": f"62284800{h:011d}",
        }
        rows.append(head)
        rows.append(
            {
                "certificate_no": certificate,
                "name": f"子女{h}",
                "id_number": id_number(2 * h + 1, year=2000),
                "relation": "子女",
            }
        )
    return rows

"""ID-number checks of a 50,000-line registry extract or ledger: the shared validator
(`dibao.domain.application.validate_id_number`) beside python-stdnum's own check, uncached.

    .venv/bin/python bench/id_numbers.py              # 50,000 numbers
    BENCH_LINES=10000 .venv/bin/python bench/id_numbers.py

The numbers are what a county's file holds: people of the county's villages and its
neighbours' (a few dozen region codes), born 1930–2020, 5% with a wrong check digit and 1%
with an unknown region. Prints both times, the ratio, and whether every answer agrees.
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
from datetime import date
from pathlib import Path

from stdnum.cn import ric

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dibao.domain.application import validate_id_number

LINES = int(os.environ.get("BENCH_LINES", "50000"))
TODAY = date(2026, 12, 1)


def reference(id_number: str, today: date) -> str | None:
    """The validator as it was: python-stdnum's whole check for every number."""
    if not re.fullmatch(r"\d{17}[\dX]", id_number):
        return "must be 18 characters: 17 digits then a digit or X"
    if not ric.is_valid(id_number):
        return "check digit, birth date or region code is wrong (GB 11643)"
    if ric.get_birth_date(id_number) > today:
        return "birth date lies in the future"
    return None


def _known(region: str) -> bool:
    """A region python-stdnum has a county for (it fails with KeyError on some others)."""
    try:
        ric.get_birth_place(region + "19800101" + "0000")
    except KeyError:
        return False
    except ValueError:
        return True
    return True


def numbers(count: int) -> list[str]:
    rng = random.Random(15)
    regions = [r for r in (f"610{i:03d}" for i in range(400, 600)) if _known(r)]
    out = []
    for _ in range(count):
        region = rng.choice(regions) if rng.random() > 0.01 else "990101"
        born = date(rng.randint(1930, 2020), rng.randint(1, 12), rng.randint(1, 28))
        body = f"{region}{born:%Y%m%d}{rng.randint(0, 999):03d}"
        check = ric.calc_check_digit(body + "0")
        if rng.random() < 0.05:
            check = "0" if check != "0" else "1"
        out.append(body + check)
    return out


def main() -> None:
    batch = numbers(LINES)
    started = time.perf_counter()
    before = [reference(n, TODAY) for n in batch]
    reference_s = time.perf_counter() - started
    started = time.perf_counter()
    after = [validate_id_number(n, TODAY) for n in batch]
    cached_s = time.perf_counter() - started
    valid = sum(r is None for r in after)
    print(f"{LINES} ID numbers ({valid} valid)")
    print(f"python-stdnum uncached  {reference_s:6.2f} s")
    print(f"validate_id_number      {cached_s:6.2f} s  ({reference_s / cached_s:.0f}× faster)")
    print(f"same answers: {before == after}")


if __name__ == "__main__":
    main()

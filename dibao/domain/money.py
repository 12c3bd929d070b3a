"""Money is held in fen (integers); this is the one way it is written out for people, and the
one way an exact amount is rounded to whole fen."""

from enum import StrEnum
from fractions import Fraction


def format_yuan(fen: int) -> str:
    """Fen as yuan with two decimals: 123450 → "1234.50". Exact, no float."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def format_amount(fen: int) -> str:
    """Fen as yuan for reading in a sentence, grouped: 123456 → "1,234.56 元"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d} 元"


class Rounding(StrEnum):
    """How an exact amount becomes whole fen, once, at the end (a rule pack parameter)."""

    HALF_UP = "half_up"  # 四舍五入: half a fen and more goes up
    HALF_EVEN = "half_even"  # banker's rounding
    DOWN = "down"  # towards zero


def round_fen(value: Fraction, mode: Rounding = Rounding.HALF_UP) -> int:
    """An exact amount of fen (a fraction: e.g. 371000/12 × 3) as whole fen.

    Exact integer arithmetic: no float and no decimal precision limit, so a tie is seen as a tie.
    """
    sign = -1 if value < 0 else 1
    whole, rest = divmod(abs(value.numerator), value.denominator)
    twice = 2 * rest
    half_up = mode is Rounding.HALF_UP and rest > 0 and twice >= value.denominator
    half_even = mode is Rounding.HALF_EVEN and (
        twice > value.denominator or (twice == value.denominator and whole % 2 == 1)
    )
    if half_up or half_even:
        whole += 1
    return sign * whole

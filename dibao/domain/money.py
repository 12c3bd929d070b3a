"""Money is held in fen (integers); this is the one way it is written out for people."""


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

"""Cells of the CSV files dibao writes, safe to open in a spreadsheet.

A bank clerk or an auditor opens these files in Excel or WPS, which runs a cell starting with
'=', '+', '-' or '@' (and, after a tab or carriage return, the same) as a formula: an account
holder typed as `=HYPERLINK("http://…","点击")` would become a link, or worse, a DDE command.
A leading apostrophe makes the spreadsheet show the text as typed and run nothing.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """A text value as a cell that no spreadsheet evaluates. For text fields only: a number
    such as an amount of -12.00 is written as it is."""
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

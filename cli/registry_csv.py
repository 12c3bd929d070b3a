"""The registry extract's CSV format lives in dibao/registry_csv.py, shared with the console."""

from dibao.registry_csv import COLUMNS, CsvError, ParsedExtract, parse_amount_fen, parse_extract

__all__ = ["COLUMNS", "CsvError", "ParsedExtract", "parse_amount_fen", "parse_extract"]

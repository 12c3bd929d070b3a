# ruff: noqa: F811  (the fixtures of test_payroll_repo, imported, are parameters here)
"""The SQL a build writes its files with agrees with the domain's functions, value by value:
amounts in yuan (format_yuan: exact, no rounding), spreadsheet-safe cells (text_cell), CSV
quoting (bank_csv_row), escaping (the template's autoescape) and the kinds of a household's
lines (roster_kinds)."""

from __future__ import annotations

import random
from itertools import product
from typing import Any

import psycopg
from markupsafe import escape

from activities.payroll_activities import _escapes
from dibao.db import payroll_repo
from dibao.domain.money import format_yuan
from dibao.domain.payroll import Line, LineKind, bank_csv_row, roster_kinds
from dibao.domain.spreadsheet import text_cell
from tests.db.test_payroll_repo import conn  # noqa: F401  (fixture)


def evaluate(
    conn: psycopg.Connection[Any],
    expr: str,
    column: str,
    values: list[Any],
    sql_type: str,
    params: payroll_repo._Params | None = None,
) -> list[Any]:
    """`expr` (over `column`) for each value, in order."""
    extra = params.values if params is not None else {}
    rows = conn.execute(
        f"SELECT {expr} FROM unnest(%(values)s::{sql_type}[]) WITH ORDINALITY AS v ({column}, n) "
        "ORDER BY n",
        {"values": values, **extra},
    ).fetchall()
    return [row[0] for row in rows]


def test_amounts_in_yuan_are_format_yuan_exactly(conn: psycopg.Connection[Any]) -> None:
    rng = random.Random(7)
    amounts = [0, 1, -1, 5, -5, 9, 10, 99, -99, 100, -100, 101, 12345, -12345, 72_750, 999_999]
    amounts += [rng.randrange(-(10**12), 10**12) for _ in range(500)]
    amounts += [9_223_372_036_854_775_807, -9_223_372_036_854_775_807]  # bigint's ends
    got = evaluate(conn, payroll_repo.sql_yuan("a"), "a", amounts, "bigint")
    assert got == [format_yuan(a) for a in amounts]


AWKWARD = [
    "",
    "a",
    "王秀英",
    "a,b",
    'a"b',
    '"',
    "a\nb",
    "a\rb",
    "\r\n",
    "=1+1",
    "+86",
    "-1",
    "@x",
    "\tx",
    "\rx",
    " =x",
    "'x",
    "a;b",
    "a:b",
    "<&>",
    "  ",
    "é",
    "😀",
    "\\",
    "a\\nb",
    "%s",
    "%(x)s",
]


def test_bank_cells_are_text_cell_then_the_csv_writers(conn: psycopg.Connection[Any]) -> None:
    rng = random.Random(11)
    alphabet = [c for s in AWKWARD for c in s] + list('abc王,"\n\r=+-@\t ')
    values = AWKWARD + ["".join(rng.choices(alphabet, k=rng.randrange(0, 8))) for _ in range(500)]
    params = payroll_repo._Params()
    cell = payroll_repo.sql_csv_cell("c", params)
    safe = evaluate(conn, payroll_repo.sql_text_cell("v", params), "v", values, "text", params)
    assert safe == [text_cell(v) for v in values]
    quoted = evaluate(conn, cell, "c", safe, "text", params)
    # A cell between two others, as in a bank file's row.
    assert ["1," + q + ",x\n" for q in quoted] == [bank_csv_row((1, s, "x")) for s in safe]
    plain = evaluate(conn, cell, "c", values, "text", params)
    assert ["1," + q + ",x\n" for q in plain] == [bank_csv_row((1, v, "x")) for v in values]


def test_escaped_values_are_the_templates_autoescape(conn: psycopg.Connection[Any]) -> None:
    rng = random.Random(13)
    alphabet = [*"&<>\"'a王 ;#x", "&amp;", "&#39;"]
    values = AWKWARD + ["".join(rng.choices(alphabet, k=rng.randrange(0, 8))) for _ in range(500)]
    params = payroll_repo._Params()
    got = evaluate(
        conn, payroll_repo.sql_escaped("v", _escapes(), params), "v", values, "text", params
    )
    assert got == [str(escape(v)) for v in values]


def test_the_kinds_of_a_households_lines_are_roster_kinds(conn: psycopg.Connection[Any]) -> None:
    # Every combination of first months (or none) for the three kinds.
    months = [None, "2025-12", "2026-03", "2026-11"]
    cases = [
        firsts
        for firsts in product(months, repeat=len(LineKind))
        if any(firsts) and len({m for m in firsts if m}) == len([m for m in firsts if m])
    ]
    params = payroll_repo._Params()
    columns = ", ".join(f"%(f{n})s::text AS first_{k.value}" for n, k in enumerate(LineKind))
    for firsts in cases:
        lines = sorted(
            (Line(m, kind, 1) for m, kind in zip(firsts, LineKind, strict=True) if m),
            key=lambda line: line.month,
        )
        row = conn.execute(
            f"SELECT {payroll_repo.sql_kinds(params)} FROM (SELECT {columns}) AS g",
            {**params.values, **{f"f{n}": m for n, m in enumerate(firsts)}},
        ).fetchone()
        assert row is not None and row[0] == roster_kinds(lines), firsts


def test_a_plain_household_is_one_whose_texts_nothing_would_change(
    conn: psycopg.Connection[Any],
) -> None:
    """sql_plain lets a household's texts be written as they are: it may say no to a plain
    one (that only costs time), never yes to one whose cell, escape or apostrophe differs."""
    rng = random.Random(17)
    alphabet = [*"abc王 ;:.-0123", *"&<>\"',\n\r=+-@\t\x01"]
    households = [
        ["".join(rng.choices(alphabet, k=rng.randrange(0, 5))) for _ in payroll_repo._PLAIN_TEXTS]
        for _ in range(2000)
    ]
    # Mostly ordinary texts with one awkward character here and there, as in a county.
    households += [
        [
            rng.choice(["王秀英", "6228000012345678", "示例农商银行", "", rng.choice(alphabet)])
            for _ in payroll_repo._PLAIN_TEXTS
        ]
        for _ in range(500)
    ]
    households += [[text] * len(payroll_repo._PLAIN_TEXTS) for text in AWKWARD]
    params = payroll_repo._Params()
    escapes = _escapes()
    columns = ", ".join(f"t[{n + 1}] AS {name}" for n, name in enumerate(payroll_repo._PLAIN_TEXTS))
    test = payroll_repo.sql_plain(params, escapes, lambda name: f"s.{name}")
    got = [
        row[0]
        for row in conn.execute(
            f"SELECT {test} FROM (SELECT n, {columns} FROM unnest(%(h)s::text[]) "
            "WITH ORDINALITY AS u (j, n), LATERAL (SELECT string_to_array(j, chr(2)) AS t) a) s "
            "ORDER BY n",
            {**params.values, "h": ["\x02".join(texts) for texts in households]},
        ).fetchall()
    ]

    def unchanged(text: str) -> bool:
        return (
            text_cell(text) == text
            and bank_csv_row((1, text, "x")) == f"1,{text},x\n"  # a cell between two others
            and str(escape(text)) == text
        )

    for texts, plain in zip(households, got, strict=True):
        assert plain == all(unchanged(t) for t in texts) or (
            not plain and "\x01" in "".join(texts)
        ), texts
    assert sum(got) > 100  # the plain ones are found, not only refused

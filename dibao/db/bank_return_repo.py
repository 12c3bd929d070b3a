"""The bank's return (回盘) of a released run: stored once, its failed rows as 退票 on the
households' payment lines, and the run's reconciliation."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import payroll_repo
from dibao.db.golive_models import BankReturnLineRow, BankReturnRow
from dibao.db.payroll_models import PayrollLineRow, PayrollRunRow
from dibao.db.procedure_models import PayeeAccountRow
from dibao.domain.bank_return import (
    BankReturn,
    Reconciliation,
    ReturnRefused,
    ReturnRow,
    RowResult,
    parse_return,
)
from dibao.domain.payroll import RunStatus


class UnknownRun(LookupError):
    pass


async def _run(session: AsyncSession, run_id: str) -> PayrollRunRow:
    run = await payroll_repo.get_run(session, run_id)
    if run is None:
        raise UnknownRun(run_id)
    return run


async def load_return(
    session: AsyncSession, run_id: str, content: str, loaded_by: str, at: datetime
) -> Reconciliation:
    """Check the file against the run and store it; the same file again changes nothing, a
    different one for a run already answered is refused."""
    run = await _run(session, run_id)
    if run.status != RunStatus.RELEASED.value:
        raise ReturnRefused(f"run {run_id} is not released: the bank has not been sent it")
    file_sha = hashlib.sha256(content.encode()).hexdigest()
    prior = (
        await session.execute(select(BankReturnRow).where(BankReturnRow.run_id == run_id))
    ).scalar_one_or_none()
    if prior is not None:
        if prior.file_sha256 != file_sha:
            raise ReturnRefused(
                f"run {run_id} already has the bank's return loaded {prior.loaded_at:%Y-%m-%d}; "
                "a different file for it is refused"
            )
        await session.commit()
        return await reconciliation(session, run_id)
    # Read only now, and only the file: the return is checked against it.
    stored = await payroll_repo.bank_file_of(session, run_id)
    assert stored is not None
    answer: BankReturn = parse_return(content, run_id, *stored)
    return_id = f"BR-{run_id}"
    session.add(
        BankReturnRow(
            return_id=return_id,
            run_id=run_id,
            file_sha256=file_sha,
            paid_rows=len(answer.rows) - len(answer.failed),
            failed_rows=len(answer.failed),
            paid_fen=answer.paid_fen,
            returned_fen=answer.returned_fen,
            loaded_by=loaded_by,
            loaded_at=at,
        )
    )
    await session.flush()
    failed = {r.case_id: r for r in answer.failed}
    if failed:
        lines = await session.execute(
            select(PayrollLineRow).where(
                PayrollLineRow.run_id == run_id, PayrollLineRow.case_id.in_(list(failed))
            )
        )
        payees = dict(
            (
                await session.execute(
                    select(PayeeAccountRow.case_id, func.max(PayeeAccountRow.id))
                    .where(PayeeAccountRow.case_id.in_(list(failed)))
                    .group_by(PayeeAccountRow.case_id)
                )
            ).all()
        )
        for line in lines.scalars():
            session.add(
                BankReturnLineRow(
                    return_id=return_id,
                    run_id=run_id,
                    case_id=line.case_id,
                    month=line.month,
                    kind=line.kind,
                    amount_fen=line.amount_fen,
                    reason=failed[line.case_id].reason,
                    payee_id_at_return=payees.get(line.case_id, 0),
                )
            )
    await session.commit()
    return await reconciliation(session, run_id)


async def reconciliation(session: AsyncSession, run_id: str) -> Reconciliation:
    run = await _run(session, run_id)
    answer = (
        await session.execute(select(BankReturnRow).where(BankReturnRow.run_id == run_id))
    ).scalar_one_or_none()
    if answer is None:
        return Reconciliation(run_id, run.total_fen, 0, 0, ())
    rows = await session.execute(
        select(
            BankReturnLineRow.case_id,
            func.sum(BankReturnLineRow.amount_fen),
            func.min(BankReturnLineRow.reason),
        )
        .where(BankReturnLineRow.run_id == run_id)
        .group_by(BankReturnLineRow.case_id)
        .order_by(BankReturnLineRow.case_id)
    )
    returned = tuple(
        ReturnRow(0, case_id, int(amount), RowResult.FAILED, reason)
        for case_id, amount, reason in rows
    )
    return Reconciliation(run_id, run.total_fen, answer.paid_fen, answer.returned_fen, returned)


async def returns_for_case(session: AsyncSession, case_id: str) -> list[BankReturnLineRow]:
    """The household's 退票: which lines came back, from which run, and why."""
    rows = await session.execute(
        select(BankReturnLineRow)
        .where(BankReturnLineRow.case_id == case_id)
        .order_by(BankReturnLineRow.month, BankReturnLineRow.id)
    )
    return list(rows.scalars())


async def has_return(session: AsyncSession, run_id: str) -> bool:
    found = await session.execute(
        select(BankReturnRow.return_id).where(BankReturnRow.run_id == run_id)
    )
    return found.first() is not None


async def newest_payee_id(session: AsyncSession, case_id: str) -> int:
    found = await session.execute(
        select(func.max(PayeeAccountRow.id)).where(PayeeAccountRow.case_id == case_id)
    )
    return int(found.scalar_one() or 0)

"""Messages of the ledger import's workflow (workflows/ledger_import.py) and its activities.

They carry the import's ID and counts only: the file and its households stay in PostgreSQL,
so neither the workflow's history nor any payload grows with the county (and none holds a
name or an ID number).
"""

from __future__ import annotations

from dataclasses import dataclass

from dibao.domain.ledger import ImportStatus
from dibao.messages.case import Actor


@dataclass(frozen=True)
class LedgerImportInput:
    import_id: str
    county_code: str
    actor: Actor  # who uploaded the file: the cases are filed by them
    rate: float  # workflow starts a second, at most
    concurrency: int  # start calls in flight, at most
    page_size: int = 500  # households started per activity
    pages_per_run: int = 200  # then the workflow continues as new


@dataclass(frozen=True)
class CheckLedgerImport:
    import_id: str
    actor: Actor


@dataclass(frozen=True)
class LedgerImportChecked:
    import_id: str
    status: ImportStatus  # errors (nothing written), importing or done
    households: int
    persons: int
    errors: int


@dataclass(frozen=True)
class StartLedgerCases:
    import_id: str
    actor: Actor
    limit: int
    rate: float
    concurrency: int


@dataclass(frozen=True)
class LedgerCasesStarted:
    import_id: str
    started: int  # by this activity
    remaining: int  # households whose workflow has not started yet


@dataclass(frozen=True)
class FinishLedgerImport:
    import_id: str


@dataclass(frozen=True)
class LedgerImportFinished:
    import_id: str
    status: ImportStatus

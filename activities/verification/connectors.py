"""Where registry records come from: one connector per department.

Today every department delivers extracts that the office loads with `dibao registry load`, so
each connector reads the `registry_records` table. A department that offers an online interface
later gets its own connector with the same `fetch`; the activity does not change.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dibao.db import registry_repo
from dibao.domain.verification import Department, RegistryRecord


class ConnectorUnavailable(Exception):
    """The department's registry cannot be asked right now; asking again later may work."""


class Connector(Protocol):
    department: Department

    async def fetch(self, id_numbers: tuple[str, ...]) -> list[RegistryRecord]:
        """The department's records of these people (and of no one else)."""
        ...


class PostgresRegistryConnector:
    """Records of one department from the loaded extracts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], department: Department) -> None:
        self._sessions = sessions
        self.department = department

    async def fetch(self, id_numbers: tuple[str, ...]) -> list[RegistryRecord]:
        try:
            async with self._sessions() as session:
                return await registry_repo.records_for(session, self.department, id_numbers)
        except DBAPIError as err:
            # A database that cannot be reached is the same to the caller as a department
            # whose interface is down: retry later, nothing was decided.
            raise ConnectorUnavailable(
                f"registry database error ({type(err.orig).__name__})"
            ) from err


def default_connectors(sessions: async_sessionmaker[AsyncSession]) -> list[Connector]:
    """One connector per department, in `Department` order."""
    return [PostgresRegistryConnector(sessions, department) for department in Department]

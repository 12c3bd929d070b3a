"""verify_household against real PostgreSQL with loaded registry extracts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.verification.activity import VerificationActivities
from activities.verification.connectors import (
    Connector,
    ConnectorUnavailable,
    PostgresRegistryConnector,
    default_connectors,
)
from dibao.db import registry_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.application import Assets
from dibao.domain.enums import Relation
from dibao.domain.survey import SurveyReport
from dibao.domain.verification import (
    Department,
    RecordKind,
    RegistryRecord,
    VerificationOutcome,
    VerifyHousehold,
)
from dibao.settings import Settings
from tests.domain.factories import HEAD_ID, OTHER_ID, SON_ID, application, household, member

CASE_ID = "DB-TESTVERIFY01"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(Settings(database_url=database_url))
    yield make_sessionmaker(engine)
    await engine.dispose()


async def load(
    sessions: async_sessionmaker[AsyncSession],
    department: Department,
    *records: RegistryRecord,
    replace: bool = False,
) -> None:
    async with sessions() as session:
        await registry_repo.load_batch(
            session,
            department,
            records,
            file_name=f"{department.value}.csv",
            sha256=hashlib.sha256(repr(records).encode()).hexdigest(),
            loaded_by="test",
            replace=replace,
        )


@pytest.fixture
async def loaded(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Extracts in which the sample household's son earns more than declared and owns a car,
    and a stranger has everything."""
    await load(
        sessions,
        Department.TAX,
        RegistryRecord(
            Department.TAX, SON_ID, RecordKind.WAGE_INCOME, 320_000, "某某公司", "2026-10-31"
        ),
        RegistryRecord(Department.TAX, OTHER_ID, RecordKind.WAGE_INCOME, 900_000),
    )
    await load(
        sessions,
        Department.VEHICLES,
        RegistryRecord(Department.VEHICLES, SON_ID, RecordKind.VEHICLE, None, "car", "2026-10-31"),
        RegistryRecord(Department.VEHICLES, OTHER_ID, RecordKind.VEHICLE, None, "truck"),
    )
    await load(
        sessions,
        Department.BANKS,
        RegistryRecord(Department.BANKS, HEAD_ID, RecordKind.DEPOSIT, 200_000, "", "2026-10-31"),
    )


def request(
    step_key: str = "verification/1", survey: SurveyReport | None = None
) -> VerifyHousehold:
    return VerifyHousehold(
        case_id=CASE_ID, step_key=step_key, application=application(), survey=survey
    )


def stored_runs(database_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT case_id, step_key FROM verification_runs ORDER BY id"
        ).fetchall()


class Down:
    def __init__(self, department: Department, error: Exception) -> None:
        self.department = department
        self.error = error
        self.calls = 0

    async def fetch(self, id_numbers: tuple[str, ...]) -> list[RegistryRecord]:
        self.calls += 1
        raise self.error


def with_replaced(
    sessions: async_sessionmaker[AsyncSession], *replacements: Connector
) -> list[Connector]:
    by_department = {c.department: c for c in replacements}
    return [by_department.get(c.department, c) for c in default_connectors(sessions)]


async def test_discrepancies_are_found_in_the_loaded_extracts(
    sessions: async_sessionmaker[AsyncSession], loaded: None, database_url: str
) -> None:
    activities = VerificationActivities(sessions, default_connectors(sessions))
    outcome = await ActivityEnvironment().run(activities.verify_household, request())

    assert outcome.checked == tuple(Department)
    # Only the household's records are kept; the stranger's are not in the case file.
    assert [(r.department, r.id_number, r.kind) for r in outcome.records] == [
        (Department.TAX, SON_ID, RecordKind.WAGE_INCOME),
        (Department.VEHICLES, SON_ID, RecordKind.VEHICLE),
        (Department.BANKS, HEAD_ID, RecordKind.DEPOSIT),
    ]
    assert [(d.department, d.id_number, d.kind) for d in outcome.discrepancies] == [
        (Department.TAX, SON_ID, RecordKind.WAGE_INCOME),
        (Department.VEHICLES, SON_ID, RecordKind.VEHICLE),
    ]
    wages, car = outcome.discrepancies
    assert (
        wages.message
        == "税务部门登记王建军工资性收入合计每月 3,200.00 元，高于申报的每月 800.00 元"
    )
    assert car.message == "公安交管部门登记王建军名下有小汽车 1 辆，申报 0 辆"
    assert stored_runs(database_url) == [(CASE_ID, "verification/1")]


async def test_the_survey_decides_who_is_asked_about(
    sessions: async_sessionmaker[AsyncSession], loaded: None
) -> None:
    # The survey found the son no longer living in the household: his records are not asked for.
    survey = SurveyReport(
        investigators=("staff-1", "staff-2"),
        surveyed_on="2026-11-23",
        members=household(member("王小明", OTHER_ID, Relation.GRANDCHILD)),
        incomes=(),
        assets=Assets(deposits_fen=500_000),
        living_conditions="独居老人与孙子",
    )
    activities = VerificationActivities(sessions, default_connectors(sessions))
    outcome = await ActivityEnvironment().run(activities.verify_household, request(survey=survey))
    assert {r.id_number for r in outcome.records} == {HEAD_ID, OTHER_ID}
    assert [(d.id_number, d.kind) for d in outcome.discrepancies] == [
        (OTHER_ID, RecordKind.WAGE_INCOME),
        (OTHER_ID, RecordKind.VEHICLE),
    ]


async def test_an_unavailable_department_makes_the_activity_retry(
    sessions: async_sessionmaker[AsyncSession], loaded: None, database_url: str
) -> None:
    banks = Down(Department.BANKS, ConnectorUnavailable("interface timed out"))
    activities = VerificationActivities(sessions, with_replaced(sessions, banks))

    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activities.verify_household, request())

    error = raised.value
    assert error.type == "ConnectorUnavailable"
    assert not error.non_retryable
    assert "banks" in error.message
    assert "interface timed out" in error.message
    assert error.details == (["banks"],)
    assert banks.calls == 1
    assert stored_runs(database_url) == []  # nothing decided, nothing written

    # The next attempt, with the bank back, completes normally.
    recovered = VerificationActivities(sessions, default_connectors(sessions))
    outcome = await ActivityEnvironment().run(recovered.verify_household, request())
    assert Department.BANKS in outcome.checked
    assert stored_runs(database_url) == [(CASE_ID, "verification/1")]


async def test_any_connector_error_is_retryable_and_names_every_failed_department(
    sessions: async_sessionmaker[AsyncSession], loaded: None
) -> None:
    activities = VerificationActivities(
        sessions,
        with_replaced(
            sessions,
            Down(Department.TAX, RuntimeError("unexpected answer")),
            Down(Department.HOUSING_FUND, ConnectorUnavailable("maintenance")),
        ),
    )
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activities.verify_household, request())
    assert raised.value.type == "ConnectorUnavailable"
    assert not raised.value.non_retryable
    assert raised.value.message.startswith("registry unavailable for tax, housing_fund")
    assert "tax: RuntimeError: unexpected answer" in raised.value.message
    assert "housing_fund: maintenance" in raised.value.message


async def test_an_unreachable_registry_database_is_unavailable(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    info["dbname"] = "dibao_no_such_database"
    missing = "postgresql://?" + "&".join(f"{k}={v}" for k, v in info.items() if v is not None)
    engine = make_engine(Settings(database_url=missing))
    try:
        connector = PostgresRegistryConnector(make_sessionmaker(engine), Department.TAX)
        with pytest.raises(ConnectorUnavailable, match="registry database error"):
            await connector.fetch((HEAD_ID,))
        activities = VerificationActivities(sessions, with_replaced(sessions, connector))
        with pytest.raises(ApplicationError, match="registry unavailable for tax"):
            await ActivityEnvironment().run(activities.verify_household, request())
    finally:
        await engine.dispose()


async def test_the_run_is_stored_once_when_executed_twice(
    sessions: async_sessionmaker[AsyncSession], loaded: None, database_url: str
) -> None:
    activities = VerificationActivities(sessions, default_connectors(sessions))
    first = await ActivityEnvironment().run(activities.verify_household, request())

    # Between the attempts the household registry reports the head deceased.
    await load(
        sessions,
        Department.HOUSEHOLD_REGISTRATION,
        RegistryRecord(Department.HOUSEHOLD_REGISTRATION, HEAD_ID, RecordKind.DECEASED),
    )
    again = await ActivityEnvironment().run(activities.verify_household, request())
    assert again == first  # the retry answers with what was recorded first
    assert stored_runs(database_url) == [(CASE_ID, "verification/1")]

    # A later verification step (e.g. a re-review) is a new run and sees the new record.
    later = await ActivityEnvironment().run(activities.verify_household, request("verification/2"))
    assert RecordKind.DECEASED in {d.kind for d in later.discrepancies}
    assert stored_runs(database_url) == [(CASE_ID, "verification/1"), (CASE_ID, "verification/2")]


async def test_store_run_once_keeps_the_first_outcome_under_a_race(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    empty = VerificationOutcome(checked=(Department.TAX,), records=(), discrepancies=())
    other = VerificationOutcome(checked=(Department.BANKS,), records=(), discrepancies=())
    async with sessions() as session:
        assert await registry_repo.store_run_once(session, CASE_ID, "v", empty) == empty
    async with sessions() as session:
        assert await registry_repo.store_run_once(session, CASE_ID, "v", other) == empty


def test_payloads_survive_temporals_data_converter() -> None:
    # Temporal decodes activity payloads from the type hints at runtime.
    converter = DataConverter.default.payload_converter
    payloads = converter.to_payloads([request()])
    (decoded,) = converter.from_payloads(payloads, [VerifyHousehold])
    assert decoded == request()
    outcome = VerificationOutcome(
        checked=(Department.TAX,),
        records=(RegistryRecord(Department.TAX, SON_ID, RecordKind.WAGE_INCOME, 100),),
        discrepancies=(),
    )
    (back,) = converter.from_payloads(converter.to_payloads([outcome]), [VerificationOutcome])
    assert back == outcome


def test_all_lists_the_activity_for_the_worker(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    activities = VerificationActivities(sessions, default_connectors(sessions))
    assert activities.all() == [activities.verify_household]

"""The `dibao case` commands against a live API server (uvicorn), worker, Temporal and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import dibao, sign_in_as
from tests.conftest import SAMPLE_PATH, Stack


async def test_file_show_supplement_and_audit_from_the_command_line(
    api_url: str, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    filed = await dibao("case", "new", "--file", str(SAMPLE_PATH), "--json")
    assert filed.exit_code == 0, filed.output
    case = json.loads(filed.output)
    case_id = case["case_id"]
    assert case["status"] == "materials_incomplete"

    shown = await dibao("case", "show", case_id)
    assert "materials_incomplete" in shown.output
    assert "verification_authorisation, disability_certificate" in shown.output
    assert "you may    materials, withdraw," in shown.output  # each one `dibao case <key>`

    notice_id = case["notices"][0]["notice_id"]
    notice = await dibao("notice", "show", notice_id)
    assert "一次性告知书" in notice.output and "- 残疾人证原件及复印件" in notice.output

    listed = await dibao("case", "list", "--township", "610423100")
    assert case_id in listed.output

    done = await dibao(
        "case", "materials", case_id, "-m", "disability_certificate", "--verification-authorised"
    )
    assert done.exit_code == 0, done.output
    assert "survey  (in_progress)" in done.output

    refused = await dibao("case", "audit", case_id)  # caseworkers do not read the audit log
    assert refused.exit_code == 2 and "HTTP 403" in refused.output
    sign_in_as(monkeypatch, "liu.yang")  # the county's auditor
    audit = await dibao("case", "audit", case_id)
    assert "file_application" in audit.output and "li.na (township_caseworker)" in audit.output


async def test_bad_file_gets_field_errors_and_exit_code_2(
    api_url: str, dev_stack: Stack, tmp_path: Path, sample: dict[str, Any]
) -> None:
    sample["members"][0]["id_number"] = "612522195803120028"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    result = await dibao("case", "new", "--file", str(bad))
    assert result.exit_code == 2
    assert "members.0.id_number" in result.output and "nothing was changed" in result.output
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]


async def test_second_filing_names_the_open_case(api_url: str, dev_stack: Stack) -> None:
    first = json.loads((await dibao("case", "new", "-f", str(SAMPLE_PATH), "--json")).output)
    again = await dibao("case", "new", "-f", str(SAMPLE_PATH))
    assert again.exit_code == 2
    assert first["case_id"] in again.output


async def test_survey_evaluation_and_posting_board_from_the_command_line(
    api_url: str,
    dev_stack: Stack,
    sample: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dibao.settings import PROJECT_ROOT

    sample["materials"].append("disability_certificate")
    sample["verification_authorised"] = True
    household = tmp_path / "household.json"
    household.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    case_id = json.loads((await dibao("case", "new", "-f", str(household), "--json")).output)[
        "case_id"
    ]
    survey = await dibao(
        "case", "survey", case_id, "-f", str(PROJECT_ROOT / "examples/survey.json")
    )
    assert survey.exit_code == 0, survey.output
    for _ in range(100):
        shown = await dibao("case", "show", case_id)
        if "evaluation" in shown.output:
            break
        await asyncio.sleep(0.05)
    assert "assessed   eligible, category A, 727.50 元/月" in shown.output
    evaluation = await dibao(
        "case", "evaluation", case_id, "-f", str(PROJECT_ROOT / "examples/evaluation.json")
    )
    assert evaluation.exit_code == 0, evaluation.output
    for _ in range(100):
        board = await dibao("postings", "--village", "610423100201")
        if "王秀英" in board.output:
            break
        await asyncio.sleep(0.05)
    assert "第一榜" in board.output and "727.50" in board.output
    approve = await dibao("case", "county-decision", case_id, "--opinion", "approve")
    assert approve.exit_code == 2 and "may not decide on approval" in approve.output
    sign_in_as(monkeypatch, "chen.gang")
    approve = await dibao("case", "county-decision", case_id, "--opinion", "approve")
    assert approve.exit_code == 2 and "county_approval" in approve.output


async def test_payment_history_from_the_command_line(
    api_url: str, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from tests.db.test_payroll_repo import seed_case

    with psycopg.connect(dev_stack.settings.database_url or "") as conn:
        seed_case(
            conn,
            "DB-CLIPAY00001",
            "王秀英",
            [("2026-09", 72_750, "start"), ("2026-11", 48_501, "decrease")],
        )
    sign_in_as(monkeypatch, "chen.gang")
    shown = await dibao("case", "payments", "DB-CLIPAY00001")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "2026-09 start 727.50 (363.75 + 363.75)" in text
    # 485.01 over two members: whole fen that add up exactly.
    assert "2026-11 decrease 485.01 (242.51 + 242.50)" in text
    assert "2026-10 727.50 / 0.00 ← outstanding" in text


async def test_a_draft_payroll_discarded_from_the_command_line(
    api_url: str, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from tests.db.test_payroll_repo import seed_case

    with psycopg.connect(dev_stack.settings.database_url or "") as conn:
        seed_case(conn, "DB-CLIPAY00002", "王秀英", [("2026-09", 72_750, "start")])
    built = await dibao("payroll", "run", "--county", "610423", "--period", "2026-11")
    assert built.exit_code == 0, built.output
    refused = await dibao("payroll", "discard", "PR-610423-2026-11", "--reason", "重做")
    assert refused.exit_code == 2 and "HTTP 403" in refused.output  # a township caseworker
    sign_in_as(monkeypatch, "chen.gang")
    done = await dibao("payroll", "discard", "PR-610423-2026-11", "--reason", "漏录变更，作废重做")
    assert done.exit_code == 0, done.output
    assert "discarded  PR-610423-2026-11" in done.output and "by chen.gang: 漏录变更" in done.output
    gone = await dibao("payroll", "show", "PR-610423-2026-11")
    assert gone.exit_code == 2 and "404" in gone.output


async def test_supervision_and_ops_from_the_command_line(
    api_url: str, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_as(monkeypatch, "ma.chao")  # ops run the drills
    drill = await dibao("ops", "drill", "start", "issue_notice", "--message", "printer offline")
    assert drill.exit_code == 0 and "issue_notice fails for every case" in drill.output
    assert "issue_notice  all cases  give-up" in (await dibao("ops", "drill", "list")).output
    sign_in_as(monkeypatch, "li.na")
    filed = await dibao("case", "new", "--file", str(SAMPLE_PATH), "--json")
    assert filed.exit_code == 0, filed.output
    case_id = json.loads(filed.output)["case_id"]
    sign_in_as(monkeypatch, "ma.chao")
    assert (await dibao("ops", "drill", "stop")).output.startswith("stopped 1")

    sign_in_as(monkeypatch, "wang.jian")  # the county's supervisor
    for _ in range(100):
        stuck = await dibao("stuck", "--county", "610423")
        if case_id in stuck.output:
            break
        await asyncio.sleep(0.05)
    assert "incident" in stuck.output and "issue_notice" in stuck.output
    assert "610423100  1" in stuck.output
    assert (await dibao("alerts")).output.strip() == "no alerts"
    refused = await dibao("ops", "incidents")
    assert refused.exit_code == 2 and "HTTP 403" in refused.output

    sign_in_as(monkeypatch, "ma.chao")  # ops
    listed = await dibao("ops", "incidents", "--json")
    (incident,) = json.loads(listed.output)["items"]
    described = await dibao("ops", "describe", case_id)
    assert "RUNNING" in described.output and incident["incident_id"] in described.output
    # Each incident says what ops can do about it.
    offered = (await dibao("ops", "incidents")).output
    assert "options: retry, retry_with_correction(reason, " in offered
    assert offered.rstrip().endswith("skip, close")
    skipped = await dibao(
        "ops", "skip", case_id, incident["incident_id"], "--reason", "一次性告知书已纸质送达"
    )
    assert skipped.exit_code == 0, skipped.output
    assert "0 step(s)" in (await dibao("ops", "incidents")).output


async def test_art18_the_familys_evidence_on_a_failed_check_from_the_command_line(
    api_url: str, dev_stack: Stack, sample: dict[str, Any], tmp_path: Path
) -> None:
    """mca-2021 Art. 18: `dibao case evidence` records the family's answer to the findings."""
    from dibao.db import registry_repo
    from dibao.domain.verification import Department, RecordKind, RegistryRecord
    from dibao.settings import PROJECT_ROOT

    head = next(m for m in sample["members"] if m["relation"] == "head")
    record = RegistryRecord(
        Department.VEHICLES, head["id_number"], RecordKind.VEHICLE, detail="motorcycle"
    )
    async with dev_stack.sessions() as session:
        await registry_repo.load_batch(
            session, Department.VEHICLES, [record], "v.csv", "d" * 64, "chen.gang", replace=True
        )
    sample["materials"].append("disability_certificate")
    sample["verification_authorised"] = True
    household = tmp_path / "household.json"
    household.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    filed = await dibao("case", "new", "-f", str(household), "--json")
    case_id = json.loads(filed.output)["case_id"]
    survey = await dibao(
        "case", "survey", case_id, "-f", str(PROJECT_ROOT / "examples/survey.json")
    )
    assert survey.exit_code == 0, survey.output
    for _ in range(100):
        shown = await dibao("case", "show", case_id)
        if "evidence" in shown.output:
            break
        await asyncio.sleep(0.05)
    assert "申请人就核对结果举证" in shown.output
    given = await dibao(
        "case",
        "evidence",
        case_id,
        "--received-on",
        "2026-11-30",
        "--summary",
        "摩托车已报废注销证明",
        "--findings-stand",
    )
    assert given.exit_code == 0, given.output
    assert "evaluation" in given.output
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'evidence'", case_id
    ) == [(1,)]

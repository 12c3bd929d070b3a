"""Papers: the 低保证 and a 低保证明 letter (recorded: who printed it and why) as printable A4
pages, and the household's whole file as one PDF whose text holds its approval notice."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from pypdf import PdfReader

from tests.api.test_bank_return import case_of, import_households
from tests.auth import COUNTY, VILLAGE
from tests.conftest import Stack
from tests.workflows.test_recipient import approved_case


async def test_the_certificate_and_an_audited_letter_for_an_imported_household(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await import_households(api, dev_stack, 1)
    case_id = case_of(dev_stack, "LD000000")
    page = await api.get(f"/cases/{case_id}/certificate", headers=COUNTY)
    assert page.status_code == 200
    for text in (
        "最低生活保障证",
        "LD000000",
        "户主0",
        "子女0",
        "300.00元",
        "2026-11",
        "@page { size: A4",
    ):
        assert text in page.text
    assert (await api.get(f"/cases/{case_id}/certificate", headers=VILLAGE)).status_code == 403

    url = f"/cases/{case_id}/certificate-letter"
    assert (await api.post(url, json={"purpose": ""}, headers=COUNTY)).status_code == 422
    purpose = "子女入学<减免学费>"
    letter = await api.post(url, json={"purpose": purpose}, headers=COUNTY)
    assert letter.status_code == 200
    assert "子女入学&lt;减免学费&gt;" in letter.text  # autoescaped
    assert dev_stack.sql("SELECT case_id, printed_by, purpose FROM certificate_letters") == [
        (case_id, "chen.gang", purpose)
    ]
    assert dev_stack.sql(
        "SELECT actor_id FROM audit_log WHERE action = 'print_certificate_letter'"
    ) == [("chen.gang",)]


async def test_the_household_file_pdf_holds_the_approval_notice(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    await approved_case(ts_stack, sample, "DB-PAPERFILE01")
    response = await ts_api.get("/cases/DB-PAPERFILE01/file", headers=COUNTY)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert "最低生活保障审批通知书" in text
    assert "决定予以批准" in text
    for heading in ("一、申请", "二、入户调查", "五、公示", "八、保障金台账", "九、操作日志"):
        assert heading in text
    fonts: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for ref in (resources.get("/Font") or {}).values():
            font: Any = ref.get_object()
            fonts.add(str(font.get("/BaseFont")))
    assert any("CJK" in f for f in fonts), fonts  # embedded, not left to the reader's fonts

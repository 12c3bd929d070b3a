"""政策与基础数据: the county office's pages. Rule packs (view, compare two versions, assign to
the county), the county's standards with their from-month, the working-day calendar, registry
extracts by department, the near-relative registry, the yearly spot check and the region table.

Every page reads and writes through api/policy_service.py and api/relatives_service.py, the
same calls as the API; uploads are multipart forms checked whole before anything is written.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import errors, policy_service, relatives_service
from api.deps import check_role, client_dep, sessions_dep
from api.procedure_schemas import StaffRelativeIn
from api.schemas import to_fen
from console.errors import field_errors
from console.errors_zh import errors_by_field, message_zh
from console.policy_text import calendar_error_zh, region_error_zh, registry_error_zh
from console.render import forget_place_names, place_names, register_page, render
from console.session import ConsoleForm, ConsoleFormDep, ConsoleUser, ConsoleUserDep
from dibao.db import calendar_repo, rulepacks_repo, standards_repo
from dibao.domain.access import Action
from dibao.domain.calendar import CHINA_TZ, YearStatus, official_covers
from dibao.domain.enums import AreaType
from dibao.domain.verification import DEPARTMENT_LABELS, Department
from workflows.standard_change import StandardChangeWorkflow

router = APIRouter(prefix="/policy")
register_page("/console/policy")

SECTIONS = (
    ("/console/policy", "规则包"),
    ("/console/policy/standards", "低保标准"),
    ("/console/policy/calendar", "工作日历"),
    ("/console/policy/registry", "核对数据"),
    ("/console/policy/relatives", "近亲属备案"),
    ("/console/policy/spot-checks", "年度抽查"),
    ("/console/policy/regions", "行政区划"),
)
UPLOAD_LIMIT = 32 * 1024 * 1024  # a department's whole extract; the API's body limit applies
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_STAFF_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


def _county(user: ConsoleUser) -> str:
    return user.jurisdiction[:6]


def _may(user: ConsoleUser, action: Action) -> bool:
    try:
        check_role(user.actor, action)
    except HTTPException:
        return False
    return True


async def _page(request: Request, user: ConsoleUser, template: str, **ctx: Any) -> Response:
    check_role(user.actor, Action.READ_POLICY)
    ctx.setdefault("status_code", 200)
    ctx.setdefault("file_errors", [])
    status = ctx.pop("status_code")
    return await render(
        request,
        template,
        status_code=status,
        sections=SECTIONS,
        county=_county(user),
        query=request.query_params,
        may=lambda name: _may(user, Action[name]),
        **ctx,
    )


async def _upload(form: ConsoleForm, name: str = "file") -> tuple[bytes, str] | None:
    value = form.data.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise HTTPException(status_code=413, detail={"message": "file larger than 32 MB"})
    return data, value.filename


# --- rule packs -----------------------------------------------------------------------------


async def _packs_context(request: Request, user: ConsoleUser) -> dict[str, Any]:
    settings = request.app.state.settings
    async with sessions_dep(request)() as session:
        packs = await rulepacks_repo.list_packs(session)
        assignment = await rulepacks_repo.county_assignment(session, _county(user))
        versions = {p.id: await rulepacks_repo.list_versions(session, p.id) for p in packs}
    return {
        "packs": packs,
        "versions": versions,
        "assignment": assignment,
        "current": assignment.pack_id if assignment else settings.default_rule_pack,
        "pack_options": [(p.id, f"{p.id} · {p.title}") for p in packs],
        "version_options": [
            (f"{p.id}:{v.version}", f"{p.id} 第{v.version}版 · {v.title}")
            for p in packs
            for v in versions[p.id]
        ],
    }


@router.get("", include_in_schema=False)
async def rule_packs(request: Request, user: ConsoleUserDep) -> Response:
    return await _page(
        request, user, "console/policy/rule_packs.html", **await _packs_context(request, user)
    )


@router.post("/rule-pack", include_in_schema=False)
async def assign_pack(request: Request, form: ConsoleFormDep) -> Response:
    pack_id = form.get("pack_id").strip()[:40]
    async with sessions_dep(request)() as session:
        try:
            await policy_service.assign_county_pack(
                session, form.actor, _county(form.user), pack_id
            )
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            return await _page(
                request,
                form.user,
                "console/policy/rule_packs.html",
                status_code=422,
                errors={"pack_id": "请选择一个已有的规则包"},
                values=form.data,
                **await _packs_context(request, form.user),
            )
    return RedirectResponse("/console/policy?assigned=1", status_code=303)


def _version_ref(text: str) -> tuple[str, int] | None:
    pack_id, _, version = text.partition(":")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", pack_id) or not version.isdigit():
        return None
    return pack_id, int(version)


@router.get("/rule-packs/{pack_id}", include_in_schema=False)
async def rule_pack(
    request: Request, pack_id: str, user: ConsoleUserDep, version: int | None = None
) -> Response:
    async with sessions_dep(request)() as session:
        row = await rulepacks_repo.get_pack_row(session, pack_id[:40], version)
        if row is None:
            raise errors.not_found(f"rule pack {pack_id}")
        versions = await rulepacks_repo.list_versions(session, row.id)
    return await _page(
        request,
        user,
        "console/policy/rule_pack.html",
        pack=row,
        params=policy_service.compare_params(row.params, row.params),
        versions=versions,
    )


@router.get("/compare", include_in_schema=False)
async def compare(
    request: Request, user: ConsoleUserDep, a: str = "", b: str = "", only: str = ""
) -> Response:
    left, right = _version_ref(a), _version_ref(b)
    context = await _packs_context(request, user)
    problems: dict[str, str] = {}
    rows: list[policy_service.ParamDiff] = []
    packs: list[Any] = []
    if left is None:
        problems["a"] = "请选择左侧的规则包版本"
    if right is None:
        problems["b"] = "请选择右侧的规则包版本"
    if left is not None and right is not None:
        async with sessions_dep(request)() as session:
            for ref, field in ((left, "a"), (right, "b")):
                found = await rulepacks_repo.get_pack_row(session, *ref)
                if found is None:
                    problems[field] = "没有这个规则包版本"
                packs.append(found)
        if not problems:
            rows = policy_service.compare_params(packs[0].params, packs[1].params)
    return await _page(
        request,
        user,
        "console/policy/compare.html",
        status_code=422 if problems and (a or b) else 200,
        errors=problems if (a or b) else {},
        values={"a": a, "b": b},
        rows=[r for r in rows if r.differs] if only == "differs" else rows,
        only=only == "differs",
        left=packs[0] if len(packs) == 2 and not problems else None,
        right=packs[1] if len(packs) == 2 and not problems else None,
        changed=sum(1 for r in rows if r.differs),
        **context,
    )


# --- standards ------------------------------------------------------------------------------


async def _standards_page(
    request: Request, user: ConsoleUser, batch: str = "", **ctx: Any
) -> Response:
    async with sessions_dep(request)() as session:
        standards = await standards_repo.list_standards(session, _county(user))
    progress = None
    if batch.startswith(f"SC-{_county(user)}-"):
        try:
            progress = (
                await client_dep(request)
                .get_workflow_handle(batch)
                .query(StandardChangeWorkflow.progress)
            )
        except Exception:
            progress = None
    return await _page(
        request,
        user,
        "console/policy/standards.html",
        standards=sorted(standards, key=lambda s: (s.from_month, s.area_type.value), reverse=True),
        progress=progress,
        batch=batch,
        urban=AreaType.URBAN,
        **ctx,
    )


@router.get("/standards", include_in_schema=False)
async def standards(request: Request, user: ConsoleUserDep, batch: str = "") -> Response:
    return await _standards_page(request, user, batch[:80])


@router.post("/standards", include_in_schema=False)
async def add_standard(request: Request, form: ConsoleFormDep) -> Response:
    values = {k: form.get(k).strip() for k in ("urban_standard", "rural_standard", "month")}
    problems: dict[str, str] = {}
    for name in ("urban_standard", "rural_standard"):
        if not _YUAN.match(values[name]) or to_fen(Decimal(values[name])) <= 0:
            problems[name] = "请填写大于0的金额（元），最多两位小数，例如 560.00"
    if not _MONTH.match(values["month"]):
        problems["month"] = "请选择起始月份（年-月）"
    if not problems:
        async with sessions_dep(request)() as session:
            try:
                progress = await policy_service.start_standard_change(
                    session,
                    client_dep(request),
                    request.app.state.settings,
                    form.actor,
                    _county(form.user),
                    urban_fen=to_fen(Decimal(values["urban_standard"])),
                    rural_fen=to_fen(Decimal(values["rural_standard"])),
                    effective_month=values["month"],
                    idempotency_key=form.request_id,
                )
            except HTTPException as exc:
                if exc.status_code != 422:
                    raise
                found = field_errors(exc)
                problems = {
                    {"effective_month": "month"}.get(k, k): message_zh(v) for k, v in found.items()
                }
        if not problems:
            return RedirectResponse(
                f"/console/policy/standards?batch={progress.batch_id}", status_code=303
            )
    return await _standards_page(
        request, form.user, status_code=422, errors=problems, values=values
    )


# --- calendar -------------------------------------------------------------------------------


def _this_year() -> int:
    return datetime.now(CHINA_TZ).year


async def _calendar_page(request: Request, user: ConsoleUser, year: int, **ctx: Any) -> Response:
    async with sessions_dep(request)() as session:
        calendar = await calendar_repo.list_year(session, year)
    return await _page(
        request,
        user,
        "console/policy/calendar.html",
        year=year,
        calendar=calendar,
        official=official_covers(year),
        status_zh={
            YearStatus.OFFICIAL: "国务院办公厅公布的节假日安排（随程序提供）",
            YearStatus.OFFICE_ENTERED: "本办录入的节假日安排",
            YearStatus.NOT_COVERED: "尚未录入：只按周末计算工作日，期限可能算错",
        }[calendar.status],
        **ctx,
    )


@router.get("/calendar", include_in_schema=False)
async def calendar(request: Request, user: ConsoleUserDep, year: int | None = None) -> Response:
    shown = year if year is not None and 2000 <= year <= 2100 else _this_year()
    return await _calendar_page(request, user, shown)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.post("/calendar/day", include_in_schema=False)
async def mark_day(request: Request, form: ConsoleFormDep) -> Response:
    day = _parse_date(form.get("day"))
    kind = form.get("kind")
    note = form.get("note").strip()
    problems: dict[str, str] = {}
    if day is None:
        problems["day"] = "请选择日期（年-月-日）"
    if kind not in ("holiday", "working"):
        problems["kind"] = "请选择“放假”或“调休上班”"
    if len(note) > 100:
        problems["note"] = "备注最多100个字"
    if problems or day is None:
        return await _calendar_page(
            request, form.user, _this_year(), status_code=422, errors=problems, values=form.data
        )
    async with sessions_dep(request)() as session:
        await policy_service.set_calendar_day(
            session, form.actor, day, is_working_day=kind == "working", note=note
        )
    return RedirectResponse(
        f"/console/policy/calendar?year={day.year}&marked={day.isoformat()}", status_code=303
    )


@router.post("/calendar/upload", include_in_schema=False)
async def upload_calendar(request: Request, form: ConsoleFormDep) -> Response:
    year_text = form.get("year").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
    upload = await _upload(form)
    problems: dict[str, str] = {}
    if year is None:
        problems["year"] = "请填写四位年份"
    if upload is None:
        problems["file"] = "请选择 CSV 文件（day,is_working_day,note）"
    if problems or year is None or upload is None:
        return await _calendar_page(
            request, form.user, _this_year(), status_code=422, errors=problems, values=form.data
        )
    async with sessions_dep(request)() as session:
        try:
            loaded = await policy_service.load_calendar_year(
                session, form.actor, year, upload[0], form.get("note").strip()[:100]
            )
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            return await _calendar_page(
                request,
                form.user,
                year,
                status_code=422,
                errors={"year": f"{year} 年已有国务院办公厅公布的安排，请逐日更正"},
                values=form.data,
            )
    if loaded.parsed.errors:
        return await _calendar_page(
            request,
            form.user,
            year,
            status_code=422,
            errors={"file": f"文件有 {len(loaded.parsed.errors)} 处错误，未载入任何日期"},
            values=form.data,
            file_errors=[calendar_error_zh(e) for e in loaded.parsed.errors],
        )
    return RedirectResponse(
        f"/console/policy/calendar?year={year}&loaded={len(loaded.parsed.days)}", status_code=303
    )


# --- registry extracts ----------------------------------------------------------------------

DEPARTMENTS = [(d.value, DEPARTMENT_LABELS[d]) for d in Department]


@router.get("/registry", include_in_schema=False)
async def registry(request: Request, user: ConsoleUserDep) -> Response:
    return await _page(request, user, "console/policy/registry.html", departments=DEPARTMENTS)


@router.post("/registry", include_in_schema=False)
async def upload_registry(request: Request, form: ConsoleFormDep) -> Response:
    check_role(form.actor, Action.LOAD_REGISTRY)
    problems: dict[str, str] = {}
    department: Department | None = None
    try:
        department = Department(form.get("department"))
    except ValueError:
        problems["department"] = "请选择数据来自哪个部门"
    upload = await _upload(form)
    if upload is None:
        problems["file"] = "请选择 CSV 文件（id_number,kind,amount_yuan,detail,as_of）"
    if problems or department is None or upload is None:
        return await _page(
            request,
            form.user,
            "console/policy/registry.html",
            status_code=422,
            departments=DEPARTMENTS,
            errors=problems,
            values=form.data,
        )
    async with sessions_dep(request)() as session:
        loaded = await policy_service.load_registry_extract(
            session,
            form.actor,
            department,
            upload[0],
            upload[1],
            replace=form.get("replace") == "on",
        )
    if loaded.result is None:
        return await _page(
            request,
            form.user,
            "console/policy/registry.html",
            status_code=422,
            departments=DEPARTMENTS,
            errors={"file": f"文件有 {len(loaded.parsed.errors)} 处错误，未载入任何记录"},
            values=form.data,
            file_errors=[registry_error_zh(e) for e in loaded.parsed.errors],
        )
    r = loaded.result
    query = (
        f"department={department.value}&batch={r.batch_id}&rows={r.rows}"
        f"&replaced={r.replaced_records}&again={int(r.already_loaded)}"
    )
    return RedirectResponse(f"/console/policy/registry/loaded?{query}", status_code=303)


@router.get("/registry/loaded", include_in_schema=False)
async def registry_loaded(
    request: Request,
    user: ConsoleUserDep,
    department: str,
    batch: int,
    rows: int,
    replaced: int = 0,
    again: int = 0,
) -> Response:
    label = dict(DEPARTMENTS).get(department, department)
    return await _page(
        request,
        user,
        "console/policy/registry_loaded.html",
        department=label,
        batch=batch,
        rows=rows,
        replaced=replaced,
        again=bool(again),
    )


# --- near relatives -------------------------------------------------------------------------


async def _relatives_page(
    request: Request, user: ConsoleUser, staff_id: str, **ctx: Any
) -> Response:
    found: list[dict[str, Any]] | None = None
    if staff_id:
        async with sessions_dep(request)() as session:
            found = await relatives_service.relatives_of(session, user.actor, staff_id)
    return await _page(
        request,
        user,
        "console/policy/relatives.html",
        staff_id=staff_id,
        relatives=found,
        **ctx,
    )


@router.get("/relatives", include_in_schema=False)
async def relatives(request: Request, user: ConsoleUserDep, staff_id: str = "") -> Response:
    staff_id = staff_id.strip()
    if staff_id and not _STAFF_ID.match(staff_id):
        return await _relatives_page(
            request,
            user,
            "",
            status_code=422,
            errors={"staff_id": "工作人员账号只含字母、数字和 . _ -"},
        )
    return await _relatives_page(request, user, staff_id)


@router.post("/relatives", include_in_schema=False)
async def add_relative(request: Request, form: ConsoleFormDep) -> Response:
    staff_id = form.get("staff_id").strip()
    fields = ("staff_role", "relative_name", "relative_id_number", "relation")
    problems: dict[str, str] = {}
    if not _STAFF_ID.match(staff_id):
        problems["staff_id"] = "请填写工作人员账号（字母、数字和 . _ -）"
    body = None
    try:
        body = StaffRelativeIn.model_validate({k: form.get(k).strip() for k in fields})
    except ValidationError as err:
        problems.update(errors_by_field(err.errors()))
    if not problems and body is not None:
        async with sessions_dep(request)() as session:
            try:
                out = await relatives_service.register_relative(
                    session, client_dep(request), form.actor, staff_id, body
                )
            except HTTPException as exc:
                if exc.status_code != 422:
                    raise
                problems = {k: message_zh(v) for k, v in field_errors(exc).items()}
        if not problems:
            return RedirectResponse(
                f"/console/policy/relatives?staff_id={staff_id}"
                f"&recused={out['recused_open_cases']}",
                status_code=303,
            )
    return await _relatives_page(
        request, form.user, "", status_code=422, errors=problems, values=form.data
    )


# --- spot checks ----------------------------------------------------------------------------


async def _spot_page(request: Request, user: ConsoleUser, year: int, **ctx: Any) -> Response:
    rows: list[Any] = []
    if _may(user, Action.READ_SPOT_CHECK):
        async with sessions_dep(request)() as session:
            rows = await policy_service.spot_check_of(session, user.actor, _county(user), year)
    return await _page(
        request,
        user,
        "console/policy/spot_checks.html",
        year=year,
        rows=rows,
        selected=[r for r in rows if r.selected],
        may_read=_may(user, Action.READ_SPOT_CHECK),
        **ctx,
    )


@router.get("/spot-checks", include_in_schema=False)
async def spot_checks(request: Request, user: ConsoleUserDep, year: int | None = None) -> Response:
    shown = year if year is not None and 2000 <= year <= 2100 else _this_year()
    return await _spot_page(request, user, shown)


@router.post("/spot-checks", include_in_schema=False)
async def draw_spot_check(request: Request, form: ConsoleFormDep) -> Response:
    text = form.get("year").strip()
    if not (text.isdigit() and 2000 <= int(text) <= 2100):
        return await _spot_page(
            request,
            form.user,
            _this_year(),
            status_code=422,
            errors={"year": "请填写 2000 至 2100 之间的年份"},
            values=form.data,
        )
    year = int(text)
    async with sessions_dep(request)() as session:
        await policy_service.draw_spot_check(
            session, request.app.state.settings, form.actor, _county(form.user), year
        )
    return RedirectResponse(f"/console/policy/spot-checks?year={year}", status_code=303)


# --- the region table -----------------------------------------------------------------------


async def _regions_page(request: Request, user: ConsoleUser, **ctx: Any) -> Response:
    names = await place_names(request)
    county = _county(user)
    listed = sorted((c, n) for c, n in names.items() if c.startswith(county))
    return await _page(request, user, "console/policy/regions.html", regions=listed, **ctx)


@router.get("/regions", include_in_schema=False)
async def regions(request: Request, user: ConsoleUserDep) -> Response:
    return await _regions_page(request, user)


@router.post("/regions", include_in_schema=False)
async def upload_regions(request: Request, form: ConsoleFormDep) -> Response:
    upload = await _upload(form)
    if upload is None:
        return await _regions_page(
            request,
            form.user,
            status_code=422,
            errors={"file": "请选择 CSV 文件（code,name）"},
        )
    async with sessions_dep(request)() as session:
        try:
            count = await policy_service.load_regions(session, form.actor, upload[0])
        except policy_service.RegionLoadRefused as err:
            return await _regions_page(
                request,
                form.user,
                status_code=422,
                errors={"file": region_error_zh(str(err))},
            )
    forget_place_names()
    return RedirectResponse(f"/console/policy/regions?loaded={count}", status_code=303)


__all__ = ["router"]

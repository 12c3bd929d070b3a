"""The 用户 page over HTTP (no browser): a county user administrator adds users of its own
county only, with roles it may give; every change is audited once; a one-time password opens
no API token and sends its console session to the password page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from dibao.db.auth_models import UserAuditRow, UserRow
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.enums import Role
from tests.auth import PASSWORD, Staff
from tests.conftest import Stack
from tests.console.test_forms_http import hidden


async def sign_in_as(client: httpx.AsyncClient, user_id: str, password: str = PASSWORD) -> str:
    page = await client.get("/console/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    answer = await client.post(
        "/console/sign-in",
        data={"csrf": csrf.group(1), "user_id": user_id, "password": password, "next": "/console"},
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


@pytest.fixture
async def app_client(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    await staff.add("gao.lei", Role.USER_ADMIN, "610423", name="高磊")
    await staff.add("lu.qiang", Role.USER_ADMIN, "610424", name="陆强")
    app = create_app(dev_stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test"
        ) as client,
    ):
        yield client


NEW = {
    "user_id": "xu.ming",
    "display_name": "徐明",
    "role": "village_caseworker",
    "jurisdiction": "610423100201",
}


async def _audit(stack: Stack, subject: str) -> list[UserAuditRow]:
    engine = make_engine(stack.settings)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(UserAuditRow)
                .where(UserAuditRow.subject_id == subject)
                .order_by(UserAuditRow.id)
            )
            return list(rows.scalars())
    finally:
        await engine.dispose()


async def test_admin_adds_a_user_once_and_the_one_time_password_must_be_changed(
    app_client: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await sign_in_as(app_client, "gao.lei")
    page = await app_client.get("/console/users")
    assert page.status_code == 200 and "新增用户" in page.text
    form = {**hidden(page.text), **NEW}
    added = await app_client.post("/console/users", data=form)
    assert added.status_code == 200, added.text
    otp = re.search(r'data-testid="one-time-password">([^<]+)<', added.text)
    assert otp
    # The same form again (a double click): no second user, no second audit row, no password.
    again = await app_client.post("/console/users", data=form)
    assert again.status_code == 200 and "已经提交过" in again.text
    audit = await _audit(dev_stack, "xu.ming")
    assert [(a.actor_id, a.action) for a in audit] == [("gao.lei", "add_user")]
    assert audit[0].detail == {
        "role": "village_caseworker",
        "jurisdiction": "610423100201",
        "name": "徐明",
    }
    assert otp.group(1) not in str(audit[0].detail)

    # The API gives a one-time password no token, and says why.
    token = await app_client.post(
        "/auth/token", json={"user_id": "xu.ming", "password": otp.group(1)}
    )
    assert token.status_code == 403
    assert token.json()["detail"]["password_change_required"] is True

    # The console signs in, then every page leads to the password page.
    app_client.cookies.clear()
    await sign_in_as(app_client, "xu.ming", otp.group(1))
    inbox = await app_client.get("/console")
    assert inbox.status_code == 303 and inbox.headers["location"] == "/console/password"
    page = await app_client.get("/console/password")
    short = await app_client.post(
        "/console/password",
        data={
            **hidden(page.text),
            "old_password": otp.group(1),
            "new_password": "short",
            "new_password_again": "short",
        },
    )
    assert short.status_code == 422 and "至少 10 个字符" in short.text
    changed = await app_client.post(
        "/console/password",
        data={
            **hidden(page.text),
            "old_password": otp.group(1),
            "new_password": "my own long secret",
            "new_password_again": "my own long secret",
        },
    )
    assert changed.status_code == 200 and "密码已修改" in changed.text
    assert (await app_client.get("/console")).status_code == 200
    token = await app_client.post(
        "/auth/token", json={"user_id": "xu.ming", "password": "my own long secret"}
    )
    assert token.status_code == 200
    actions = [(a.actor_id, a.action) for a in await _audit(dev_stack, "xu.ming")]
    assert actions == [("gao.lei", "add_user"), ("xu.ming", "change_own_password")]


async def test_admin_of_another_county_and_roles_above_its_own_are_refused(
    app_client: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await sign_in_as(app_client, "lu.qiang")  # user administrator of county 610424
    page = await app_client.get("/console/users")
    refused = await app_client.post("/console/users", data={**hidden(page.text), **NEW})
    assert refused.status_code == 403
    assert "不在您所在的县" in refused.text
    page = await app_client.get("/console/users")
    for role, place in (("ops", "610424"), ("user_admin", "610424")):
        answer = await app_client.post(
            "/console/users",
            data={
                **hidden(page.text),
                **NEW,
                "user_id": f"x.{role.replace('_', '-')}",
                "role": role,
                "jurisdiction": place,
            },
        )
        assert answer.status_code == 403 and "不能设置该角色" in answer.text
    # Another county's users are not found, neither listed nor opened nor disabled.
    assert "zhang.wei" not in (await app_client.get("/console/users")).text
    assert (await app_client.get("/console/users/zhang.wei")).status_code == 404
    disable = await app_client.post("/console/users/zhang.wei/disable", data=hidden(page.text))
    assert disable.status_code == 404
    # A caseworker is not a user administrator: its 用户 page has its own account only.
    app_client.cookies.clear()
    await sign_in_as(app_client, "zhang.wei")
    page = await app_client.get("/console/users")
    assert "修改密码" in page.text and "新增用户" not in page.text
    forged = await app_client.post("/console/users", data={**hidden(page.text), **NEW})
    assert forged.status_code == 403
    engine = make_engine(dev_stack.settings)
    try:
        async with make_sessionmaker(engine)() as session:
            assert await session.get(UserRow, "xu.ming") is None
    finally:
        await engine.dispose()
    assert await _audit(dev_stack, "xu.ming") == []


async def test_admin_disables_changes_and_resets_a_user_of_its_county(
    app_client: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await sign_in_as(app_client, "gao.lei")
    page = await app_client.get("/console/users/qian.hua")
    assert page.status_code == 200
    moved = await app_client.post(
        "/console/users/qian.hua",
        data={
            **hidden(page.text),
            "display_name": "钱华",
            "role": "township_caseworker",
            "jurisdiction": "610423100",
        },
    )
    assert moved.status_code == 303
    await app_client.post("/console/users/qian.hua/disable", data=hidden(page.text))
    reset = await app_client.post(
        "/console/users/qian.hua/one-time-password", data=hidden(page.text)
    )
    assert reset.status_code == 200 and 'data-testid="one-time-password"' in reset.text
    # Ops and its own account are not the user administrator's to manage.
    mine = await app_client.get("/console/users/gao.lei")
    assert "本人的账户" in mine.text
    ops = await app_client.post("/console/users/ma.chao/disable", data=hidden(page.text))
    assert ops.status_code == 403
    actions = [a.action for a in await _audit(dev_stack, "qian.hua")]
    assert actions == ["change_user", "disable_user", "issue_one_time_password"]
    assert (await _audit(dev_stack, "qian.hua"))[0].detail["role"] == [
        "village_caseworker",
        "township_caseworker",
    ]

"""`dibao users` (PostgreSQL directly), `dibao login` / `logout` / `whoami` (through the API),
and the commands that write PostgreSQL directly acting as the signed-in user."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from temporalio.service import RPCError

from dibao.domain.payroll import schedule_id_for
from dibao.settings import get_settings
from tests.auth import PASSWORD
from tests.cli.conftest import dibao, sign_in_as
from tests.conftest import Stack

NEW_PASSWORD = "嘉陵江 first light"


@pytest.fixture
def signed_out(api_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No DIBAO_TOKEN: the CLI uses (and `login` writes) the token file; returns its path."""
    sign_in_as(monkeypatch, None)
    return get_settings().cli_token_file


async def test_users_add_list_disable(api_url: str, dev_stack: Stack) -> None:
    added = await dibao(
        "users",
        "add",
        "sun.mei",
        "--role",
        "village_caseworker",
        "--jurisdiction",
        "610423100202",
        "--name",
        "孙梅",
        "--password-stdin",
        input=NEW_PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    [(role, jurisdiction, password_hash, disabled)] = dev_stack.sql(
        "SELECT role, jurisdiction_code, password_hash, disabled FROM users "
        "WHERE user_id = 'sun.mei'"
    )
    assert (role, jurisdiction, disabled) == ("village_caseworker", "610423100202", False)
    assert password_hash.startswith("$argon2id$") and NEW_PASSWORD not in password_hash

    listed = await dibao("users", "list")
    assert listed.exit_code == 0
    line = next(x for x in listed.output.splitlines() if x.startswith("sun.mei"))
    assert "village_caseworker" in line and "610423100202" in line and "active" in line
    assert "孙梅" in line

    again = await dibao(
        "users", "add", "sun.mei", "--role", "village_caseworker", "--jurisdiction",
        "610423100202", "--password-stdin", input=NEW_PASSWORD + "\n",
    )  # fmt: skip
    assert again.exit_code == 2 and "exists already" in again.output

    disabled_now = await dibao("users", "disable", "sun.mei")
    assert disabled_now.exit_code == 0, disabled_now.output
    assert dev_stack.sql("SELECT disabled FROM users WHERE user_id = 'sun.mei'") == [(True,)]
    assert "disabled" in (await dibao("users", "list")).output
    assert (await dibao("users", "disable", "no.such.user")).exit_code == 2


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--role", "mayor", "--jurisdiction", "610423"], NEW_PASSWORD, "role: must be one of"),
        (["--role", "system", "--jurisdiction", "610423"], NEW_PASSWORD, "role: must be one of"),
        (
            ["--role", "county_approver", "--jurisdiction", "610423100"],
            NEW_PASSWORD,
            "jurisdiction: a county_approver works in a county",
        ),
        (["--role", "ops", "--jurisdiction", "61042"], NEW_PASSWORD, "jurisdiction: a 6-digit"),
        (["--role", "ops", "--jurisdiction", "610423"], "short", "password: at least"),
    ],
)
async def test_users_add_refuses_bad_input_and_adds_nothing(
    api_url: str, dev_stack: Stack, args: list[str], password: str, message: str
) -> None:
    result = await dibao("users", "add", "new.user", *args, "--password-stdin", input=password)
    assert result.exit_code == 2
    assert message in result.output
    assert dev_stack.sql("SELECT count(*) FROM users WHERE user_id = 'new.user'") == [(0,)]


async def test_login_saves_a_private_token_and_logout_revokes_it(
    signed_out: Path, dev_stack: Stack
) -> None:
    # Nobody is signed in: the API says so and the CLI says what to do.
    refused = await dibao("case", "list")
    assert refused.exit_code == 2 and "dibao login" in refused.output

    wrong = await dibao("login", "li.na", "--password-stdin", input="not the password\n")
    assert wrong.exit_code == 2 and "wrong user ID or password" in wrong.output
    assert not signed_out.exists()

    login = await dibao("login", "li.na", "--password-stdin", input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    assert "signed in as li.na (township_caseworker, 610423100)" in login.output
    assert stat.S_IMODE(signed_out.stat().st_mode) == 0o600
    token = signed_out.read_text().strip()
    assert len(token) >= 40

    whoami = await dibao("whoami")
    assert whoami.exit_code == 0 and whoami.output.startswith("li.na (李娜): township_caseworker")
    assert (await dibao("case", "list")).exit_code == 0

    logout = await dibao("logout")
    assert logout.exit_code == 0 and "signed out" in logout.output
    assert not signed_out.exists()
    revoked = dev_stack.sql(
        "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE user_id = 'li.na' "
        "ORDER BY issued_at DESC LIMIT 1"
    )
    assert revoked == [(True,)]
    assert (await dibao("whoami")).exit_code == 2


async def test_print_token_is_for_dibao_token(
    signed_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = await dibao(
        "login", "chen.gang", "--print-token", "--password-stdin", input=PASSWORD + "\n"
    )
    assert printed.exit_code == 0, printed.output
    assert not signed_out.exists()
    monkeypatch.setenv("DIBAO_TOKEN", printed.output.strip())
    get_settings.cache_clear()
    assert (await dibao("whoami")).output.startswith("chen.gang")


async def test_disabling_a_user_ends_their_session(
    signed_out: Path, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await dibao("login", "zhao.min", "--password-stdin", input=PASSWORD)).exit_code == 0
    assert (await dibao("whoami")).exit_code == 0
    assert (await dibao("users", "disable", "zhao.min")).exit_code == 0
    after = await dibao("whoami")
    assert after.exit_code == 2 and "dibao login" in after.output
    again = await dibao("login", "zhao.min", "--password-stdin", input=PASSWORD)
    assert again.exit_code == 2


async def test_direct_database_commands_act_as_the_signed_in_user(
    signed_out: Path, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = await dibao("rulepack", "assign", "610423", "mca-2021")
    assert refused.exit_code == 2 and "dibao login" in refused.output

    sign_in_as(monkeypatch, "li.na")  # a township caseworker does not choose rule packs
    refused = await dibao("rulepack", "assign", "610423", "mca-2021")
    assert refused.exit_code == 2 and "may not choose the county's rule pack" in refused.output
    sign_in_as(monkeypatch, "he.jun")  # another county's approver
    refused = await dibao("rulepack", "assign", "610423", "mca-2021")
    assert refused.exit_code == 2 and "outside your jurisdiction" in refused.output
    assert dev_stack.sql("SELECT count(*) FROM county_rule_packs") == [(0,)]

    sign_in_as(monkeypatch, "chen.gang")
    assigned = await dibao("rulepack", "assign", "610423", "mca-2021")
    assert assigned.exit_code == 0, assigned.output
    assert dev_stack.sql("SELECT assigned_by FROM county_rule_packs") == [("chen.gang",)]


async def test_payroll_schedule_needs_a_signed_in_payroll_maker_of_the_county(
    signed_out: Path, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = ("payroll", "schedule", "--county", "610423", "--cadence", "monthly")
    refused = await dibao(*command)
    assert refused.exit_code == 2 and "dibao login" in refused.output
    sign_in_as(monkeypatch, "zhang.wei")  # a village caseworker does not make the roster
    refused = await dibao(*command)
    assert refused.exit_code == 2 and "may not build a payroll" in refused.output
    sign_in_as(monkeypatch, "he.jun")  # another county's approver
    refused = await dibao(*command)
    assert refused.exit_code == 2 and "outside your jurisdiction" in refused.output
    with pytest.raises(RPCError):  # nothing was written to Temporal
        await dev_stack.client.get_schedule_handle(schedule_id_for("610423")).describe()


async def test_failure_drills_need_a_signed_in_operator(
    signed_out: Path, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in (("start", "issue_notice"), ("stop",), ("list",)):
        sign_in_as(monkeypatch, None)
        refused = await dibao("ops", "drill", *command)
        assert refused.exit_code == 2 and "dibao login" in refused.output
        sign_in_as(monkeypatch, "chen.gang")  # an approver does not make cases fail
        refused = await dibao("ops", "drill", *command)
        assert refused.exit_code == 2 and "may not operate the service" in refused.output
    assert dev_stack.sql("SELECT count(*) FROM ops_drills") == [(0,)]

    sign_in_as(monkeypatch, "ma.chao")
    started = await dibao("ops", "drill", "start", "issue_notice")
    assert started.exit_code == 0, started.output
    assert dev_stack.sql("SELECT started_by FROM ops_drills") == [("ma.chao",)]
    assert (await dibao("ops", "drill", "stop")).output.startswith("stopped 1")

"""`dibao users add --role user_admin`: the first county user administrator is made with the
CLI; it signs in with the password it was given (no change forced: the CLI's user set it)."""

from __future__ import annotations

from tests.cli.conftest import dibao
from tests.conftest import Stack

PASSWORD = "嘉陵江 first light"


async def test_the_cli_adds_a_county_user_administrator(api_url: str, dev_stack: Stack) -> None:
    added = await dibao(
        "users", "add", "gao.lei", "--role", "user_admin", "--jurisdiction", "610423",
        "--name", "高磊", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert dev_stack.sql(
        "SELECT role, jurisdiction_code, must_change_password FROM users WHERE user_id = 'gao.lei'"
    ) == [("user_admin", "610423", False)]
    # A user administrator works for a whole county, not a township.
    township = await dibao(
        "users", "add", "gao.two", "--role", "user_admin", "--jurisdiction", "610423100",
        "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert township.exit_code == 2 and "a user_admin works in a county" in township.output
    login = await dibao("login", "gao.lei", "--password-stdin", input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    assert (await dibao("users", "disable", "gao.lei")).exit_code == 0
    # The CLI's changes are in the user audit log too, by the operating system's account.
    audit = dev_stack.sql(
        "SELECT actor_id, actor_role, action FROM user_audit WHERE subject_id = 'gao.lei' "
        "ORDER BY id"
    )
    assert [(role, action) for _, role, action in audit] == [
        ("system", "add_user"),
        ("system", "disable_user"),
    ]
    assert all(actor.startswith("cli:") for actor, _, _ in audit)

"""Who is at the keyboard: `dibao login` / `logout` / `whoami`, and `dibao users`.

`login` gets a bearer token from the API and keeps it in the data directory (mode 600), or
DIBAO_TOKEN supplies one; every command that calls the API sends it. The commands that write
PostgreSQL directly (registry, calendar, rule packs) find the same user by the same token, so
what they record is the signed-in user too.

`users` writes PostgreSQL directly: the first user of a fresh installation is created before
there is anyone to sign in as. Whoever holds DATABASE_URL administers the users.
"""

from __future__ import annotations

import getpass
import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Annotated, NoReturn, TypeVar

import httpx
import typer
from sqlalchemy.ext.asyncio import AsyncSession

from cli.db import with_session
from dibao import auth
from dibao.db import auth_repo, users_repo
from dibao.db.auth_models import UserRow
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.enums import Role, UserAuditAction
from dibao.settings import Settings, get_settings

users_app = typer.Typer(
    no_args_is_help=True,
    help="User accounts: role and jurisdiction (writes PostgreSQL directly)",
    pretty_exceptions_show_locals=False,
)

T = TypeVar("T")

NOT_SIGNED_IN = "not signed in, or the sign-in has expired: run `dibao login USER_ID`"

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the password from the first line of stdin"),
]


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


# --- the CLI's token --------------------------------------------------------------------------


def read_token(settings: Settings) -> str | None:
    if settings.cli_token is not None:
        return settings.cli_token.get_secret_value().strip() or None
    try:
        return settings.cli_token_file.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def save_token(settings: Settings, token: str) -> None:
    path = settings.cli_token_file
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # open() keeps the mode of a file that already existed: make sure it is 600 all the same.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(token + "\n")


def _read_password(from_stdin: bool, confirm: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=confirm)
    return password


async def operator(session: AsyncSession, action: Action, county: str | None = None) -> str:
    """The signed-in user's ID for a command that writes PostgreSQL directly, once the role
    table (and, for county business, the jurisdiction) allows the action."""
    token = read_token(get_settings())
    user = await auth.resolve(session, token, datetime.now(UTC)) if token else None
    if user is None:
        _fail(NOT_SIGNED_IN, code=2)
    actor = user.actor
    refused = access.role_denial(action, actor.role)
    if refused is None and county is not None:
        refused = access.county_denial(actor.jurisdiction, county)
    if refused:
        _fail(refused, code=2)
    return user.user_id


# --- login, logout, whoami (through the API) -------------------------------------------------


def login(
    user_id: Annotated[str, typer.Argument(help="e.g. zhang.wei")],
    password_stdin: PasswordStdin = False,
    print_token: Annotated[
        bool,
        typer.Option("--print-token", help="print the token (for DIBAO_TOKEN) instead of saving"),
    ] = False,
) -> None:
    """Sign in; the token is saved under the data directory (mode 600) for later commands."""
    settings = get_settings()
    password = _read_password(password_stdin, confirm=False)
    try:
        response = httpx.post(
            settings.api_url.rstrip("/") + "/auth/token",
            json={"user_id": user_id, "password": password},
            timeout=30,
        )
    except httpx.ConnectError:
        _fail(f"cannot reach the API at {settings.api_url}; is `make dev` running?")
    if response.status_code == 401:
        # Which API refused it: with ports moved, it may be another installation's.
        _fail(f"{response.json()['detail']['message']} (API {settings.api_url})", code=2)
    if response.status_code != 200:
        _fail(f"HTTP {response.status_code}: {response.text[:500]}", code=2)
    issued = response.json()
    if print_token:
        typer.echo(issued["access_token"])
        return
    save_token(settings, issued["access_token"])
    user = issued["user"]
    typer.echo(
        f"signed in as {user['user_id']} ({user['role']}, {user['jurisdiction']}) until "
        f"{issued['expires_at'][:16]}"
    )
    if settings.cli_token is not None:
        typer.echo("note: DIBAO_TOKEN is set and is used instead of this sign-in", err=True)


def logout() -> None:
    """Revoke the token and forget it."""
    settings = get_settings()
    token = read_token(settings)
    if token is None:
        typer.echo("not signed in")
        return
    try:
        httpx.post(
            settings.api_url.rstrip("/") + "/auth/logout",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.ConnectError:
        _fail(f"cannot reach the API at {settings.api_url} to revoke the token; try again")
    # A 401 means the token was dead already: forgetting it is all that is left to do.
    if settings.cli_token is not None:
        typer.echo("revoked the token in DIBAO_TOKEN; unset it")
        return
    settings.cli_token_file.unlink(missing_ok=True)
    typer.echo("signed out")


def whoami() -> None:
    """Who the CLI acts as."""
    from cli.http import call  # cli_http reads this module's token

    user = call("GET", "/auth/me")
    typer.echo(
        f"{user['user_id']} ({user['display_name']}): {user['role']} in {user['jurisdiction']}, "
        f"signed in until {user['token_expires_at'][:16]}"
    )


# --- users (PostgreSQL) -----------------------------------------------------------------------


@users_app.command("add")
def users_add(
    user_id: Annotated[str, typer.Argument(help="e.g. zhang.wei")],
    role: Annotated[
        str,
        typer.Option(
            help="village_caseworker, township_caseworker, county_approver, supervisor, "
            "auditor, ops, or user_admin (the county's user administrator, who adds the "
            "county's other users in the console)"
        ),
    ],
    jurisdiction: Annotated[str, typer.Option(help="6-, 9- or 12-digit county/township/village")],
    name: Annotated[str | None, typer.Option(help="display name; default the user ID")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user; asks for the password (twice), or reads it with --password-stdin."""
    problems = access.user_problems(user_id, role, jurisdiction)
    if problems:
        _fail("; ".join(f"{field}: {why}" for field, why in problems), code=2)
    display_name = (name or user_id).strip()
    if not display_name or len(display_name) > 100:
        _fail("name: 1 to 100 characters", code=2)
    password = _read_password(password_stdin, confirm=True)
    problem = access.password_problem(password)
    if problem:
        _fail(f"password: {problem}", code=2)
    row = UserRow(
        user_id=user_id,
        display_name=display_name,
        role=role,
        jurisdiction_code=jurisdiction,
        password_hash=auth.hash_password(password),
        disabled=False,
    )

    async def work(session: AsyncSession) -> None:
        try:
            await users_repo.add_user(
                session,
                row,
                actor_id=_cli_actor(),
                actor_role=Role.SYSTEM.value,
                request_id=str(uuid.uuid4()),
                at=datetime.now(UTC),
            )
        except users_repo.UserExists:
            _fail(f"user {user_id} exists already", code=2)

    with_session(work)
    typer.echo(f"added {user_id} ({role}, {jurisdiction})")


@users_app.command("list")
def users_list() -> None:
    """Every user, by jurisdiction."""
    rows = with_session(auth_repo.list_users)
    typer.echo(f"{'USER':<20} {'ROLE':<20} {'JURISDICTION':<13} {'STATUS':<9} NAME")
    for row in rows:
        status = "disabled" if row.disabled else "active"
        typer.echo(
            f"{row.user_id:<20} {row.role:<20} {row.jurisdiction_code:<13} {status:<9} "
            f"{row.display_name}"
        )
    typer.echo(f"({len(rows)} users)")


def _cli_actor() -> str:
    """Who the user audit log names for a change made here: whoever holds DATABASE_URL, by the
    operating system's account (the CLI has no signed-in user for these commands)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return f"cli:{name}"[:64]


def _set_disabled(user_id: str, disabled: bool) -> None:
    async def work(session: AsyncSession) -> bool:
        if await auth_repo.get_user(session, user_id) is None:
            return False
        # Disabling ends the user's API tokens and console sessions at once; enabling also
        # lifts lock-outs. Recorded in the user audit log like the console's changes.
        return await users_repo.change_user(
            session,
            user_id,
            {"disabled": disabled},
            UserAuditAction.DISABLE_USER if disabled else UserAuditAction.ENABLE_USER,
            {},
            actor_id=_cli_actor(),
            actor_role=Role.SYSTEM.value,
            request_id=str(uuid.uuid4()),
            at=datetime.now(UTC),
            end_sessions=disabled,
        )

    if not with_session(work):
        _fail(f"no user {user_id}", code=2)


@users_app.command("disable")
def users_disable(user_id: str) -> None:
    """Stop a user from signing in; their tokens are revoked at once. Rows they wrote stay."""
    _set_disabled(user_id, True)
    typer.echo(f"disabled {user_id}; their tokens are revoked")


@users_app.command("enable")
def users_enable(user_id: str) -> None:
    """Let a disabled user sign in again (old tokens stay revoked)."""
    _set_disabled(user_id, False)
    typer.echo(f"enabled {user_id}")

"""Who may do what, and where: the API's role table, jurisdictions and recusal.

Pure rules: every function answers with the reason for a refusal, or None when allowed, so the
API (403 with that reason), the command line and the tests share one wording.

A jurisdiction is the administrative code of where a user works: a 6-digit county, a 9-digit
township or a 12-digit village, each the prefix of the codes below it. A user sees and acts on
cases of households registered inside it; county-wide business (payroll, standards, rule packs,
spot checks) belongs to users working inside that county.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dibao.domain.actions import Action as Action  # the key of each action, re-exported
from dibao.domain.actor import Actor
from dibao.domain.enums import Role
from dibao.domain.stages import CASE_ACTION_ROLES, DELEGATED_APPROVAL_ROLES

V = Role.VILLAGE_CASEWORKER
T = Role.TOWNSHIP_CASEWORKER
C = Role.COUNTY_APPROVER
S = Role.SUPERVISOR
A = Role.AUDITOR
O = Role.OPS  # noqa: E741 - one letter per role keeps the table below readable
U = Role.USER_ADMIN

# Every role that does or oversees the county's cases; `system` acts only inside workflows.
PEOPLE = frozenset({V, T, C, S, A, O})
# Every role an account can hold: PEOPLE and the county user administrator, who manages
# accounts only (no case work, so it is not among PEOPLE and reads no household).
ACCOUNT_ROLES = PEOPLE | {U}
# Who does household work: the same set the case workflow's validators accept for surveys.
FIELDWORK = frozenset({V, T, C})

# The procedure's division of work (DOMAIN.md, "Who uses the system"). The case workflow's
# validators check the roles of their own steps again; this table refuses earlier, before a
# request reaches Temporal, and covers what no workflow sees (reads, payroll, policy data).
ROLE_TABLE: dict[Action, frozenset[Role]] = {
    Action.READ_CASE: PEOPLE,
    # Acting on one case: the stage table's rows (dibao/domain/stages.py), as they are.
    **CASE_ACTION_ROLES,
    Action.READ_AUDIT: frozenset({C, S, A}),
    # The roster is made (制表) in the township or county and checked (审核) by the county.
    Action.BUILD_PAYROLL: frozenset({T, C}),
    Action.RELEASE_PAYROLL: frozenset({C}),
    Action.READ_PAYROLL: frozenset({T, C, S, A, O}),
    Action.READ_STANDARD_CHANGE: frozenset({T, C, S, A, O}),
    Action.DRAW_SPOT_CHECK: frozenset({C}),
    # Not for caseworkers: knowing which households are drawn defeats the check.
    Action.READ_SPOT_CHECK: frozenset({C, S, A}),
    Action.ASSIGN_RULE_PACK: frozenset({C}),
    Action.IMPORT_LEDGER: frozenset({C}),
    Action.LOAD_BANK_RETURN: frozenset({C}),
    Action.READ_STATISTICS: frozenset({T, C, S, A}),
    Action.PRINT_PAPERS: frozenset({T, C}),
    Action.READ_POLICY: PEOPLE,
    Action.PUBLISH_RULE_PACK: frozenset({C}),
    Action.EDIT_CALENDAR: frozenset({C, O}),
    Action.LOAD_REGISTRY: frozenset({C, O}),
    Action.READ_REGISTRY: frozenset({T, C, A, O}),
    # Everyone registers their own relatives; see relative_denial for others' registrations.
    Action.REGISTER_RELATIVE: PEOPLE,
    Action.READ_RELATIVES: PEOPLE,
    Action.SUPERVISE: frozenset({C, S, A}),
    Action.MANAGE_USERS: frozenset({U}),
    # Art. 36: the township's and the county's hotline; supervision and audit read them.
    Action.HANDLE_COMPLAINT: frozenset({T, C}),
    Action.READ_COMPLAINTS: frozenset({T, C, S, A}),
}

LABELS: dict[Action, str] = {
    Action.READ_CASE: "read cases",
    Action.FILE_APPLICATION: "file an application",
    Action.MATERIALS: "record supplemented materials",
    Action.WITHDRAW: "withdraw an application",
    Action.SURVEY: "submit a household survey",
    Action.EVALUATION: "record a democratic evaluation",
    Action.EVIDENCE: "record the family's evidence on a failed check",
    Action.OBJECTION: "record an objection",
    Action.TOWNSHIP_REVIEW: "give the township review opinion",
    Action.COUNTY_VISIT: "record the county home visit",
    Action.COUNTY_DECISION: "decide on approval",
    Action.EXTEND_DEADLINE: "extend the whole-procedure time limit",
    Action.TERMINATE: "terminate a case",
    Action.REVIEW: "submit a re-review",
    Action.SIGN_IN: "record a sign-in",
    Action.LABOUR_ABSENCE: "record an absence from public-benefit labour",
    Action.CIRCUMSTANCE: "report a change of circumstances",
    Action.HOUSEHOLD_CHANGE: "report a change of the household",
    Action.REEMPLOYMENT: "report a member's reemployment",
    Action.WORK_REFUSAL: "record a refusal of work",
    Action.PAYEE: "record the account the benefit is paid into",
    Action.READ_AUDIT: "read the audit log",
    Action.BUILD_PAYROLL: "build a payroll",
    Action.RELEASE_PAYROLL: "release a payroll",
    Action.READ_PAYROLL: "read payrolls",
    Action.CHANGE_STANDARD: "change the county's standard",
    Action.READ_STANDARD_CHANGE: "follow a standard change",
    Action.DRAW_SPOT_CHECK: "draw the county's spot check",
    Action.READ_SPOT_CHECK: "read the county's spot check",
    Action.ASSIGN_RULE_PACK: "choose the county's rule pack",
    Action.READ_POLICY: "read policy data",
    Action.PUBLISH_RULE_PACK: "publish a rule pack",
    Action.EDIT_CALENDAR: "edit the holiday calendar",
    Action.LOAD_REGISTRY: "load registry extracts",
    Action.READ_REGISTRY: "read registry records",
    Action.REGISTER_RELATIVE: "register near relatives",
    Action.READ_RELATIVES: "read near-relative registrations",
    Action.SUPERVISE: "supervise cases",
    Action.HANDLE_COMPLAINT: "handle complaints and reports (举报、投诉)",
    Action.READ_COMPLAINTS: "read complaints and reports",
    Action.OPERATE: "operate the service",
    Action.MANAGE_USERS: "manage the county's user accounts",
    Action.IMPORT_LEDGER: "import the county's ledger (台账)",
    Action.LOAD_BANK_RETURN: "load the bank's return (回盘)",
    Action.READ_STATISTICS: "read the monthly statistics (月报)",
    Action.PRINT_PAPERS: "print certificates and letters (低保证, 低保证明)",
}

# Roles that may register the near relatives of someone else: the township, which keeps the
# registry of the village cadres under it (many have no account), and the county, which handles
# the recusal. Supervision and audit read them (discipline inspection checks recusal).
RELATIVE_KEEPERS = frozenset({T, C})
RELATIVE_READERS = frozenset({T, C, S, A})


# --- jurisdictions ----------------------------------------------------------------------------


class Level(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


LEVEL_DIGITS = {Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}
_CODE = re.compile(r"^(\d{6}|\d{9}|\d{12})$")

# Where each role works: caseworkers at their own level, the county approver in the county,
# supervision and audit in a county or township, IT staff for a county.
ROLE_LEVELS: dict[Role, frozenset[Level]] = {
    V: frozenset({Level.VILLAGE}),
    T: frozenset({Level.TOWNSHIP}),
    C: frozenset({Level.COUNTY}),
    S: frozenset({Level.COUNTY, Level.TOWNSHIP}),
    A: frozenset({Level.COUNTY, Level.TOWNSHIP}),
    O: frozenset({Level.COUNTY}),
    U: frozenset({Level.COUNTY}),
}

USER_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
_USER_ID = re.compile(USER_ID_PATTERN)
MIN_PASSWORD_LENGTH = 10


def level_of(code: str) -> Level | None:
    if not _CODE.match(code):
        return None
    return {6: Level.COUNTY, 9: Level.TOWNSHIP, 12: Level.VILLAGE}[len(code)]


def overlaps(jurisdiction: str, code: str) -> bool:
    """Whether two places share ground: one contains the other."""
    return level_of(jurisdiction) is not None and (
        code.startswith(jurisdiction) or jurisdiction.startswith(code)
    )


@dataclass(frozen=True)
class CasePlace:
    """What authorisation needs of a case: where the household is registered, who is recused."""

    county_code: str
    township_code: str
    village_code: str
    recused_staff: tuple[str, ...] = ()
    approval_delegated: bool = False  # its pack moves approval to the township (Art. 2)

    @classmethod
    def parse_recused(cls, value: str | None) -> tuple[str, ...]:
        return tuple(s for s in (value or "").split(",") if s)


def _a(role: Role) -> str:
    # "a user_admin": the u of "user" is sounded as a consonant.
    return ("an " if role.value[0] in "aeio" else "a ") + role.value


def role_denial(action: Action, role: Role, approval_delegated: bool = False) -> str | None:
    """`approval_delegated`: the case's pack moves approval to the township (mca-2021 Art. 2)."""
    allowed = (
        DELEGATED_APPROVAL_ROLES[action]
        if approval_delegated and action in DELEGATED_APPROVAL_ROLES
        else ROLE_TABLE[action]
    )
    if role in allowed:
        return None
    names = ", ".join(sorted(r.value for r in allowed))
    return f"{_a(role)} may not {LABELS[action]}; allowed: {names}"


def place_denial(jurisdiction: str, county: str, township: str, village: str) -> str | None:
    """A household registered at this village, township and county, seen from a jurisdiction."""
    level = level_of(jurisdiction)
    if level is not None:
        code = {Level.COUNTY: county, Level.TOWNSHIP: township, Level.VILLAGE: village}[level]
        if code == jurisdiction:
            return None
    return f"the household is registered outside your jurisdiction ({jurisdiction or 'none'})"


def county_denial(jurisdiction: str, county: str) -> str | None:
    """County-wide business belongs to the users working inside that county."""
    if level_of(jurisdiction) is not None and jurisdiction[:6] == county:
        return None
    return f"county {county} is outside your jurisdiction ({jurisdiction or 'none'})"


def recusal_denial(user_id: str, recused_staff: tuple[str, ...]) -> str | None:
    if user_id not in recused_staff:
        return None
    return (
        f"{user_id} is registered as a near relative of this household (近亲属备案) and must "
        "recuse from its case"
    )


def case_denial(subject: Actor, action: Action, case: CasePlace) -> str | None:
    """Role, then jurisdiction, then recusal: the first reason that refuses."""
    return (
        role_denial(action, subject.role, case.approval_delegated)
        or place_denial(
            subject.jurisdiction, case.county_code, case.township_code, case.village_code
        )
        or recusal_denial(subject.id, case.recused_staff)
    )


def county_action_denial(subject: Actor, action: Action, county: str) -> str | None:
    return role_denial(action, subject.role) or county_denial(subject.jurisdiction, county)


def relative_denial(
    subject: Actor, action: Action, staff_id: str, staff_jurisdiction: str | None = None
) -> str | None:
    """Anyone registers and reads their own relatives; the township and the county register
    those of others, and supervision and audit read them, for staff working inside their own
    jurisdiction. `staff_jurisdiction` is the staff member's as a user, None for one without
    an account (a village cadre), whose registrations are scoped row by row instead
    (registry_jurisdiction, sees_registration)."""
    refused = role_denial(action, subject.role)
    if refused or staff_id == subject.id:
        return refused
    others = RELATIVE_KEEPERS if action is Action.REGISTER_RELATIVE else RELATIVE_READERS
    if subject.role not in others:
        return f"{_a(subject.role)} may only {LABELS[action]} of their own, not of {staff_id}"
    if staff_jurisdiction is not None and not inside(staff_jurisdiction, subject.jurisdiction):
        return (
            f"{staff_id} works outside your jurisdiction ({subject.jurisdiction or 'none'}); "
            "their registry is kept where they work"
        )
    return None


def inside(code: str, jurisdiction: str) -> bool:
    """Whether a place lies within a jurisdiction (or is it)."""
    return level_of(jurisdiction) is not None and code.startswith(jurisdiction)


def registry_jurisdiction(subject: Actor, staff_id: str, staff_jurisdiction: str | None) -> str:
    """Whose registry a new registration joins: the staff member's jurisdiction when they are a
    user (or register their own), otherwise the county of the registrant, which alone keeps
    the relatives of the cadres without an account it registers."""
    if staff_id == subject.id:
        return subject.jurisdiction
    if staff_jurisdiction is not None:
        return staff_jurisdiction
    return subject.jurisdiction[:6]


def sees_registration(subject: Actor, staff_id: str, registry: str) -> bool:
    """Whether one registration of an account-less staff member is the subject's to read."""
    return staff_id == subject.id or overlaps(subject.jurisdiction, registry)


@dataclass(frozen=True)
class ListScope:
    """The filters of a case listing once the user's jurisdiction is added to them."""

    county: str | None
    township: str | None
    village: str | None


def list_scope(
    jurisdiction: str, county: str | None, township: str | None, village: str | None
) -> ListScope | str:
    """Narrow a listing to the jurisdiction; a filter naming a place outside it is refused
    (rather than answered with an empty page, which would read as 'no cases there')."""
    for code in (county, township, village):
        if code is not None and not overlaps(jurisdiction, code):
            return f"{code} is outside your jurisdiction ({jurisdiction or 'none'})"
    level = level_of(jurisdiction)
    return ListScope(
        county=jurisdiction if level is Level.COUNTY else county,
        township=jurisdiction if level is Level.TOWNSHIP else township,
        village=jurisdiction if level is Level.VILLAGE else village,
    )


# --- users ------------------------------------------------------------------------------------


def user_problems(user_id: str, role: str, jurisdiction: str) -> list[tuple[str, str]]:
    """(field, reason) for each thing wrong with a new user; empty when it may be created."""
    problems: list[tuple[str, str]] = []
    if not _USER_ID.match(user_id):
        problems.append(("user_id", "2-64 characters: lower-case letters, digits, '.', '_' or '-'"))
    try:
        parsed = Role(role)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in ACCOUNT_ROLES:
        names = ", ".join(sorted(r.value for r in ACCOUNT_ROLES))
        problems.append(("role", f"must be one of {names}"))
    level = level_of(jurisdiction)
    if level is None:
        problems.append(
            ("jurisdiction", "a 6-digit county, 9-digit township or 12-digit village code")
        )
    elif parsed in ROLE_LEVELS and level not in ROLE_LEVELS[parsed]:
        levels = " or ".join(
            sorted(f"{lv.value} ({LEVEL_DIGITS[lv]} digits)" for lv in ROLE_LEVELS[parsed])
        )
        problems.append(("jurisdiction", f"{_a(parsed)} works in a {levels}"))
    return problems


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "no spaces at the start or end (they are easily mistyped)"
    return None


# What a county user administrator hands out: the county's case work, supervision and audit.
# Not ops (who run the service for many counties and hold its keys) and not another
# administrator: those accounts are made with the CLI by whoever holds the database.
ADMINISTERED_ROLES = frozenset({V, T, C, S, A})


def user_admin_denial(subject: Actor, role: str, jurisdiction: str) -> str | None:
    """Whether the subject may give an account this role and jurisdiction (create it, or
    change an account to it): a user administrator, a role it hands out, inside its county."""
    refused = role_denial(Action.MANAGE_USERS, subject.role)
    if refused:
        return refused
    if role not in {r.value for r in ADMINISTERED_ROLES}:
        names = ", ".join(sorted(r.value for r in ADMINISTERED_ROLES))
        return f"the role {role or 'none'} is not one a user administrator gives; allowed: {names}"
    county = subject.jurisdiction[:6]
    if not inside(jurisdiction, county):
        return f"{jurisdiction or 'none'} is outside your county ({county})"
    return None


def managed_user_denial(subject: Actor, user_id: str, role: str, jurisdiction: str) -> str | None:
    """Whether the subject may manage an existing account (disable, enable, issue a one-time
    password, change its role): one it could have created, and never its own."""
    if user_id == subject.id:
        refused = role_denial(Action.MANAGE_USERS, subject.role)
        return refused or "you may not manage your own account here; change your password instead"
    return user_admin_denial(subject, role, jurisdiction)

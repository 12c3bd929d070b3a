"""One key per action: what a request does, shared by everything that names it.

The key is the value of the action's `Action` member. For an action on one case (the members of
CASE_ACTIONS) everything else is derived from it, mechanically:

- the API path: POST /cases/{case_id}/<key, "_" written "-"> (`case_path`, which the API
  registers its endpoints with and everything that prints a path uses);
- the command line: `dibao case <key, "_" written "-">` (`command`);
- the case workflow's update: registered under the key (`@workflow.update(name=...)`);
- the audit action the update writes: the `AuditAction` member of the same key;
- the role table (dibao/domain/access.py) and the stage table (dibao/domain/stages.py): the
  member itself.

tests/domain/test_action_keys.py holds all five to the key. Every endpoint is one action: the
recipient phase's reports (sign-in, labour absence, circumstance, reemployment, work refusal,
household change) are one action each, with the same roles.

Not derived from a key, each for its reason:
- FILE_APPLICATION (POST /cases, `dibao case new`, audit `file_application`) makes a case:
  there is no case to post it on, and it starts the workflow rather than updating it;
- OPERATE is ops' role-table action for all of its business; its three actions on a case
  share the key of their update, path and audit action (`retry_step`, `skip_step`,
  `close_case`, OPS_CASE_ACTIONS) and are the commands `dibao ops retry|skip|close`;
- CHANGE_STANDARD is the county's: its batch sends each case the `apply_standard` update,
  audited as `apply_standard`, with no path of its own on a case;
- audit actions written outside any case action (import_ledger, print_certificate_letter,
  the complaint steps, lookup_id_number) have no `Action` of their own.
"""

from enum import StrEnum


class Action(StrEnum):
    """What a request does, as far as authorisation is concerned."""

    # one case
    READ_CASE = "read_case"
    FILE_APPLICATION = "file_application"
    MATERIALS = "materials"  # supplement missing materials (补齐材料)
    WITHDRAW = "withdraw"
    SURVEY = "survey"
    EVALUATION = "evaluation"
    EVIDENCE = "evidence"
    OBJECTION = "objection"
    TOWNSHIP_REVIEW = "township_review"
    COUNTY_VISIT = "county_visit"
    COUNTY_DECISION = "county_decision"
    EXTEND_DEADLINE = "extend_deadline"
    TERMINATE = "terminate"
    REVIEW = "review"  # a recipient household's re-review (复核)
    PAYEE = "payee"  # record or change the account the benefit is paid into
    SIGN_IN = "sign_in"
    LABOUR_ABSENCE = "labour_absence"
    CIRCUMSTANCE = "circumstance"
    REEMPLOYMENT = "reemployment"  # 渐退
    WORK_REFUSAL = "work_refusal"
    HOUSEHOLD_CHANGE = "household_change"
    READ_AUDIT = "read_audit"
    # a county's business
    BUILD_PAYROLL = "build_payroll"
    RELEASE_PAYROLL = "release_payroll"
    READ_PAYROLL = "read_payroll"
    CHANGE_STANDARD = "change_standard"
    READ_STANDARD_CHANGE = "read_standard_change"
    DRAW_SPOT_CHECK = "draw_spot_check"
    READ_SPOT_CHECK = "read_spot_check"
    ASSIGN_RULE_PACK = "assign_rule_pack"
    # a county going live: ledger import, bank returns, monthly statistics, papers
    IMPORT_LEDGER = "import_ledger"
    LOAD_BANK_RETURN = "load_bank_return"
    READ_STATISTICS = "read_statistics"
    PRINT_PAPERS = "print_papers"
    # office data, not tied to one county
    READ_POLICY = "read_policy"
    PUBLISH_RULE_PACK = "publish_rule_pack"
    EDIT_CALENDAR = "edit_calendar"
    LOAD_REGISTRY = "load_registry"
    READ_REGISTRY = "read_registry"
    REGISTER_RELATIVE = "register_relative"
    READ_RELATIVES = "read_relatives"
    # complaints and reports (mca-2021 Arts. 36–37): dibao/domain/complaints.py has the steps
    HANDLE_COMPLAINT = "handle_complaint"
    READ_COMPLAINTS = "read_complaints"
    # supervision and operations
    SUPERVISE = "supervise"
    OPERATE = "operate"
    # user accounts of a county (the county user administrator)
    MANAGE_USERS = "manage_users"


# The actions a user takes on one case at POST /cases/{case_id}/<key>, each the case workflow's
# update of the same name, in the order a console lists them.
CASE_ACTIONS: tuple[Action, ...] = (
    Action.MATERIALS,
    Action.SURVEY,
    Action.EVIDENCE,
    Action.EVALUATION,
    Action.OBJECTION,
    Action.TOWNSHIP_REVIEW,
    Action.COUNTY_VISIT,
    Action.COUNTY_DECISION,
    Action.EXTEND_DEADLINE,
    Action.REVIEW,
    Action.SIGN_IN,
    Action.LABOUR_ABSENCE,
    Action.CIRCUMSTANCE,
    Action.HOUSEHOLD_CHANGE,
    Action.REEMPLOYMENT,
    Action.WORK_REFUSAL,
    Action.PAYEE,
    Action.WITHDRAW,
    Action.TERMINATE,
)

# Ops' resolutions of a failed step of a case: one key each for the path, the update and the
# audit action; the role table's action for all three is OPERATE.
OPS_CASE_ACTIONS: tuple[str, ...] = ("retry_step", "skip_step", "close_case")


def segment(key: str) -> str:
    """The key as it is written in a path or a command: "county_visit" is "county-visit"."""
    return key.replace("_", "-")


def case_path(key: str, case_id: str = "{case_id}") -> str:
    """Where the action is posted: POST /cases/{case_id}/<segment>; with `case_id` left as is,
    the path the API registers."""
    return f"/cases/{case_id}/{segment(key)}"


def command(key: str) -> str:
    """The command that takes the action: `dibao case <segment>`."""
    return segment(key)

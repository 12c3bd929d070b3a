"""One key per action: what a request does, shared by the API's role table, the stage table
(dibao/domain/stages.py), the workflow's checks and the actions offered to a user."""

from enum import StrEnum


class Action(StrEnum):
    """What a request does, as far as authorisation is concerned."""

    # one case
    READ_CASE = "read_case"
    FILE_APPLICATION = "file_application"
    SUPPLEMENT_MATERIALS = "supplement_materials"
    WITHDRAW = "withdraw"
    SUBMIT_SURVEY = "submit_survey"
    SUBMIT_EVALUATION = "submit_evaluation"
    SUBMIT_EVIDENCE = "submit_evidence"
    RAISE_OBJECTION = "raise_objection"
    TOWNSHIP_REVIEW = "township_review"
    COUNTY_VISIT = "county_visit"
    COUNTY_DECISION = "county_decision"
    EXTEND_DEADLINE = "extend_deadline"
    TERMINATE = "terminate"
    SUBMIT_REVIEW = "submit_review"
    CHANGE_PAYEE = "change_payee"
    REPORT_RECIPIENT = "report_recipient"  # sign-ins, labour absences, circumstances, 渐退, work
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

"""Custom search attributes. Only opaque or jurisdiction data: they are stored in clear."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("DibaoStage")
STATUS = SearchAttributeKey.for_keyword("DibaoStatus")
COUNTY = SearchAttributeKey.for_keyword("DibaoCounty")
TOWNSHIP = SearchAttributeKey.for_keyword("DibaoTownship")
DUE_AT = SearchAttributeKey.for_datetime("DibaoDueAt")
# The activity type of the step a case waits on after it gave up (an incident), unset when
# none: `DibaoIncident IS NOT NULL` in the Temporal UI lists every case that needs ops.
INCIDENT = SearchAttributeKey.for_keyword("DibaoIncident")
# Set when the current stage's deadline passed (the deadline timer fired).
OVERDUE = SearchAttributeKey.for_bool("DibaoOverdue")

ALL_KEYS = (STAGE, STATUS, COUNTY, TOWNSHIP, DUE_AT, INCIDENT, OVERDUE)


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL_KEYS:
        kind = {DUE_AT: "Datetime", OVERDUE: "Bool"}.get(key, "Keyword")
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags

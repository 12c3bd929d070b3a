"""Custom search attributes. Only opaque or jurisdiction data: they are stored in clear."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("DibaoStage")
STATUS = SearchAttributeKey.for_keyword("DibaoStatus")
COUNTY = SearchAttributeKey.for_keyword("DibaoCounty")
TOWNSHIP = SearchAttributeKey.for_keyword("DibaoTownship")
DUE_AT = SearchAttributeKey.for_datetime("DibaoDueAt")

ALL_KEYS = (STAGE, STATUS, COUNTY, TOWNSHIP, DUE_AT)


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL_KEYS:
        kind = "Keyword" if key is not DUE_AT else "Datetime"
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags

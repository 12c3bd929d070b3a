"""The case page names the approval stage after whoever decides (mca-2021 Art. 2)."""

from __future__ import annotations

from console.pages import _stage_namer


def test_delegated_approval_is_named_the_townships() -> None:
    assert _stage_namer(True)("county_approval") == "乡镇审批（县级委托）"
    assert _stage_namer(False)("county_approval") == "县级审批"
    assert _stage_namer(True)("survey") == _stage_namer(False)("survey")

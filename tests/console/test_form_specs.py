"""The action forms: one for every action the case page may offer."""

from __future__ import annotations

from console.actions import SLUGS
from console.forms.specs import FORMS


def test_every_action_the_case_page_offers_has_its_form() -> None:
    assert set(SLUGS) <= set(FORMS)

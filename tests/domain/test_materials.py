"""Required materials and the one-time notice of everything missing (一次性告知)."""

from __future__ import annotations

import pytest

from dibao.domain.enums import Material, Relation
from dibao.domain.materials import (
    BASE_MATERIALS,
    MATERIAL_LABELS,
    missing_materials,
    provided_materials,
    required_materials,
)
from tests.domain.factories import GRANDSON_ID, SON_ID, application, household, member

# The base materials that need no signature (the declaration and authorisation do).
ALL_BASE_PAPERS = (
    Material.APPLICATION_FORM,
    Material.HOUSEHOLD_REGISTER,
    Material.ID_CARDS,
)


def test_healthy_household_needs_exactly_the_five_base_materials_in_order() -> None:
    assert required_materials(application()) == (
        Material.APPLICATION_FORM,
        Material.INCOME_ASSET_DECLARATION,
        Material.VERIFICATION_AUTHORISATION,
        Material.HOUSEHOLD_REGISTER,
        Material.ID_CARDS,
    )
    assert required_materials(application()) == BASE_MATERIALS


def test_household_with_a_disabled_member_needs_the_disability_certificate() -> None:
    app = application(
        members=household(member("王建军", SON_ID, Relation.CHILD, disability_grade=2))
    )
    required = required_materials(app)
    assert Material.DISABILITY_CERTIFICATE in required
    assert Material.MEDICAL_RECORDS not in required


@pytest.mark.parametrize("illness", ["major_illness", "chronic_illness"])
def test_household_with_an_ill_member_needs_medical_records(illness: str) -> None:
    app = application(
        members=household(member("王建军", SON_ID, Relation.CHILD, **{illness: True}))
    )
    required = required_materials(app)
    assert Material.MEDICAL_RECORDS in required
    assert Material.DISABILITY_CERTIFICATE not in required


def test_disability_certificate_and_medical_records_come_once_after_the_base_list() -> None:
    app = application(
        members=(
            member(chronic_illness=True, disability_grade=1),
            member("王建军", SON_ID, Relation.CHILD, disability_grade=3, major_illness=True),
            member("王小明", GRANDSON_ID, Relation.GRANDCHILD, disability_grade=4),
        )
    )
    assert required_materials(app) == (
        *BASE_MATERIALS,
        Material.DISABILITY_CERTIFICATE,
        Material.MEDICAL_RECORDS,
    )


def test_every_material_has_a_notice_label() -> None:
    assert set(MATERIAL_LABELS) == set(Material)
    assert all(label.strip() for label in MATERIAL_LABELS.values())


# --- provided_materials ---------------------------------------------------------------------


def test_signed_declaration_and_authorisation_count_as_provided() -> None:
    provided = provided_materials(
        ALL_BASE_PAPERS, declaration_signed=True, verification_authorised=True
    )
    assert provided == frozenset(BASE_MATERIALS)


def test_unsigned_declaration_and_authorisation_are_not_provided() -> None:
    provided = provided_materials(
        ALL_BASE_PAPERS, declaration_signed=False, verification_authorised=False
    )
    assert Material.INCOME_ASSET_DECLARATION not in provided
    assert Material.VERIFICATION_AUTHORISATION not in provided


def test_listing_the_unsigned_declaration_and_authorisation_does_not_count_as_provided() -> None:
    provided = provided_materials(
        (*ALL_BASE_PAPERS, Material.INCOME_ASSET_DECLARATION, Material.VERIFICATION_AUTHORISATION),
        declaration_signed=False,
        verification_authorised=False,
    )
    assert Material.INCOME_ASSET_DECLARATION not in provided
    assert Material.VERIFICATION_AUTHORISATION not in provided


def test_provided_materials_ignores_duplicates() -> None:
    provided = provided_materials(
        [Material.ID_CARDS, Material.ID_CARDS],
        declaration_signed=False,
        verification_authorised=False,
    )
    assert provided == frozenset({Material.ID_CARDS})


# --- missing_materials ----------------------------------------------------------------------


def test_complete_application_has_nothing_missing() -> None:
    provided = provided_materials(ALL_BASE_PAPERS, True, True)
    assert missing_materials(application(), provided) == ()


def test_unsigned_declaration_is_missing() -> None:
    provided = provided_materials(
        ALL_BASE_PAPERS, declaration_signed=False, verification_authorised=True
    )
    assert missing_materials(application(), provided) == (Material.INCOME_ASSET_DECLARATION,)


def test_unsigned_verification_authorisation_is_missing() -> None:
    provided = provided_materials(
        ALL_BASE_PAPERS, declaration_signed=True, verification_authorised=False
    )
    assert missing_materials(application(), provided) == (Material.VERIFICATION_AUTHORISATION,)


def test_nothing_provided_reports_every_required_item_at_once_in_stable_order() -> None:
    app = application(
        members=household(
            member("王建军", SON_ID, Relation.CHILD, disability_grade=2),
            member("王小明", GRANDSON_ID, Relation.GRANDCHILD, major_illness=True),
        )
    )
    assert missing_materials(app, provided_materials((), False, False)) == (
        Material.APPLICATION_FORM,
        Material.INCOME_ASSET_DECLARATION,
        Material.VERIFICATION_AUTHORISATION,
        Material.HOUSEHOLD_REGISTER,
        Material.ID_CARDS,
        Material.DISABILITY_CERTIFICATE,
        Material.MEDICAL_RECORDS,
    )


def test_missing_order_follows_the_required_list_not_the_order_materials_were_provided() -> None:
    app = application(members=(member(disability_grade=1, chronic_illness=True),))
    forward = provided_materials(
        [Material.HOUSEHOLD_REGISTER, Material.APPLICATION_FORM], False, True
    )
    backward = provided_materials(
        [Material.APPLICATION_FORM, Material.HOUSEHOLD_REGISTER], False, True
    )
    expected = (
        Material.INCOME_ASSET_DECLARATION,
        Material.ID_CARDS,
        Material.DISABILITY_CERTIFICATE,
        Material.MEDICAL_RECORDS,
    )
    assert missing_materials(app, forward) == expected
    assert missing_materials(app, backward) == expected


def test_sample_household_is_told_only_the_authorisation_and_disability_certificate() -> None:
    # Mirrors examples/household.json: chronically ill head, a disabled son, declaration signed,
    # authorisation not signed, medical records handed in but no disability certificate.
    app = application(
        members=(
            member(chronic_illness=True),
            member("王建军", SON_ID, Relation.CHILD, disability_grade=2),
            member("王小明", GRANDSON_ID, Relation.GRANDCHILD),
        )
    )
    provided = provided_materials(
        [
            Material.APPLICATION_FORM,
            Material.HOUSEHOLD_REGISTER,
            Material.ID_CARDS,
            Material.MEDICAL_RECORDS,
        ],
        declaration_signed=True,
        verification_authorised=False,
    )
    assert missing_materials(app, provided) == (
        Material.VERIFICATION_AUTHORISATION,
        Material.DISABILITY_CERTIFICATE,
    )


def test_extra_materials_not_required_are_not_reported_as_missing() -> None:
    provided = provided_materials(
        (*ALL_BASE_PAPERS, Material.DISABILITY_CERTIFICATE, Material.MEDICAL_RECORDS), True, True
    )
    assert missing_materials(application(), provided) == ()

"""Which materials an application needs, and what is still missing (一次性告知)."""

from __future__ import annotations

from collections.abc import Iterable

from dibao.domain.application import Application
from dibao.domain.enums import Material

BASE_MATERIALS: tuple[Material, ...] = (
    Material.APPLICATION_FORM,
    Material.INCOME_ASSET_DECLARATION,
    Material.VERIFICATION_AUTHORISATION,
    Material.HOUSEHOLD_REGISTER,
    Material.ID_CARDS,
)

# Provided by signing, never by merely listing them; the API refuses them in `materials`.
SIGNED_MATERIALS = frozenset(
    {Material.INCOME_ASSET_DECLARATION, Material.VERIFICATION_AUTHORISATION}
)

# Wording for the notice; the one-time notice must let the applicant act without asking again.
MATERIAL_LABELS: dict[Material, str] = {
    Material.APPLICATION_FORM: "最低生活保障申请书（申请表）",
    Material.INCOME_ASSET_DECLARATION: "家庭收入财产声明及如实申报承诺书（须本人签字）",
    Material.VERIFICATION_AUTHORISATION: "家庭经济状况核查授权委托书（须共同生活家庭成员签字）",
    Material.HOUSEHOLD_REGISTER: "户口簿原件及复印件",
    Material.ID_CARDS: "共同生活家庭成员居民身份证原件及复印件",
    Material.DISABILITY_CERTIFICATE: "残疾人证原件及复印件",
    Material.MEDICAL_RECORDS: "医院诊断证明及医疗费用票据",
}


def required_materials(app: Application) -> tuple[Material, ...]:
    required = list(BASE_MATERIALS)
    if any(m.disability_grade is not None for m in app.members):
        required.append(Material.DISABILITY_CERTIFICATE)
    if any(m.major_illness or m.chronic_illness for m in app.members):
        required.append(Material.MEDICAL_RECORDS)
    return tuple(required)


def provided_materials(
    materials: Iterable[Material], declaration_signed: bool, verification_authorised: bool
) -> frozenset[Material]:
    """The signed declaration and authorisation count as provided only when signed."""
    provided = set(materials) - SIGNED_MATERIALS
    if declaration_signed:
        provided.add(Material.INCOME_ASSET_DECLARATION)
    if verification_authorised:
        provided.add(Material.VERIFICATION_AUTHORISATION)
    return frozenset(provided)


def missing_materials(app: Application, provided: frozenset[Material]) -> tuple[Material, ...]:
    """Every missing item at once, in the order of the required list."""
    return tuple(m for m in required_materials(app) if m not in provided)

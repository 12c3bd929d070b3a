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
    Material.RIGID_EXPENSE_RECEIPTS: "因残疾、患重病增加的刚性支出票据（康复、护理、辅具、自付医疗费用等）",
    Material.PROXY_MANDATE: "委托申请书（委托村（居）民委员会或他人代为申请的书面委托手续）",
    Material.RESIDENCE_PERMIT: "居住证原件及复印件",
}


def required_materials(app: Application) -> tuple[Material, ...]:
    required = list(BASE_MATERIALS)
    if any(m.disability_grade is not None for m in app.members):
        required.append(Material.DISABILITY_CERTIFICATE)
    if any(m.major_illness or m.chronic_illness for m in app.members):
        required.append(Material.MEDICAL_RECORDS)
    if app.rigid_expenses:
        required.append(Material.RIGID_EXPENSE_RECEIPTS)
    if app.proxy is not None:
        required.append(Material.PROXY_MANDATE)  # mca-2021 Art. 6: 办理相应委托手续
    if app.residence_permit:
        required.append(Material.RESIDENCE_PERMIT)  # Art. 5
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

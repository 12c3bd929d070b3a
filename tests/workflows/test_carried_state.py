"""Nothing the case workflow accepted is dropped when a review cycle continues as new: the
whole state goes, as one CarriedState, into the next run's input and comes back out of it."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from api.schemas import ApplicationIn
from dibao.domain.rulepacks import MCA_2021
from dibao.messages.case import CarriedState, CaseInput
from tests.conftest import TEST_CONVERTER
from tests.workflows.helpers import VILLAGE
from workflows.case_state import CaseState


def filled(tp: Any, n: int = 1) -> Any:
    """A value of type `tp` with every field, nested too, set to something other than its
    default: no None, no empty tuple, no False or zero."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return filled(next(a for a in typing.get_args(tp) if a is not type(None)), n)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return (filled(args[0], n),)
        return tuple(filled(a, n) for a in args)
    if origin is dict:
        key, value = typing.get_args(tp)
        return {filled(key, n): filled(value, n)}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        values = {
            f.name: filled(hints[f.name], n + i) for i, f in enumerate(dataclasses.fields(tp))
        }
        return tp(**values)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members = list(tp)
        return members[n % len(members)] if len(members) > 1 else members[0]
    if tp is bool:
        return True
    if tp is int:
        return n + 1
    if tp is float:
        return 0.5 + n
    if tp is Decimal:
        return Decimal(n) + Decimal("0.25")
    if tp is str:
        return f"2027-0{n % 9 + 1}" if n % 2 else f"v{n}"
    if tp is datetime:
        return datetime(2027, 1, 1 + n % 27, 8, tzinfo=UTC)
    if tp is date:
        return date(2027, 1, 1 + n % 27)
    raise AssertionError(f"the test cannot fill a {tp!r}: teach `filled` this type")


def case_input(sample: dict[str, Any], carried: CarriedState | None = None) -> CaseInput:
    return CaseInput(
        case_id="DB-CARRIED00001",
        application=ApplicationIn.model_validate(sample).to_domain(),
        rule_pack_id=MCA_2021.id,
        rule_pack_version=MCA_2021.version,
        filed_at=datetime(2026, 12, 1, tzinfo=UTC),
        filed_by=VILLAGE,
        request_id="req-file",
        rule_pack=MCA_2021,
        carried=carried,
    )


def test_every_attribute_of_the_case_state_is_carried_or_declared_transient(
    sample: dict[str, Any],
) -> None:
    attributes = set(vars(CaseState(case_input(sample))))
    carried = {f.name for f in dataclasses.fields(CarriedState)}
    assert attributes - carried - CaseState.TRANSIENT == set(), (
        "state the next run would lose: carry it in CarriedState or declare why it is transient"
    )
    assert carried - attributes == set()
    # A declared reason must name something the state holds.
    assert CaseState.TRANSIENT - attributes == set()
    assert CaseState.TRANSIENT & carried == set()


async def test_every_field_of_a_filled_state_survives_the_continue_as_new_input(
    sample: dict[str, Any],
) -> None:
    state = filled(CarriedState)
    state = dataclasses.replace(state, handled_requests=tuple(sorted(state.handled_requests)))
    for f in dataclasses.fields(CarriedState):
        value = getattr(state, f.name)
        assert value not in (None, (), False, 0, ""), f"{f.name} is not filled"

    # The data converter (with the tests' codec) is what the next run's input goes through.
    payloads = await TEST_CONVERTER.encode([case_input(sample, state)])
    decoded: list[CaseInput] = await TEST_CONVERTER.decode(payloads, [CaseInput])
    next_input = decoded[0]
    assert next_input.carried == state
    restored = CaseState(next_input)
    assert restored.carried() == state
    for f in dataclasses.fields(CarriedState):
        assert getattr(restored.carried(), f.name) == getattr(state, f.name), f.name

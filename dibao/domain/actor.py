"""Who acts on a case, and why an action can be refused: the words the rules and the
messages share."""

from dataclasses import dataclass
from enum import StrEnum

from dibao.domain.enums import Role


class Rejection(StrEnum):
    """Why an update was refused; the API maps these to HTTP statuses (409 / 422)."""

    WRONG_STAGE = "WrongStage"
    INVALID = "InvalidAction"
    RECUSED = "Recused"  # a registered near relative of the household may not act (403)


@dataclass(frozen=True)
class Actor:
    id: str
    role: Role
    # The authenticated user's county/township/village code. Defaulted so that actors in
    # histories recorded before authentication still decode.
    jurisdiction: str = ""

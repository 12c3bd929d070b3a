"""The users service's password rules: a one-time password meets the policy; a new password
must meet it, differ from the current one and be typed twice the same."""

from __future__ import annotations

from api.users_service import new_password_problems, one_time_password
from dibao.domain import access


def test_new_password_checks() -> None:
    otp = one_time_password()
    assert len(otp) >= access.MIN_PASSWORD_LENGTH and access.password_problem(otp) is None
    assert new_password_problems("xu.ming", otp, "short", "short")[0].path == ("new_password",)
    same = new_password_problems("xu.ming", otp, otp, otp)
    assert same[0].message == "must differ from the current password"
    twice = new_password_problems("xu.ming", otp, "a long new secret", "a long new secreT")
    assert [p.path for p in twice] == [("new_password_again",)]

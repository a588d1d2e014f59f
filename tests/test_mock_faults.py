"""Fault injection plans of the mock departments."""

from __future__ import annotations

import pytest

from hub.errors import ClientError
from mock_departments.faults import FaultPlan, Verdict


def test_fault_plan_accepts_everything_by_default() -> None:
    assert FaultPlan().verdict() is Verdict.ACCEPT


def test_fault_plan_fails_exactly_the_next_n_deliveries() -> None:
    plan = FaultPlan()
    plan.fail_next(2)
    assert [plan.verdict() for _ in range(3)] == [Verdict.FAIL, Verdict.FAIL, Verdict.ACCEPT]


def test_permanent_failures_are_rejections() -> None:
    plan = FaultPlan()
    plan.fail_next(1, permanent=True)
    assert plan.verdict() is Verdict.REJECT


def test_a_down_department_stays_down_until_cleared() -> None:
    plan = FaultPlan()
    plan.down()
    assert [plan.verdict() for _ in range(2)] == [Verdict.DOWN, Verdict.DOWN]
    plan.clear()
    assert plan.verdict() is Verdict.ACCEPT


def test_control_requests_combine_settings() -> None:
    plan = FaultPlan()
    state = plan.apply({"fail_next": 3, "permanent": True, "slow": 0.5})
    assert state.as_dict() == {"fail_next": 3, "permanent": True, "slow": 0.5, "down": False}
    assert plan.apply({"clear": True}).as_dict()["fail_next"] == 0


@pytest.mark.parametrize(
    "request_",
    [{"explode": True}, {"fail_next": "three"}, {"fail_next": -1}, {"slow": True}],
)
def test_control_requests_refuse_what_they_do_not_understand(request_: dict[str, object]) -> None:
    with pytest.raises(ClientError):
        FaultPlan().apply(request_)

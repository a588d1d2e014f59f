"""GOVHUB_DEPARTMENT_ENDPOINTS points a department registered at runtime at where its
system really listens, as it does for the departments of the departments file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hubstack import header, marriage, running_hub
from test_runtime_onboarding import COUNTY, PACKAGE, govhub

from hub.departments import parse_endpoint_overrides
from hub.errors import ConfigurationError
from hub.polling import wait_for
from mock_departments.runner import MockDepartments

CODE = "PUBLIC_SECURITY"


def test_a_department_registered_at_runtime_is_delivered_at_its_overridden_endpoint(
    tmp_path: Path, household: MockDepartments
) -> None:
    endpoints = f"{CODE}={household.url(CODE)}/soap"  # the package says port 8704: not used
    with running_hub(tmp_path, more_endpoints=endpoints) as stack:
        code, output = govhub(stack, "departments", "register", str(PACKAGE), "--actor", "admin")
        assert code == 0, output
        assert wait_for(lambda: CODE in stack.runtime.departments, 10)
        assert stack.runtime.departments.get(CODE).endpoint == f"{household.url(CODE)}/soap"

        receipt = stack.client().service.Submit(
            header=header(), message=marriage(registrationOffice=COUNTY)
        )
        assert CODE in receipt.receivers
        assert wait_for(lambda: household.household.store.count() == 1, 20)


@pytest.mark.parametrize("text", ["PUBLIC_SECURITY", "=http://h:1", "TAX="])
def test_an_override_without_a_code_or_a_url_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="expected CODE=url"):
        parse_endpoint_overrides(text)


def test_an_override_for_a_department_not_yet_registered_does_not_stop_the_hub() -> None:
    assert parse_endpoint_overrides(" NEW_DEPT=file:///srv/drop , TAX=http://h:1 ") == {
        "NEW_DEPT": "file:///srv/drop",
        "TAX": "http://h:1",
    }

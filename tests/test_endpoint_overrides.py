"""GOVHUB_DEPARTMENT_ENDPOINTS points a department registered at runtime at where its
system really listens, as it does for the departments of the departments file."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from deployment import PROCESS_START_SECONDS
from hubstack import header, marriage, running_hub
from test_runtime_onboarding import COUNTY, PACKAGE, govhub

from hub.departments import parse_endpoint_overrides
from hub.errors import ConfigurationError
from hub.polling import wait_for
from mock_departments.runner import MockDepartments

pytestmark = pytest.mark.slow  # a real hub, mock departments, processes

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


def test_the_tutorials_fourth_department_runs_on_a_free_port_found_through_its_data_folder(
    tmp_path: Path,
) -> None:
    """docs/tutorial-fourth-department.md, step 1: the mock on `--port 0`, its address read
    from the data folder (what the tutorial hands GOVHUB_DEPARTMENT_ENDPOINTS), and `fault`
    finding it there from another process."""
    govhub = [sys.executable, "-m", "hub"]
    data = ["--data-dir", str(tmp_path)]
    mock = subprocess.Popen(
        [*govhub, "mock-departments", "serve", "PUBLIC_SECURITY", "--port", "0", *data],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        written = tmp_path / "mock_departments" / "PUBLIC_SECURITY.url"
        assert wait_for(written.exists, PROCESS_START_SECONDS)
        url = written.read_text("utf-8").strip()
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":8704")
        assert "definitions" in requests.get(f"{url}/soap?wsdl", timeout=10).text

        fault = [*govhub, "mock-departments", "fault", "household", "--down", *data]
        done = subprocess.run(fault, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert requests.post(f"{url}/soap", data=b"<x/>", timeout=10).status_code == 503
    finally:
        mock.send_signal(signal.SIGINT)
        try:
            mock.wait(PROCESS_START_SECONDS)
        except subprocess.TimeoutExpired:
            mock.kill()  # not left behind, whatever failed
            raise
    assert not written.exists()  # it stopped: nothing names a port no one listens on

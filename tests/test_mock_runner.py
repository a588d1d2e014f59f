"""Starting and stopping the three mocks together."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from hub.errors import ConfigurationError
from mock_departments.runner import DEPARTMENTS, start_mock_departments

FREE_PORTS = dict.fromkeys(DEPARTMENTS, 0)


def test_runner_starts_all_four_on_free_ports_and_stops_them(tmp_path: Path) -> None:
    with start_mock_departments(data_dir=tmp_path, ports=FREE_PORTS) as mocks:
        endpoints = mocks.endpoints()
        assert set(endpoints) == {"MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX", "SUPERVISION"}
        assert endpoints["MARRIAGE_REGISTRY"].endswith("/soap")
        for code in endpoints:
            assert requests.get(mocks.url(code) + "/_control/faults", timeout=10).ok
    with pytest.raises(requests.ConnectionError):
        requests.get(mocks.url("TAX") + "/_control/faults", timeout=10)


def test_runner_says_which_port_is_taken(tmp_path: Path) -> None:
    with start_mock_departments(data_dir=tmp_path, ports=FREE_PORTS) as first:
        taken = {**FREE_PORTS, "TAX": int(first.url("tax").rsplit(":", 1)[1])}
        with pytest.raises(ConfigurationError, match="cannot listen"):
            start_mock_departments(data_dir=tmp_path / "other", ports=taken)


def test_the_soap_mocks_serve_their_wsdl(tmp_path: Path) -> None:
    with start_mock_departments(data_dir=tmp_path, ports=FREE_PORTS) as mocks:
        for code in ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY"):
            answer = requests.get(mocks.url(code) + "/soap?wsdl", timeout=10)
            assert answer.ok
            assert b"IdempotencyKey" in answer.content

"""A department's HTTP session reads the proxy and CA-bundle environment once, when it is
made, and applies it exactly as requests would on every call."""

from __future__ import annotations

import pytest

from adapters._http import new_session

ENDPOINT = "https://tax.example.gov.cn/api"


def test_a_proxy_from_the_environment_applies_to_the_department(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    session = new_session(ENDPOINT)

    assert session.proxies.get("https") == "http://proxy.internal:3128"


def test_no_proxy_exempts_the_department_from_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "tax.example.gov.cn")

    session = new_session(ENDPOINT)

    assert "https" not in session.proxies


def test_a_ca_bundle_from_the_environment_verifies_the_department(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/govhub/department-ca.pem")

    assert new_session(ENDPOINT).verify == "/etc/govhub/department-ca.pem"

"""A department's HTTP session reads the proxy and CA-bundle environment once, when it is
made, and applies it exactly as requests would on every call."""

from __future__ import annotations

import pytest
import responses

from adapters._http import USER_AGENT, Poster, new_session

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


@responses.activate
def test_each_post_carries_its_own_headers_and_body_and_the_sessions_auth() -> None:
    responses.post(ENDPOINT, body="ok")
    session = new_session(ENDPOINT)
    session.auth = ("hub", "s3cret")
    poster = Poster(session)

    poster.post(ENDPOINT, b"first", {"Idempotency-Key": "k1"}, timeout=5)
    poster.post(ENDPOINT, b"second, longer", {"Idempotency-Key": "k2"}, timeout=5)

    first, second = (call.request for call in responses.calls)
    assert (first.body, first.headers["Idempotency-Key"]) == (b"first", "k1")
    assert (second.body, second.headers["Idempotency-Key"]) == (b"second, longer", "k2")
    assert second.headers["Content-Length"] == str(len(b"second, longer"))
    assert first.headers["Authorization"] == second.headers["Authorization"]
    assert second.headers["Authorization"].startswith("Basic ")
    assert second.headers["User-Agent"] == USER_AGENT


@responses.activate
def test_a_cookie_the_department_sets_is_sent_back_on_the_next_post() -> None:
    responses.post(ENDPOINT, body="ok", headers={"Set-Cookie": "route=node-2; Path=/"})
    poster = Poster(new_session(ENDPOINT))

    poster.post(ENDPOINT, b"first", {}, timeout=5)
    poster.post(ENDPOINT, b"second", {}, timeout=5)

    assert "Cookie" not in responses.calls[0].request.headers
    assert responses.calls[1].request.headers["Cookie"] == "route=node-2"


@responses.activate
def test_a_redirect_is_not_followed() -> None:
    responses.post(ENDPOINT, status=307, headers={"Location": "https://elsewhere.example/x"})

    answer = Poster(new_session(ENDPOINT)).post(ENDPOINT, b"record", {}, timeout=5)

    assert answer.status_code == 307
    assert len(responses.calls) == 1


@responses.activate
def test_a_response_hook_on_the_session_still_runs() -> None:
    responses.post(ENDPOINT, body="ok")
    session = new_session(ENDPOINT)
    seen: list[int] = []
    session.hooks["response"].append(lambda response, **_: seen.append(response.status_code))

    Poster(session).post(ENDPOINT, b"record", {}, timeout=5)

    assert seen == [200]

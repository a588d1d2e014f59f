"""What every HTTP-based adapter shares: translating requests' errors and HTTP statuses into
the hub's delivery errors, and a short, masked excerpt of a department's answer."""

from __future__ import annotations

import os
import re
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.utils import select_proxy
from urllib3 import HTTPConnectionPool

from adapters.http_client import KeptConnections
from hub.errors import DeliveryError, PermanentDeliveryError, RetryableDeliveryError
from hub.identity import mask_in_text

EXCERPT_LIMIT = 500
# 408 Request Timeout and 429 Too Many Requests say "later", not "never".
RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})
USER_AGENT = "govhub/0.1"

_WHITESPACE = re.compile(r"\s+")


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """A one-line excerpt of a department's answer, identity numbers masked."""
    # Mask before cutting, so a cut can never leave part of a number unmasked.
    masked = mask_in_text(_WHITESPACE.sub(" ", text).strip())
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


def response_text(response: requests.Response) -> str:
    """The answer as text, decoded with its declared charset (UTF-8 when none is declared)."""
    # requests would assume ISO-8859-1 for text/* without a charset; departments mean UTF-8.
    declared = "charset=" in _content_type(response)
    charset = requests.utils.get_encoding_from_headers(response.headers) if declared else None
    charset = charset or "utf-8"
    try:
        return response.content.decode(charset, errors="replace")
    except LookupError:
        return response.content.decode("utf-8", errors="replace")


def is_success(status: int) -> bool:
    return 200 <= status < 300


def error_for_status(department: str, status: int, answer: str) -> DeliveryError:
    """The delivery error an HTTP status means when the answer says nothing more precise."""
    message = f"{department} answered HTTP {status}"
    if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
        return RetryableDeliveryError(message, detail=answer or None)
    return PermanentDeliveryError(message, detail=answer or None)


@contextmanager
def translated_request_errors(department: str) -> Iterator[None]:
    """Re-raise requests' errors as the hub's delivery errors (like httpx's
    map_httpcore_exceptions): down or slow is retryable, a broken request is not."""
    try:
        yield
    except requests.Timeout as exc:
        raise RetryableDeliveryError(
            f"{department} did not answer in time", detail=excerpt(str(exc))
        ) from exc
    except requests.ConnectionError as exc:
        raise RetryableDeliveryError(
            f"cannot connect to {department}", detail=excerpt(str(exc))
        ) from exc
    except requests.RequestException as exc:
        raise PermanentDeliveryError(
            f"cannot send to {department}: {type(exc).__name__}", detail=excerpt(str(exc))
        ) from exc


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name; None when absent or blank."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value.strip():
            return value.strip()
    return None


def new_session(endpoint: str = "") -> requests.Session:
    """A keep-alive session for one department. The proxy and CA-bundle environment is read
    once, here: requests re-reads it on every call, a quarter of a delivery's HTTP cost."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    # The codings adapters/http_client.py undoes (urllib3 would also ask for br and zstd when
    # their packages happen to be installed).
    session.headers["Accept-Encoding"] = "gzip, deflate"
    session.proxies = _environment_proxies(endpoint)
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False
    for prefix in ("https://", "http://"):
        session.mount(prefix, PoolPerEndpoint())
    return session


class PoolPerEndpoint(HTTPAdapter):
    """requests' transport adapter for departments: a request without a proxy and with its
    body in memory goes over the hub's own kept connections (adapters/http_client.py, a
    quarter of urllib3's CPU per call); any other goes through urllib3, its URL's connection
    pool found once.

    requests looks the pool up again for every request (the proxy chosen, the URL parsed, the
    pool's key built): about 4% of a delivering worker's CPU, for a department whose URL,
    proxy and TLS settings never change. A pool found is kept per URL and settings; closing
    the session closes the kept pools and connections too, and a pool closed some other way
    is looked up afresh.
    """

    MAX_KEPT = 64  # URLs per department session; past it, the kept pools are forgotten

    def __init__(self) -> None:
        super().__init__()
        self._pools: dict[tuple[Any, ...], HTTPConnectionPool] = {}
        self._kept = KeptConnections()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if stream or not _in_memory(request.body) or not _plain_timeout(timeout):
            return super().send(request, stream, timeout, verify, cert, proxies)
        if proxies and select_proxy(request.url or "", proxies):
            return super().send(request, stream, timeout, verify, cert, proxies)
        response = self._kept.exchange(request, timeout=timeout, verify=verify, cert=cert)
        response.connection = self
        return response

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        key = (request.url, verify, cert, tuple(sorted(proxies.items())) if proxies else ())
        kept = self._pools.get(key)
        if kept is not None and kept.pool is not None:  # a closed pool has no connection queue
            return kept
        found = cast(
            HTTPConnectionPool,
            super().get_connection_with_tls_context(request, verify, proxies, cert),
        )
        if len(self._pools) >= self.MAX_KEPT:
            self._pools.clear()
        self._pools[key] = found
        return found

    def close(self) -> None:
        kept, self._pools = list(self._pools.values()), {}
        self._kept.close()
        super().close()
        for pool in kept:  # urllib3's pool manager lets go of its pools without closing them
            pool.close()


class Poster:
    """POSTs through a department's session with each URL's request prepared once.

    requests prepares every call anew (session headers, auth, cookies, hooks merged): about
    half of a delivery's HTTP cost. A copy of the prepared request gets the call's headers
    and body and goes straight to the session's transport adapter with the session's proxies
    and TLS settings: ``Session.send`` around it only runs hooks, extracts cookies and probes
    for a redirect (~4% of a delivering worker's CPU). A session that reads the environment
    or has hooks goes through ``Session.send``; once a department has set a cookie, calls
    take requests' full path, which sends it back. Never follows redirects: a 307 would
    re-post a citizen's record elsewhere.
    """

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self._prepared: dict[str, requests.PreparedRequest] = {}

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> requests.Response:
        session = self.session
        if session.cookies:
            return session.post(
                url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False
            )
        request = self._template(url).copy()
        request.headers.update(headers)
        request.prepare_body(body, None)
        if session.trust_env or any(session.hooks.values()):
            return session.send(request, timeout=timeout, allow_redirects=False)
        response = session.get_adapter(url).send(
            request,
            stream=False,
            timeout=timeout,
            verify=True if session.verify is None else session.verify,
            cert=session.cert,
            proxies=session.proxies,
        )
        if "Set-Cookie" in response.headers:  # kept, so the next call sends it back
            extract_cookies_to_jar(session.cookies, request, response.raw)  # type: ignore[no-untyped-call]
        response.content  # noqa: B018  # read whole: the connection goes back to its pool
        return response

    def _template(self, url: str) -> requests.PreparedRequest:
        template = self._prepared.get(url)
        if template is None:
            template = self.session.prepare_request(requests.Request("POST", url))
            self._prepared[url] = template
        return template


def _environment_proxies(endpoint: str) -> dict[str, str]:
    """HTTP(S)_PROXY and NO_PROXY as they apply to the endpoint (every proxy without one)."""
    if endpoint:
        return dict(requests.utils.get_environ_proxies(endpoint))
    return dict(urllib.request.getproxies())


def _in_memory(body: object) -> bool:
    return body is None or isinstance(body, bytes)


def _plain_timeout(timeout: object) -> bool:
    """A number, None or a (connect, read) pair of those: not urllib3's Timeout object."""
    parts = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return len(parts) == 2 and all(part is None or isinstance(part, int | float) for part in parts)


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").lower()

"""Catalogue: ListServices and GetSchema answered by `govhub serve`, against GetStatus of a
message the same hub holds (the baseline, in the same run: the other read a department makes).

ListServices is the largest answer the department API gives (every message type with its
metadata); it is built once per configuration generation, so what is left is spyne writing
it. Embedded setup only: the catalogue reads the configuration in memory, not the database.
"""

from __future__ import annotations

import http.client
import re
from typing import Any
from urllib.parse import urlsplit

from bench import messages
from bench.load import LoadResult, closed_loop, load_row
from bench.processes import Fleet
from bench.setups import embedded

_ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:h="urn:govhub:hub:1"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>'
)
CALLS = {
    "ListServices": "<h:ListServices><h:department>TAX</h:department></h:ListServices>",
    "GetSchema": "<h:GetSchema><h:messageType>MarriageRegistered</h:messageType></h:GetSchema>",
}


def run(options: Any) -> dict[str, Any]:
    count = int(options.seconds * 4000)
    rows: list[dict[str, Any]] = []
    with Fleet(options.work / "logs" / "catalogue") as fleet, embedded(options.work) as env:
        _, url = fleet.hub("catalogue", env, "--no-workers")
        message_id = _submitted(url)
        status = f"<h:GetStatus><h:messageId>{message_id}</h:messageId></h:GetStatus>"
        baseline = _measure(url, status, count, options)
        rows.append(load_row("GetStatus (baseline)", baseline, None, label="operation"))
        for name, body in CALLS.items():
            rows.append(
                load_row(name, _measure(url, body, count, options), baseline, label="operation")
            )
    return {
        "name": "catalogue",
        "what": "answers/s of ListServices and GetSchema against GetStatus, one hub",
        "concurrency": options.concurrency,
        "rows": rows,
    }


def _submitted(url: str) -> str:
    """The id of one accepted message, for GetStatus to read."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("POST", "/soap", messages.submit(2_000, 0), {"Content-Type": "text/xml"})
        answer = connection.getresponse().read().decode("utf-8")
    finally:
        connection.close()
    found = re.search(r"messageId>([0-9a-f-]{36})<", answer)
    if found is None:
        raise RuntimeError(f"the hub did not accept the benchmark's message: {answer[:300]}")
    return found.group(1)


def _measure(url: str, body: str, count: int, options: Any) -> LoadResult:
    envelope = _ENVELOPE.format(body=body).encode("utf-8")
    closed_loop(url, [envelope] * 50, concurrency=options.concurrency, seconds=30)  # warm up
    return closed_loop(
        url, [envelope] * count, concurrency=options.concurrency, seconds=options.seconds
    )

""" "Did every department get it?" across hubs: a hub asks the next hop about the message it
forwarded there (the leg's key is that message's id), and that hub answers with its own legs,
having asked its next hops the same in turn. Asked live at ``/federation/status`` (a SOAP
request with the link's WS-Security, answered in JSON); a neighbour learns only about
messages it forwarded itself, and an unknown id and someone else's answer alike 404."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from lxml import etree

from hub.errors import ClientError, NotAuthenticated, NotFound
from hub.federation.addressing import is_remote, split_address
from hub.federation.admission import ForwardAdmission
from hub.federation.config import HUB_USER_PREFIX, FederationConfig, LiveFederation
from hub.federation.forwarder import SOAP11, signed
from hub.federation.header import stored_path
from hub.resources import HEADER_NAMESPACE
from hub.security.wsse import token_username
from hub.store import MessageStatus, Store, delivery_key
from hub.xmlparse import parse

STATUS_PATH = "/federation/status"
_MESSAGE_ID = f"{{{HEADER_NAMESPACE}}}messageId"
_MAX_REQUEST_BYTES = 64 * 1024
Answer = dict[str, Any]
Environ = Mapping[str, Any]


def status_url(endpoint: str) -> str:
    """The neighbour's status address beside its /soap endpoint."""
    base = endpoint.rstrip("/")
    return (base[: -len("/soap")] if base.endswith("/soap") else base) + STATUS_PATH


def ask(config: FederationConfig, address: str, forward_id: str, timeout: float = 5.0) -> Answer:
    """What the next hop towards ``address`` says of the forward ``forward_id``; on no
    answer, why not (``unreachable``)."""
    division, _ = split_address(address)
    try:
        neighbour = config.next_hop(division)
    except ClientError as error:
        return {"hub": division, "unreachable": error.message}
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11})
    body = etree.SubElement(envelope, f"{{{SOAP11}}}Body")
    request = etree.SubElement(body, f"{{{HEADER_NAMESPACE}}}ForwardStatus")
    etree.SubElement(request, _MESSAGE_ID).text = forward_id
    try:
        response = requests.post(
            status_url(neighbour.endpoint),
            data=signed(envelope, config.division, neighbour.secret),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=timeout,
        )
        answer = response.json()
    except (requests.RequestException, ValueError) as error:
        return {"hub": neighbour.division, "unreachable": type(error).__name__}
    if not response.ok or not isinstance(answer, dict):
        return {"hub": neighbour.division, "unreachable": f"HTTP {response.status_code}"}
    return answer


def describe(config: FederationConfig, status: MessageStatus) -> Answer:
    """This hub's answer for a message: its legs, and for each leg forwarded on, the next
    hop's answer, asked now."""
    legs = []
    for leg in status.deliveries:
        entry: Answer = {
            "department": leg.department,
            "state": leg.state,
            "attempts": leg.attempts,
            "lastError": leg.last_error,
            "deliveredAt": leg.delivered_at.isoformat() if leg.delivered_at else None,
        }
        if is_remote(leg.department) and leg.state == "delivered":
            forward_id = delivery_key(status.message_id, leg.department)
            entry["next"] = ask(config, leg.department, forward_id)
        legs.append(entry)
    return {
        "hub": config.division,
        "answeredAt": datetime.now(UTC).isoformat(),
        "messageId": status.message_id,
        "state": status.state,
        "legs": legs,
    }


class ForwardStatusApp:
    """The WSGI side of ``/federation/status``."""

    def __init__(self, federation: LiveFederation, admission: ForwardAdmission, store: Store):
        self.federation = federation
        self.admission = admission
        self.store = store

    def __call__(self, environ: Environ, start_response: Any) -> Iterable[bytes]:
        try:
            answer = self._answer(environ)
        except NotFound as error:
            return _json(start_response, "404 Not Found", {"error": error.code})
        except ClientError as error:
            return _json(start_response, "403 Forbidden", {"error": error.code, "why": str(error)})
        return _json(start_response, "200 OK", answer)

    def _answer(self, environ: Environ) -> Answer:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if environ.get("REQUEST_METHOD") != "POST" or not 0 < length <= _MAX_REQUEST_BYTES:
            raise NotFound("ask with a POST of a signed ForwardStatus request")
        envelope = parse(environ["wsgi.input"].read(length))
        username = token_username(envelope) or ""
        if not username.startswith(HUB_USER_PREFIX):
            raise NotAuthenticated("a hub signs in as hub-<its division>")
        asker = username[len(HUB_USER_PREFIX) :]
        self.admission.authenticate(envelope, asker)
        message_id = (envelope.findtext(f".//{_MESSAGE_ID}") or "").strip().lower()
        status = self.store.message_status(message_id)  # NotFound for an unknown id
        path = stored_path(self.store, message_id)
        if not path or path[-1] != asker:  # not this neighbour's forward: as if unknown
            raise NotFound("no such forward")
        return describe(self.federation.current, status)


def _json(start_response: Any, status: str, body: Answer) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def trace_hubs(config: FederationConfig, status: MessageStatus) -> dict[str, Answer]:
    """For the first hub's `govhub trace`: each forwarded leg's answer from the hubs on."""
    return {
        leg["department"]: leg["next"] for leg in describe(config, status)["legs"] if "next" in leg
    }


def answer_lines(answer: Answer, now: datetime, indent: str = "    ") -> list[str]:
    """An answer as `govhub trace` shows it under its leg, with the answer's age."""
    if "unreachable" in answer:
        return [f"{indent}hub {answer['hub']}: no answer ({answer['unreachable']})"]
    age = (now - datetime.fromisoformat(answer["answeredAt"])).total_seconds()
    lines = [f"{indent}hub {answer['hub']} (answered {age:.1f} s ago): {answer['state']}"]
    for leg in answer["legs"]:
        error = f" ({leg['lastError']})" if leg["state"] != "delivered" and leg["lastError"] else ""
        lines.append(
            f"{indent}  {leg['department']}: {leg['state']} after {leg['attempts']} attempt(s)"
            + error
        )
        if "next" in leg:
            lines += answer_lines(leg["next"], now, indent + "    ")
    return lines

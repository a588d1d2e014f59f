"""Submit's two steps, the same whoever runs them: spyne's operation (hub/api/soap_service.py)
or the fast path that answers a plain Submit without spyne (hub/api/submit_fast_path.py).

  check    the Body's Submit through every ingress check, on the parsed elements; a refusal
           is audited, then raised as the SOAP fault with the hub's code
  commit   the checked message stored and published (hub/ingress.py); a key conflict or a taken
           id is audited, as for a native push
When the fast path meets a refusal or a failure, spyne answers it: the request goes through
spyne carrying a ``Replay``, and the error is raised again at the step that raised it, so the
fault is written, logged and audited as it always was, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from hub.api.soap_faults import fault_from, submit_fault
from hub.errors import ClientError, HubError, SchemaInvalid
from hub.ingress import Ingress, PreparedMessage
from hub.resources import HEADER_NAMESPACE
from hub.store import Receipt

SUBMIT = f"{{{HEADER_NAMESPACE}}}Submit"
_HEADER = f"{{{HEADER_NAMESPACE}}}header"
_MESSAGE = f"{{{HEADER_NAMESPACE}}}message"
_SENDER = f"{{{HEADER_NAMESPACE}}}sender"
_MESSAGE_TYPE = f"{{{HEADER_NAMESPACE}}}messageType"
# Where a Replay rides in the WSGI environ, from the fast path to spyne's operation.
REPLAY_KEY = "govhub.submit_replay"


class SubmitSteps:
    def __init__(self, ingress: Ingress) -> None:
        self.ingress = ingress

    def check(
        self,
        envelope: etree._Element,
        body: etree._Element | None,
        raw: bytes,
        content_type: str,
        udc: dict[str, Any],
    ) -> bool:
        """Run every ingress check on the lxml elements; True: ``udc["prepared"]`` is all
        Submit needs; False: ``body`` is not a Submit. ``udc["sender"]`` names the caller in
        the log line of a refusal."""
        try:
            return self._prepare(envelope, body, raw, content_type, udc)
        except HubError as error:
            raise submit_fault(error) from error

    def _prepare(
        self,
        envelope: etree._Element,
        body: etree._Element | None,
        raw: bytes,
        content_type: str,
        udc: dict[str, Any],
    ) -> bool:
        if body is None or body.tag != SUBMIT:
            return False
        header, wrapper = body.find(_HEADER), body.find(_MESSAGE)
        if header is None or wrapper is None:
            raise SchemaInvalid("Submit needs a header and a message")
        children = [child for child in wrapper if isinstance(child.tag, str)]
        if len(children) != 1:
            raise SchemaInvalid(
                f"message must hold exactly one canonical record, not {len(children)}"
            )
        udc["sender"] = header.findtext(_SENDER)  # for the log line of a refusal
        try:
            udc["prepared"] = self.ingress.prepare_canonical(
                envelope, header, children[0], raw, content_type
            )
        except ClientError as error:
            self.ingress.record_refusal(
                header.findtext(_SENDER) or "", header.findtext(_MESSAGE_TYPE) or "", error
            )
            raise
        return True

    def commit(self, prepared: PreparedMessage) -> Receipt:
        try:
            return self.ingress.commit(prepared)
        except ClientError as error:  # a key conflict, a taken id: audited, as native
            message = prepared.message
            self.ingress.record_refusal(message.sender, message.message_type, error)
            raise submit_fault(error) from error
        except HubError as error:
            raise fault_from(error) from error


@dataclass(frozen=True)
class Replay:
    """A step's error met by the fast path; ``prepared``: the check passed, the commit failed."""

    error: Exception
    sender: str | None
    prepared: PreparedMessage | None = None

    def check_again(self, udc: dict[str, Any]) -> bool:
        """The check as spyne runs it: the same refusal, or the message it had prepared (the
        operation then raises the commit's error: ``commit_again``)."""
        udc["sender"] = self.sender
        if self.prepared is None:
            raise self.error
        udc["prepared"], udc["replay"] = self.prepared, self
        return True

    def commit_again(self) -> Receipt:
        raise self.error


def replay_of(environ: dict[str, Any]) -> Replay | None:
    replay = environ.get(REPLAY_KEY)
    return replay if isinstance(replay, Replay) else None


__all__ = ["REPLAY_KEY", "SUBMIT", "Replay", "SubmitSteps", "replay_of"]

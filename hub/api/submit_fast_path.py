"""A plain Submit answered without spyne's per-request machinery: its contexts, events and
serializer took about 0.18 ms of the 0.29 ms a Submit costs on the request side
(docs/performance.md, "Goal 2"). The steps are spyne's operation's (hub/api/submit_steps.py),
and the reply is the same bytes (hub/api/reply_template.py).

Plain means: a POST with a Content-Type and a Content-Length, whose body the hub's parser
takes, whose envelope is the SOAP version the Content-Type names, whose Body starts with a
Submit, and that carries no signature (its reply must be signed: spyne's path does that).
Anything else goes to spyne as it came. A refusal or a failure met on the way is answered by
spyne too, from the error the step raised (``Replay``): faults keep their bytes, status,
log line and audit entry, each made once.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from spyne.server.wsgi import WsgiApplication

from hub import xmlparse
from hub.api import freed_memory
from hub.api.soap_service import receipt_model, submit_reply
from hub.api.submit_steps import REPLAY_KEY, SUBMIT, Replay, SubmitSteps
from hub.declared_encoding import charset_of
from hub.security.reply_signing import request_is_signed

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class HubWsgiApplication(WsgiApplication):  # type: ignore[misc]
    """spyne's WSGI application that answers a plain Submit itself, with the steps of the
    application's Submit (an application without them: spyne answers everything)."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._steps: SubmitSteps | None = getattr(app, "submit_steps", None)

    def handle_rpc(self, req_env: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if self._steps is not None:
            answer = self._answer_submit(req_env, start_response, self._steps)
            if answer is not None:
                return answer
        result: Iterable[bytes] = super().handle_rpc(req_env, start_response)
        return result

    def _answer_submit(
        self, environ: Environ, start_response: StartResponse, steps: SubmitSteps
    ) -> Iterable[bytes] | None:
        """The answer to a plain Submit; None: not one, spyne answers."""
        request = self._plain_submit(environ)
        if request is None:
            return None
        raw, envelope, submit = request
        content_type = environ["CONTENT_TYPE"]
        udc: dict[str, Any] = {}
        try:
            steps.check(envelope, submit, raw, content_type, udc)
        except Exception as error:
            return self._replayed(environ, start_response, Replay(error, udc.get("sender")))
        prepared, sender = udc["prepared"], udc.get("sender")
        # Checked and copied out: the trees not held while the body is stored.
        del request, envelope, submit, udc
        freed_memory.give_back(len(raw))
        try:
            receipt = steps.commit(prepared)
        except Exception as error:
            return self._replayed(environ, start_response, Replay(error, sender, prepared))
        return self._reply(start_response, receipt_model(receipt, prepared.warning))

    def _plain_submit(
        self, environ: Environ
    ) -> tuple[bytes, etree._Element, etree._Element] | None:
        """The body, its envelope and its Submit, if plain; spyne then reads the same bytes."""
        declared = environ.get("CONTENT_LENGTH") or ""
        stream = environ.get("wsgi.input")
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or not environ.get("CONTENT_TYPE")
            or not declared.isdigit()
            or int(declared) > self.max_content_length
            or not isinstance(stream, io.BytesIO)  # hub/api/wsgi.py's: read again at no cost
        ):
            return None
        raw = stream.read(int(declared))
        environ["wsgi.input"] = io.BytesIO(raw)
        if b"Submit" not in raw:  # GetStatus, Receive, Query...: not parsed twice
            return None
        protocol = self.app.in_protocol
        try:
            charset = charset_of(environ["CONTENT_TYPE"])
            envelope = xmlparse.parse(raw, max_bytes=protocol.max_bytes, charset=charset)
        except Exception:  # refused: spyne parses it again, to answer the fault it answers
            return None
        namespace = protocol.ns_soap_env
        if envelope.tag != f"{{{namespace}}}Envelope" or request_is_signed(envelope):
            return None
        body = envelope.find(f"{{{namespace}}}Body")
        if body is None or len(body) == 0 or body[0].tag != SUBMIT:
            return None
        if self.app.out_protocol.answer_envelope() is None:
            return None
        return raw, envelope, body[0]

    def _replayed(
        self, environ: Environ, start_response: StartResponse, replay: Replay
    ) -> Iterable[bytes]:
        environ[REPLAY_KEY] = replay
        result: Iterable[bytes] = super().handle_rpc(environ, start_response)
        return result

    def _reply(self, start_response: StartResponse, receipt: Any) -> list[bytes]:
        """The 200 spyne writes for an accepted Submit: its headers, its bytes."""
        protocol = self.app.out_protocol
        envelope = protocol.answer_envelope()
        data: bytes = envelope.around(submit_reply(receipt, envelope.prefix))
        headers = [("Content-Type", protocol.mime_type), ("Content-Length", str(len(data)))]
        start_response("200 OK", headers)
        return [data]


__all__ = ["HubWsgiApplication"]

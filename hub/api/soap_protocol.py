"""Spyne's SOAP 1.1 and 1.2 protocols, made to parse with our one hardened parser, to run our checks
before spyne touches the body and to sign the reply (with the hub's key) to a signed request.
All spyne compatibility code lives in hub/api/."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import spyne.const
from lxml import etree
from spyne import Application, Fault
from spyne.const.http import HTTP_400, HTTP_405, HTTP_500
from spyne.error import RequestNotAllowed
from spyne.protocol.soap import Soap11, Soap12
from spyne.server.http import HttpTransportContext

from hub import xmlparse
from hub.api.reply_template import ReplyEnvelope, reply_envelope
from hub.api.soap_faults import (
    SOAP11_ENV,
    SOAP12_ENV,
    VERSION_MISMATCH,
    HubFault,
    fault_from,
    is_sender_fault,
    soap11_fault,
    soap12_fault,
)
from hub.declared_encoding import charset_of
from hub.errors import HubError, StoreUnavailable
from hub.observability import outages
from hub.observability.refusals import log_refusal
from hub.security.reply_signing import ReplySigner, request_is_signed

if TYPE_CHECKING:
    from hub.api.submit_steps import SubmitSteps

# Returns True when it prepared all the operation needs: spyne's objects are then not built.
RequestCheck = Callable[[Any], bool]
# An operation's result as the element spyne would write into the Body, built directly.
ResponseWriter = Callable[[Any], etree._Element]
# The same as XML text, given the prefix the envelope declares for the hub's namespace:
# for an answer that is not signed, written into the envelope's bytes (hub/api/reply_template).
ReplyWriter = Callable[[Any, str], str]
log = logging.getLogger(__name__)

# spyne runs a full gc.collect() after a request at most once a second, to close its file
# uploads early (we have none); with the hub's heap that pause took about 13% of ingest time.
spyne.const.MIN_GC_INTERVAL = float("inf")

# Said to the caller while the database is away: the cause is logged once, not answered.
DATABASE_AWAY = StoreUnavailable("the hub's database is unavailable now; try again shortly")

T = TypeVar("T")


def unbounded(model: Any) -> Any:
    """A spyne type that may repeat (a list in the WSDL)."""
    return model.customize(max_occurs="unbounded")


def or_fault(call: Callable[[], T]) -> T:
    """The call's answer; a HubError it raises becomes the SOAP fault with the hub's code."""
    try:
        return call()
    except HubError as error:
        raise fault_from(error) from error


def _log_fault(ctx: Any) -> None:
    """Every fault answered, with who the request said it was (set by the request's check)."""
    error = ctx.out_error
    udc = ctx.udc if isinstance(ctx.udc, dict) else {}
    route = ctx.transport.req_env.get("PATH_INFO", "") if hasattr(ctx.transport, "req_env") else ""
    code = str(getattr(error, "faultcode", "") or type(error).__name__)
    reason = str(getattr(error, "faultstring", "") or error)
    log_refusal(route or "SOAP", code, udc.get("sender"), reason)


class _HubSoap:
    """Spyne's SOAP protocol whose parser is hub.xmlparse, which runs ``check`` before
    deserializing and, as an out-protocol with a ``signer``, signs every reply (faults too:
    zeep checks the signature before it reads a fault) to a request that carried a
    WS-Security signature. Every fault carries the typed detail (hub/api/soap_faults.py)."""

    # What spyne's protocol class, the other base, provides.
    ns_soap_env: str
    REQUEST: Any
    RESPONSE: Any
    app: Any
    event_manager: Any
    cleanup_namespaces: bool
    encoding: str
    pretty_print: bool
    xml_declaration: bool

    def __init__(
        self,
        *,
        max_bytes: int,
        check: RequestCheck | None = None,
        signer: ReplySigner | None = None,
        writers: Mapping[str, ResponseWriter] | None = None,
        replies: Mapping[str, ReplyWriter] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(validator=None, **kwargs)  # type: ignore[call-arg]
        self.max_bytes = max_bytes
        self._check = check
        self._signer = signer
        self._writers = dict(writers or {})
        self._replies = dict(replies or {})
        self._envelope: ReplyEnvelope | None = None
        self._envelope_made = False

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        if isinstance(ctx.transport, HttpTransportContext) and (
            ctx.transport.get_request_method() != "POST"
            or ctx.transport.get_request_content_type() is None
        ):
            ctx.transport.resp_code = HTTP_405
            raise RequestNotAllowed("send a POST request with a Content-Type header")
        raw = b"".join(ctx.in_string)
        # spyne hands the operation a copy of this context; the first keeps the trees too.
        ctx.udc = {"raw": raw, "signed": False, "parsed_on": weakref.ref(ctx)}
        declared = charset_of(ctx.transport.get_request_content_type())
        try:
            envelope = xmlparse.parse(raw, max_bytes=self.max_bytes, charset=declared)
        except HubError as error:
            raise fault_from(error) from error
        self._check_version(envelope)
        ctx.udc["signed"] = request_is_signed(envelope)
        ctx.in_document = (envelope, {})

    def _check_version(self, envelope: etree._Element) -> None:
        """An envelope of the other SOAP version is answered VersionMismatch, saying how to
        send each: the Content-Type chooses the version, the envelope must agree."""
        name = etree.QName(envelope)
        if name.localname != "Envelope" or name.namespace == self.ns_soap_env:
            return
        sent = {SOAP11_ENV: "a SOAP 1.1", SOAP12_ENV: "a SOAP 1.2"}.get(name.namespace or "")
        expected = "SOAP 1.2" if self.ns_soap_env == SOAP12_ENV else "SOAP 1.1"
        raise HubFault(
            VERSION_MISMATCH,
            f"{sent or 'an unknown'} envelope ({name.namespace}) was sent with the Content-Type "
            f"of {expected}: send SOAP 1.1 ({SOAP11_ENV}) as text/xml and SOAP 1.2 "
            f"({SOAP12_ENV}) as application/soap+xml",
        )

    def fault_to_parent(
        self, ctx: Any, cls: Any, inst: Any, parent: Any, ns: Any, *_: Any, **__: Any
    ) -> None:
        """The Fault with the hub's typed detail; its line only for a request on several
        lines (a line number says nothing about a request sent on one)."""
        raw = ctx.udc.get("raw", b"") if isinstance(ctx.udc, dict) else b""
        with_line = spans_lines(raw)
        if self.ns_soap_env == SOAP12_ENV:
            soap12_fault(parent, inst, with_line=with_line)
        else:
            soap11_fault(parent, inst, with_line=with_line)

    def fault_to_http_response_code(self, fault: Any) -> str:
        """SOAP 1.2 answers a sender's fault 400 (its HTTP binding asks so); 500 otherwise,
        and always in SOAP 1.1."""
        if self.ns_soap_env == SOAP12_ENV and is_sender_fault(str(fault.faultcode)):
            return str(HTTP_400)
        return str(HTTP_500)

    def serialize(self, ctx: Any, message: Any) -> None:
        if ctx.out_error is not None:
            _log_fault(ctx)
        signed = self._signer is not None and isinstance(ctx.udc, dict) and ctx.udc.get("signed")
        reply = None if signed else self._writer_for(ctx, message, self._replies)
        envelope = None if reply is None else self.answer_envelope()
        if reply is not None and envelope is not None:
            self._write_reply(ctx, reply, envelope)
            return
        writer = self._writer_for(ctx, message, self._writers)
        if writer is None:
            super().serialize(ctx, message)  # type: ignore[misc]
        else:
            self._write_response(ctx, writer)
        if signed:
            assert self._signer is not None
            self._signer.sign(ctx.out_document)

    def _writer_for(self, ctx: Any, message: Any, writers: Mapping[str, T]) -> T | None:
        """The operation's own writer, for a plain answer (no fault, no SOAP header)."""
        if message is not self.RESPONSE or ctx.out_error is not None or ctx.out_header:
            return None
        return writers.get(ctx.descriptor.name) if ctx.descriptor else None

    def answer_envelope(self) -> ReplyEnvelope | None:
        """Made at the first answer (the application's namespace map is complete by then);
        None where the bytes would not be spyne's (pretty-printed answers)."""
        if not self._envelope_made and not self.pretty_print:
            nsmap = self.app.interface.nsmap
            self._envelope_made = True
            self._envelope = reply_envelope(
                self.ns_soap_env,
                nsmap,
                self.app.interface.get_tns(),
                self.encoding,
                self.xml_declaration,
            )
        return self._envelope

    def _write_reply(self, ctx: Any, reply: ReplyWriter, envelope: ReplyEnvelope) -> None:
        """The answer's bytes, with no tree: ``create_out_string`` then leaves them as they are."""
        self.event_manager.fire_event("before_serialize", ctx)
        ctx.out_string = [envelope.around(reply(ctx.out_object[0], envelope.prefix))]
        self.event_manager.fire_event("after_serialize", ctx)

    def create_out_string(self, ctx: Any, charset: str | None = None) -> None:
        if ctx.out_document is None and ctx.out_string is not None:
            return  # written by _write_reply
        super().create_out_string(ctx, charset)  # type: ignore[misc]

    def _write_response(self, ctx: Any, writer: ResponseWriter) -> None:
        """What Soap11.serialize makes of a plain answer, with the Body's content built by
        ``writer`` instead of spyne's generic serializer (a fifth of a Submit's CPU)."""
        self.event_manager.fire_event("before_serialize", ctx)
        nsmap = self.app.interface.nsmap
        ctx.out_document = etree.Element(f"{{{self.ns_soap_env}}}Envelope", nsmap=nsmap)
        ctx.out_body_doc = etree.SubElement(ctx.out_document, f"{{{self.ns_soap_env}}}Body")
        ctx.out_body_doc.append(writer(ctx.out_object[0]))
        if self.cleanup_namespaces:
            etree.cleanup_namespaces(ctx.out_document)
        self.event_manager.fire_event("after_serialize", ctx)

    def deserialize(self, ctx: Any, message: Any) -> None:
        if message is self.REQUEST and self._check is not None:
            try:
                if self._check(ctx):
                    ctx.in_object = [None] * len(ctx.descriptor.in_message._type_info)
                    return
            except HubError as error:
                raise fault_from(error) from error
            except Fault:  # the check's own fault, already with its detail
                raise
            except Exception as exc:
                if outages.database_away(exc):  # one line per outage, not per request
                    raise fault_from(DATABASE_AWAY) from exc
                # A bug must still answer with a fault, not a dropped call.
                log.exception("request check failed")
                raise fault_from(HubError("internal error while checking the request")) from exc
        super().deserialize(ctx, message)  # type: ignore[misc]


def spans_lines(raw: bytes) -> bool:
    """Whether the envelope itself (after any XML declaration) is written on several lines."""
    document = raw.strip()
    if document.startswith(b"<?xml"):
        document = document.partition(b"?>")[2].strip()
    return b"\n" in document


class HubApplication(Application):  # type: ignore[misc]
    """spyne's Application whose every operation answers Server.Unavailable while the
    database is away, however the operation reached it (a HubError raised from the driver's
    error included): without this, spyne answers a bare ``Server`` fault and logs a traceback
    per request. The operations themselves need not know."""

    # Set by hub/api/soap_service.py: Submit's steps, for the fast path.
    submit_steps: SubmitSteps | None = None

    def call_wrapper(self, ctx: Any) -> Any:
        try:
            return super().call_wrapper(ctx)
        except Exception as exc:
            if outages.database_away(exc):
                raise fault_from(DATABASE_AWAY) from exc
            raise


class HubSoap11(_HubSoap, Soap11):  # type: ignore[misc]
    """SOAP 1.1: text/xml, faults with faultcode soap:Client.* / soap:Server.*."""


class HubSoap12(_HubSoap, Soap12):  # type: ignore[misc]
    """SOAP 1.2: application/soap+xml, faults with Code Sender/Receiver and a Subcode."""


__all__ = ["HubApplication", "HubSoap11", "HubSoap12", "fault_from", "or_fault", "unbounded"]

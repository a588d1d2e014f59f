"""The department-facing SOAP API: Submit and GetStatus, typed from our XSDs, in SOAP 1.1
or 1.2 (one application each; hub/api/soap_endpoint.py chooses by Content-Type).

WSDL at /soap?wsdl (hub/api/wsdl.py). Errors are SOAP faults with stable codes (hub.errors), e.g.
Client.SchemaInvalid, Client.UnknownSender, Client.NotAuthorized, Server.Unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lxml import etree
from spyne import AnyXml, Boolean, ComplexModel, DateTime, Integer, Unicode, rpc
from spyne.service import Service

from hub.api import freed_memory
from hub.api.catalogue_service import (
    CatalogueModel,
    CatalogueOperations,
    CatalogueSource,
    SchemaModel,
)
from hub.api.reply_template import xml_text
from hub.api.soap_faults import fault_from
from hub.api.soap_protocol import HubApplication, HubSoap11, HubSoap12
from hub.api.spyne_models import element_models
from hub.api.submit_steps import SubmitSteps, replay_of
from hub.errors import (
    ClientError,
    ConfigurationError,
    HubError,
    NotAuthenticated,
    NotFound,
)
from hub.ingress import Ingress
from hub.query.service import QueryService
from hub.query.soap import QueryOperations, async_response, query_response, result_response
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA, HEADER_NAMESPACE, HEADER_SCHEMA
from hub.security.reply_signing import ReplySigner
from hub.security.status_access import StatusAccess
from hub.security.wsse import claimed_sender
from hub.store import MessageStatus, Receipt, Store

log = logging.getLogger(__name__)

_SUBMIT_RESPONSE = f"{{{HEADER_NAMESPACE}}}SubmitResponse"
_SUBMIT_RESULT = f"{{{HEADER_NAMESPACE}}}SubmitResult"


class ReceiptModel(ComplexModel):  # type: ignore[misc]
    __namespace__ = HEADER_NAMESPACE
    __type_name__ = "Receipt"
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("messageId", Unicode),
        ("state", Unicode),
        ("duplicate", Boolean),
        ("receivers", Unicode.customize(max_occurs="unbounded")),
        ("warning", Unicode),  # a deprecated canonical version (hub/versions)
    ]


class DeliveryStatusModel(ComplexModel):  # type: ignore[misc]
    __namespace__ = HEADER_NAMESPACE
    __type_name__ = "DeliveryStatus"
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("department", Unicode),
        ("state", Unicode),
        ("attempts", Integer),
        ("lastError", Unicode),
        ("deliveredAt", DateTime),
    ]


class MessageStatusModel(ComplexModel):  # type: ignore[misc]
    __namespace__ = HEADER_NAMESPACE
    __type_name__ = "MessageStatus"
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("messageId", Unicode),
        ("messageType", Unicode),
        ("sender", Unicode),
        ("state", Unicode),
        ("receivedAt", DateTime),
        ("correlationId", Unicode),
        ("deliveries", DeliveryStatusModel.customize(max_occurs="unbounded")),
    ]


def build_soap_application(
    ingress: Ingress,
    store: Store,
    max_body_bytes: int,
    signer: ReplySigner | None = None,
    *,
    fast_responses: bool = True,
    soap12: bool = False,
    catalogue: CatalogueSource | None = None,
    services: Sequence[type[Service]] = (),
    queries: QueryService | None = None,
    writers: Mapping[str, Callable[[Any], etree._Element]] | None = None,
) -> HubApplication:
    """``fast_responses``: Submit's answer is written by ``submit_response``, not by spyne's
    generic serializer (False only to compare the two). ``soap12``: speak SOAP 1.2.
    ``catalogue``: what ListServices and GetSchema answer from (hub/catalogue). ``services``:
    more operations on the same address (the mailbox's Receive, Ack, Nack). ``queries``: what
    answers Query, QueryAsync and GetQueryResult (hub/query). ``writers``: the answer
    writers of ``services``' operations that write their own XML (GetDataUsage)."""
    protocol = HubSoap12 if soap12 else HubSoap11
    header_model = element_models(HEADER_SCHEMA, HEADER_NAMESPACE)["MessageHeader"]
    messages = element_models(CANONICAL_SCHEMA, CANONICAL_NAMESPACE)
    # One optional element per message type: the caller fills exactly one.
    message_model = type(
        "CanonicalMessage",
        (ComplexModel,),
        {
            "__namespace__": CANONICAL_NAMESPACE,
            "_type_info": [
                (name, model.customize(min_occurs=0)) for name, model in messages.items()
            ],
        },
    )

    class HubService(Service):  # type: ignore[misc]
        @rpc(header_model, message_model, _returns=ReceiptModel)  # type: ignore[untyped-decorator]
        def Submit(ctx: Any, header: Any, message: Any) -> ReceiptModel:
            # header and message are None: check_submit prepared the request from the XML.
            prepared, replay = ctx.udc["prepared"], ctx.udc.get("replay")
            if replay is not None:  # the fast path's commit failed: its error answered here
                replay.commit_again()
            _drop_trees(ctx)  # checked and copied out: not held while the body is stored
            return receipt_model(submit_steps.commit(prepared), prepared.warning)

        @rpc(Unicode(min_occurs=1), _returns=MessageStatusModel)  # type: ignore[untyped-decorator]
        def GetStatus(ctx: Any, messageId: str) -> MessageStatusModel:
            message_id = (messageId or "").strip().lower()
            try:
                return _status_model(status_for(ctx, message_id))
            except HubError as error:
                raise fault_from(error, path="GetStatus/messageId") from error

        @rpc(Unicode(min_occurs=0), _returns=CatalogueModel)  # type: ignore[untyped-decorator]
        def ListServices(ctx: Any, department: str | None) -> Any:
            try:
                return catalogue_operations.list_services(ctx.in_document, department)
            except HubError as error:
                if isinstance(error, ClientError) and ingress is not None:
                    ctx.udc["sender"] = asker = department or claimed_sender(ctx.in_document)
                    ingress.record_refusal(asker, "ListServices", error)
                raise fault_from(error, path=_LIST_SERVICES_FIELDS.get(error.code)) from error

        @rpc(Unicode(min_occurs=1), Unicode(min_occurs=0), _returns=SchemaModel)  # type: ignore[untyped-decorator]
        def GetSchema(ctx: Any, messageType: str, schemaVersion: str | None) -> Any:
            try:
                return catalogue_operations.get_schema(messageType, schemaVersion)
            except HubError as error:
                raise fault_from(error, path=_GET_SCHEMA_FIELDS.get(error.code)) from error

        @rpc(AnyXml, AnyXml, _returns=AnyXml)  # type: ignore[untyped-decorator]
        def Query(ctx: Any, header: Any, request: Any) -> Any:
            return answer_query(lambda service: service.query(ctx.udc["query"]))

        @rpc(AnyXml, AnyXml, _returns=AnyXml)  # type: ignore[untyped-decorator]
        def QueryAsync(ctx: Any, header: Any, request: Any) -> Any:
            return answer_query(lambda service: service.start(ctx.udc["query"]))

        @rpc(Unicode(min_occurs=1), _returns=AnyXml)  # type: ignore[untyped-decorator]
        def GetQueryResult(ctx: Any, queryId: str) -> Any:
            return answer_query(lambda service: service.result(queryId or ""))

    catalogue_operations = CatalogueOperations(
        catalogue, None if ingress is None else ingress.verifier
    )
    query_operations = (
        None if queries is None else QueryOperations(queries, catalogue_operations.caller)
    )

    def answer_query(call: Any) -> Any:
        if query_operations is None:
            raise fault_from(ConfigurationError("this hub process answers no queries"))
        try:
            return call(query_operations.service)
        except HubError as error:
            raise fault_from(error) from error

    def check_request(ctx: Any) -> bool:
        replay = replay_of(getattr(ctx.transport, "req_env", None) or {})
        if replay is not None:  # a Submit the fast path met a refusal or failure in
            return replay.check_again(ctx.udc)
        if check_submit(ctx):
            return True
        if query_operations is None:
            return False
        try:
            return query_operations.prepare(ctx)
        except ClientError as error:  # a refused query is audited, as a refused Submit
            if ingress is not None:
                ingress.record_refusal(ctx.udc.get("sender") or "", "Query", error)
            raise

    def status_for(ctx: Any, message_id: str) -> MessageStatus:
        """The status, for the message's sender or receivers only while credentials are in
        force (the same WS-Security check as Submit); a refusal is audited with its real
        reason, though the caller hears only what an unknown id gets (status_access)."""
        if ingress is None or ingress.verifier is None:
            return store.message_status(message_id)
        try:
            access = StatusAccess(ingress.verifier)
            return access.status(ctx.in_document, message_id, store.message_status)
        except NotAuthenticated as error:
            ctx.udc["sender"] = asker = claimed_sender(ctx.in_document)
            ingress.record_refusal(asker, f"GetStatus:{message_id}", error)
            raise
        except NotFound as error:
            ctx.udc["sender"] = asker = claimed_sender(ctx.in_document)
            if isinstance(error.__cause__, ClientError):  # exists, but not for this caller
                ingress.record_refusal(asker, f"GetStatus:{message_id}", error.__cause__)
            raise

    submit_steps = SubmitSteps(ingress)

    def check_submit(ctx: Any) -> bool:
        """Run every ingress check on the lxml elements; True: Submit needs nothing else."""
        content_type = ctx.transport.get_request_content_type() or "text/xml"
        return submit_steps.check(
            ctx.in_document, ctx.in_body_doc, ctx.udc["raw"], content_type, ctx.udc
        )

    application = HubApplication(
        [HubService, *services],
        tns=HEADER_NAMESPACE,
        name="GovHubSoap12" if soap12 else "GovHub",  # one spyne registry entry each
        in_protocol=protocol(max_bytes=max_body_bytes, check=check_request),
        out_protocol=protocol(
            max_bytes=max_body_bytes,
            signer=signer,
            replies={"Submit": submit_reply} if fast_responses else {},
            writers={
                **({"Submit": submit_response} if fast_responses else {}),
                "Query": query_response,
                "QueryAsync": async_response,
                "GetQueryResult": result_response,
                **(writers or {}),
            },
        ),
    )
    # Submit's steps, for the fast path (hub/api/submit_fast_path.py) to answer a plain one.
    application.submit_steps = submit_steps if fast_responses else None
    application.event_manager.add_listener("method_context_closed", _release_request)
    return application


# The request field a ListServices refusal is about.
_LIST_SERVICES_FIELDS = {
    "Client.NotAuthenticated": "Header/Security",
    "Client.NotAuthorized": "ListServices/department",
    "Client.UnknownSender": "ListServices/department",
}
# The request field a GetSchema refusal is about.
_GET_SCHEMA_FIELDS = {
    "Client.UnknownMessageType": "GetSchema/messageType",
    "Client.SchemaInvalid": "GetSchema/schemaVersion",  # unknown or retired version
}


def _drop_trees(ctx: Any) -> None:
    """The request's parsed trees (the size of the body again) freed once the checks have
    taken from them all the operation needs; the bytes stay for a fault's line numbers."""
    for context in _both_contexts(ctx):
        context.in_document = context.in_body_doc = context.in_header_doc = None
    raw = ctx.udc.get("raw") if isinstance(ctx.udc, dict) else None
    freed_memory.give_back(len(raw or b""))  # before the store's copies are made


def _release_request(ctx: Any) -> None:
    """Drop the request's bytes and trees when spyne is done with it. spyne's contexts sit in
    reference cycles, so without this a large body lives until a full garbage collection."""
    contexts = _both_contexts(ctx)
    if isinstance(ctx.udc, dict):
        ctx.udc.clear()  # shared with the context parsed on, which is not closed here
    for context in contexts:
        context.udc = None
        context.in_string = context.in_document = context.in_body_doc = None
        context.in_header_doc = None


def _both_contexts(ctx: Any) -> list[Any]:
    """``ctx`` and the context spyne parsed the request on, of which ``ctx`` is a copy."""
    parsed_on = ctx.udc.get("parsed_on") if isinstance(ctx.udc, dict) else None
    first = None if parsed_on is None else parsed_on()
    return [ctx] if first is None or first is ctx else [ctx, first]


def submit_response(result: ReceiptModel) -> etree._Element:
    """SubmitResponse as spyne writes it (tests/test_soap_submit_response.py compares them),
    for a reply to be signed."""
    response = etree.Element(_SUBMIT_RESPONSE)
    receipt = etree.SubElement(response, _SUBMIT_RESULT)
    for name, value in _receipt_fields(result):
        etree.SubElement(receipt, f"{{{HEADER_NAMESPACE}}}{name}").text = value
    return response


def submit_reply(result: ReceiptModel, tns: str) -> str:
    """``submit_response`` as XML text, ``tns`` the prefix of the hub's namespace: the
    reply to an unsigned Submit, written without a tree (hub/api/reply_template.py)."""
    fields = "".join(
        f"<{tns}:{name}>{xml_text(value)}</{tns}:{name}>" for name, value in _receipt_fields(result)
    )
    result_element = f"<{tns}:SubmitResult>{fields}</{tns}:SubmitResult>"
    return f"<{tns}:SubmitResponse>{result_element}</{tns}:SubmitResponse>"


def _receipt_fields(result: ReceiptModel) -> list[tuple[str, str]]:
    """The receipt's elements in the schema's order; None values are left out, as spyne does."""
    duplicate = None if result.duplicate is None else str(result.duplicate).lower()
    fields = [
        ("messageId", result.messageId),
        ("state", result.state),
        ("duplicate", duplicate),
        *(("receivers", receiver) for receiver in result.receivers or ()),
        ("warning", result.warning),
    ]
    return [(name, value) for name, value in fields if value is not None]


def receipt_model(receipt: Receipt, warning: str | None = None) -> ReceiptModel:
    return ReceiptModel(
        messageId=receipt.message_id,
        state=receipt.state,
        duplicate=receipt.duplicate,
        receivers=list(receipt.receivers),
        warning=warning,
    )


def _status_model(status: MessageStatus) -> MessageStatusModel:
    return MessageStatusModel(
        messageId=status.message_id,
        messageType=status.message_type,
        sender=status.sender,
        state=status.state,
        receivedAt=status.received_at,
        correlationId=status.correlation_id,
        deliveries=[
            DeliveryStatusModel(
                department=d.department,
                state=d.state,
                attempts=d.attempts,
                lastError=d.last_error,
                deliveredAt=d.delivered_at,
            )
            for d in status.deliveries
        ],
    )


__all__ = ["build_soap_application"]

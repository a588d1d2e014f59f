"""The ingest baseline: a bare spyne echo service with the hub's WSDL shape.

Same operations and types (built from the same XSDs), same spyne, same WSGI server and
thread count as `govhub serve`; it deserializes the request and answers a receipt, and
does nothing else: no hardened parser, no schema validation, no database, no bus.

    python -m bench.echo --port 18800
"""

from __future__ import annotations

import argparse
from typing import Any

from spyne import Application, ComplexModel, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication
from spyne.service import Service

from hub.api.soap_service import MessageStatusModel, ReceiptModel
from hub.api.spyne_models import element_models
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA, HEADER_NAMESPACE, HEADER_SCHEMA
from hub.webserver import BackgroundServer


def echo_application() -> Application:
    header_model = element_models(HEADER_SCHEMA, HEADER_NAMESPACE)["MessageHeader"]
    messages = element_models(CANONICAL_SCHEMA, CANONICAL_NAMESPACE)
    message_model = type(
        "CanonicalMessage",
        (ComplexModel,),
        {
            "__namespace__": CANONICAL_NAMESPACE,
            "_type_info": [(n, m.customize(min_occurs=0)) for n, m in messages.items()],
        },
    )

    class EchoService(Service):  # type: ignore[misc]
        @rpc(header_model, message_model, _returns=ReceiptModel)  # type: ignore[untyped-decorator]
        def Submit(ctx: Any, header: Any, message: Any) -> ReceiptModel:
            return ReceiptModel(
                messageId=header.messageId,
                state="accepted",
                duplicate=False,
                receivers=["SOCIAL_SECURITY", "TAX"],
            )

        @rpc(Unicode(min_occurs=1), _returns=MessageStatusModel)  # type: ignore[untyped-decorator]
        def GetStatus(ctx: Any, messageId: str) -> MessageStatusModel:
            return MessageStatusModel(messageId=messageId, state="accepted")

    return Application(
        [EchoService],
        tns=HEADER_NAMESPACE,
        name="GovHub",
        in_protocol=Soap11(),
        out_protocol=Soap11(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="spyne echo with the hub's WSDL shape")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = WsgiApplication(echo_application(), max_content_length=10 * 1024 * 1024 + 1)
    BackgroundServer(app, args.host, args.port).serve_forever()


if __name__ == "__main__":
    main()

"""SoapAdapter: delivers to a department's SOAP 1.1 or 1.2 service with zeep, and decodes
the SOAP envelopes a department pushes to the hub.

Configured only through DepartmentConfig: ``wsdl`` (relative to the xsd/ folder), ``endpoint``,
``soap_version``, ``encoding``, ``timeout_seconds``, ``operations`` (message type ->
operation) and ``inbound`` (payload element ``{ns}Name`` -> message type). ``options`` may
name the answer's ``result_field``, ``duplicate_value`` and ``reference_field``, the
``binding`` (its QName) when the WSDL has several of the configured version, and
``sign_deliveries = true``: every delivery's soap:Body (and a wsu:Timestamp) is signed with the
hub's signing key (``use_signer``; hub/security/reply_signing.py), so the department can check
that it came from the hub, unchanged.

zeep reads the WSDL once, here: bindings, operations, each operation's input element and
soapAction (a wrong setting is a ConfigurationError at construction). A delivery does not go
through zeep: the native document is posted as it is, in an envelope built by
adapters/soap_envelope.py, with the HTTP headers zeep would send.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.wsdl.bindings import Soap11Binding, Soap12Binding
from zeep.wsse.username import UsernameToken

from adapters import soap_envelope, soapenv
from adapters._http import (
    error_for_status,
    excerpt,
    header_value,
    is_success,
    new_session,
    response_text,
    translated_request_errors,
)
from adapters.base import (
    Adapter,
    DeliveryResult,
    EnvelopeSigner,
    InboundRecord,
    OutboundDelivery,
)
from adapters.soap_transport import DepartmentTransport, encode_xml
from hub.declared_encoding import charset_of
from hub.departments import DepartmentConfig, outbound_credentials
from hub.errors import (
    ConfigurationError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    UnknownMessageType,
)
from hub.resources import XSD_ROOT

SIGN_DELIVERIES = "sign_deliveries"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_BINDING_CLASSES = {
    "1.1": Soap11Binding,
    "1.2": Soap12Binding,
}


@dataclass(frozen=True)
class _Operation:
    """What a call of one operation needs, read from the WSDL once."""

    name: str
    input_element: str  # the body's only child, {namespace}Name
    headers: dict[str, str]  # HTTP headers, as zeep sends them


class SoapAdapter(Adapter):
    name = "soap"

    def __init__(self, department: DepartmentConfig) -> None:
        super().__init__(department)
        if department.soap_version not in soapenv.ENVELOPE_NAMESPACES:
            raise ConfigurationError(
                f"{department.code}: soap_version must be 1.1 or 1.2, "
                f"not {department.soap_version!r}"
            )
        _check_encoding(department)
        self.rules = soapenv.AnswerRules.from_options(department.options)
        self._session = new_session(department.endpoint)
        self._transport = DepartmentTransport(self._session, department.timeout_seconds)
        binding = _find_binding(_build_client(department, self._transport), department)
        self._operations = _operations(binding, department)
        self._token = _username_token(department)
        self._sign = _sign_deliveries(department)
        self._signer: EnvelopeSigner | None = None

    def use_signer(self, signer: EnvelopeSigner | None) -> None:
        """The hub's signing key, for departments whose options ask for signed deliveries."""
        if self._sign and signer is not None:
            self._signer = signer

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        """Post the document itself as the soap:Body's only child. It is moved into the
        envelope, not copied: the caller (hub/delivery.py) has already serialised what it keeps."""
        code = self.department.code
        operation = self.department.operations.get(delivery.message_type)
        if operation is None:
            raise PermanentDeliveryError(
                f"{code} has no operation for {delivery.message_type} (see its operations setting)"
            )
        call = self._operations[operation]
        document = _checked_document(call, delivery.document)
        if self._sign and self._signer is None:
            raise PermanentDeliveryError(
                f"{code} wants signed deliveries ({SIGN_DELIVERIES}) but the hub has no signing "
                "key: set GOVHUB_SIGNING_KEY_FILE and GOVHUB_SIGNING_CERT_FILE"
            )
        body, headers = self._request(call, document, delivery.idempotency_key)
        with translated_request_errors(code):
            response = self._transport.post(self.department.endpoint, body, headers)
        return self._read_answer(response)

    def decode_inbound(
        self, body: bytes, headers: Mapping[str, str], path: str = ""
    ) -> InboundRecord:
        charset = charset_of(header_value(headers, "Content-Type"))
        payload, header = soapenv.unwrap_push(body, self.department.soap_version, charset)
        tag = str(payload.tag)
        message_type = self.department.inbound.get(tag)
        if message_type is None:
            known = ", ".join(sorted(self.department.inbound)) or "none"
            raise UnknownMessageType(
                f"{self.department.code} does not send {tag}", detail=f"it sends: {known}"
            )
        key = header_value(headers, IDEMPOTENCY_HEADER) or soapenv.header_idempotency_key(header)
        return InboundRecord(message_type, payload, idempotency_key=key, raw=body)

    def close(self) -> None:
        self._session.close()

    def _request(
        self, call: _Operation, document: etree._Element, key: str
    ) -> tuple[bytes, dict[str, str]]:
        """The bytes and HTTP headers of one call: a fresh envelope, token and signature."""
        envelope = soap_envelope.build(self.department.soap_version, key, document)
        envelope, headers = soap_envelope.secure(
            envelope, dict(call.headers), self._token, self._signer
        )
        return encode_xml(envelope, self.department.encoding), headers

    def _read_answer(self, response: requests.Response) -> DeliveryResult:
        code = self.department.code
        envelope = soapenv.parse_answer(response.content)
        payload = soapenv.body_payload(envelope) if envelope is not None else None
        # Parsed XML knows its own encoding (GB18030 answers often omit the HTTP charset).
        text = response_text(response) if envelope is None else _as_text(envelope)
        answer = excerpt(text)
        fault = soapenv.read_fault(payload) if payload is not None else None
        if fault is not None:
            raise soapenv.fault_error(code, fault, answer)
        if not is_success(response.status_code):
            raise error_for_status(code, response.status_code, answer)
        if payload is None:
            # It said 2xx but nothing readable; the same key makes asking again harmless.
            raise RetryableDeliveryError(f"{code} answered without a SOAP receipt", detail=answer)
        status: Literal["accepted", "duplicate"] = (
            "duplicate" if self.rules.is_duplicate(payload) else "accepted"
        )
        return DeliveryResult(status, self.rules.reference(payload), answer)


def _checked_document(call: _Operation, document: object) -> etree._Element:
    """The (already validated) native document, if it is the operation's input element."""
    if not isinstance(document, etree._Element) or document.tag != call.input_element:
        got = document.tag if isinstance(document, etree._Element) else type(document).__name__
        raise PermanentDeliveryError(f"{call.name} takes {call.input_element}, not {got}")
    return document


def _sign_deliveries(department: DepartmentConfig) -> bool:
    value = department.options.get(SIGN_DELIVERIES, False)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{department.code}: {SIGN_DELIVERIES} must be true or false")
    return value


def _build_client(department: DepartmentConfig, transport: DepartmentTransport) -> zeep.Client:
    if not department.wsdl:
        raise ConfigurationError(f"{department.code}: the soap adapter needs a wsdl setting")
    path = XSD_ROOT / department.wsdl
    if not path.is_file():
        raise ConfigurationError(
            f"{department.code}: WSDL {department.wsdl} not found under {XSD_ROOT}"
        )
    # raw_response: the answer is read by soapenv, with the hub's parser, faults included.
    settings = zeep.Settings(
        forbid_dtd=True, forbid_entities=True, forbid_external=True, raw_response=True
    )
    try:
        return zeep.Client(  # type: ignore[no-untyped-call]
            str(path), transport=transport, settings=settings
        )
    except (zeep.exceptions.Error, etree.XMLSyntaxError, OSError) as exc:
        raise ConfigurationError(
            f"{department.code}: WSDL {department.wsdl} does not load: {exc}"
        ) from exc


def _username_token(department: DepartmentConfig) -> UsernameToken | None:
    """The hub's own WS-Security token at the department, if its settings reference one."""
    credentials = outbound_credentials(department)
    if credentials is None:
        return None
    return UsernameToken(  # type: ignore[no-untyped-call]
        credentials.username, credentials.secret, use_digest=True
    )


def _find_binding(client: zeep.Client, department: DepartmentConfig) -> Any:
    wanted = department.options.get("binding")
    version_class = _BINDING_CLASSES[department.soap_version]
    bindings = [
        binding
        for binding in client.wsdl.bindings.values()
        if isinstance(binding, version_class) and wanted in (None, binding.name.text)
    ]
    if not bindings:
        raise ConfigurationError(
            f"{department.code}: WSDL {department.wsdl} has no "
            f"SOAP {department.soap_version} binding" + (f" named {wanted}" if wanted else "")
        )
    return bindings[0]


def _operations(binding: Any, department: DepartmentConfig) -> dict[str, _Operation]:
    """Each configured operation's input element and headers; a typo in the config fails
    here, early."""
    operations = {}
    for name in set(department.operations.values()):
        if name not in binding._operations:  # zeep has no public lookup that returns None
            known = ", ".join(sorted(binding._operations))
            raise ConfigurationError(
                f"{department.code}: WSDL {department.wsdl} has no operation {name}",
                detail=f"it has: {known}",
            )
        found = binding._operations[name]
        headers = soap_envelope.request_headers(
            department.soap_version, found.soapaction, department.encoding
        )
        operations[name] = _Operation(name, str(found.input.body.qname), headers)
    return operations


def _check_encoding(department: DepartmentConfig) -> None:
    try:
        codecs.lookup(department.encoding)
    except LookupError as exc:
        raise ConfigurationError(
            f"{department.code}: unknown encoding {department.encoding!r}"
        ) from exc


def _as_text(envelope: etree._Element) -> str:
    return str(etree.tostring(envelope, encoding="unicode"))

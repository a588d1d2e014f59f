"""ListServices and GetSchema on /soap: the catalogue (hub/catalogue) in the types
xsd/hub/soap-api.xsd declares for them.

ListServices is authenticated like GetStatus: the caller is the department its TLS client
certificate or WS-Security UsernameToken proves; a department without credentials (under
``authentication = registered``) names itself in ``department`` and is checked as its Submit
would be. GetSchema is public, as the WSDL is: a schema is the contract, not data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree
from spyne import ComplexModel, Integer, Unicode

from hub.catalogue.schemas import type_schema
from hub.catalogue.services import Allowed, Catalogue, Service
from hub.errors import ConfigurationError, NotAuthenticated, NotAuthorized
from hub.resources import HEADER_NAMESPACE
from hub.security.status_access import StatusAccess
from hub.security.wsse import WsseVerifier

CatalogueSource = Callable[[], Catalogue]


def _model(type_name: str, fields: list[tuple[str, Any]]) -> Any:
    """A spyne type of xsd/hub/soap-api.xsd's complex type ``type_name``: same names, order
    and occurrences (a field of ``None`` occurrences is optional text)."""
    attributes = {
        "__namespace__": HEADER_NAMESPACE,
        "__type_name__": type_name,
        "_type_info": [
            (name, Unicode(min_occurs=0) if kind is None else kind) for name, kind in fields
        ],
    }
    return type(type_name, (ComplexModel,), attributes)


_MANY = Unicode.customize(min_occurs=0, max_occurs="unbounded")
ResourceModel = _model(
    "ResourceMetadata",
    [
        *((name, Unicode) for name in ("name", "identifier", "provider", "summary")),
        *((name, Unicode) for name in ("category", "format", "updateCycle", "sharingType")),
        ("sharingCondition", None),
        ("openType", Unicode),
    ],
)
ReceiverModel = _model(
    "CatalogueReceiver",
    [("department", Unicode), ("condition", None), ("version", None), ("lossy", None)],
)
ServiceModel = _model(
    "CatalogueService",
    [
        ("messageType", Unicode),
        ("schema", Unicode),
        ("namespace", Unicode),
        ("senders", _MANY),
        ("receivers", ReceiverModel.customize(min_occurs=0, max_occurs="unbounded")),
        ("resource", ResourceModel),
        ("versions", _MANY),  # every canonical version accepted (hub/versions)
    ],
)
AllowedModel = _model(
    "AllowedServices",
    [
        ("department", Unicode),
        ("sends", _MANY),
        ("receives", _MANY),
        ("reads", _MANY),
        ("fetches", _MANY),
    ],
)
CatalogueModel = _model(
    "Catalogue",
    [
        ("generation", Integer),
        ("services", ServiceModel.customize(min_occurs=0, max_occurs="unbounded")),
        ("allowed", AllowedModel.customize(min_occurs=0)),
    ],
)
SchemaModel = _model(
    "TypeSchema",
    [
        (name, Unicode)
        for name in ("messageType", "namespace", "location", "schema", "schemaVersion")
    ],
)


class CatalogueOperations:
    """What ListServices and GetSchema answer; HubErrors for the caller to turn into faults."""

    def __init__(self, source: CatalogueSource | None, verifier: WsseVerifier | None) -> None:
        self._source = source
        self._verifier = verifier

    def list_services(self, envelope: etree._Element, department: str | None) -> Any:
        catalogue = self._catalogue()
        caller = self.caller(envelope, (department or "").strip() or None)
        allowed = None if caller is None else _allowed_model(catalogue.allowed(caller))
        return CatalogueModel(
            generation=catalogue.generation,
            services=[_service_model(service) for service in catalogue.services],
            allowed=allowed,
        )

    def get_schema(self, message_type: str, version: str | None) -> Any:
        """``version``: one of the type's canonical versions not retired; None: the default
        (hub/catalogue/schemas.py, ``offered_version``)."""
        catalogue = self._catalogue()
        wanted = (message_type or "").strip()
        schema = type_schema(wanted, catalogue.message_types(), (version or "").strip() or None)
        return SchemaModel(
            messageType=wanted,
            namespace=schema.namespace,
            location=schema.location,
            schema=schema.document.decode("utf-8"),
            schemaVersion=schema.version,
        )

    def caller(self, envelope: etree._Element, named: str | None) -> str | None:
        """The department the request proves it is; None when the hub checks no credentials
        and the request names none."""
        if self._verifier is None:
            return named
        proven = StatusAccess(self._verifier).asker(envelope)
        if proven is not None and named is not None and named != proven:
            raise NotAuthorized(f"authenticated as {proven}, not as {named}")
        if proven is not None:
            return proven
        if named is None:
            raise NotAuthenticated(
                "ListServices must be authenticated as a department, as for Submit "
                "(or name a department that has no credentials in department)"
            )
        self._verifier.verify(envelope, named)
        return named

    def _catalogue(self) -> Catalogue:
        if self._source is None:
            raise ConfigurationError("this hub process serves no catalogue")
        return self._source()


def _service_model(service: Service) -> Any:
    meta = service.resource
    return ServiceModel(
        messageType=service.message_type,
        schema=service.schema,
        namespace=service.namespace,
        senders=list(service.senders),
        receivers=[
            ReceiverModel(
                department=r.department,
                condition=r.condition or None,
                version=r.version,
                lossy="; ".join(r.lossy) or None,
            )
            for r in service.receivers
        ],
        resource=ResourceModel(
            name=meta.name,
            identifier=meta.identifier,
            provider=meta.provider,
            summary=meta.summary,
            category=meta.category,
            format=meta.format,
            updateCycle=meta.update_cycle,
            sharingType=meta.sharing,
            sharingCondition=meta.sharing_condition or None,
            openType=meta.open,
        ),
        versions=list(service.versions),
    )


def _allowed_model(allowed: Allowed) -> Any:
    return AllowedModel(
        department=allowed.department,
        sends=list(allowed.sends),
        receives=list(allowed.receives),
        reads=list(allowed.reads),
        fetches=list(allowed.fetches),
    )

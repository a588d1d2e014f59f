"""A zeep Transport that never touches the network for WSDLs, nor logs message bodies (they
carry identity numbers); SoapAdapter posts its envelopes, already encoded in the department's
encoding (``encode_xml``, ``with_charset``), through ``post`` (same session, timeout, no
redirects). zeep itself only reads the WSDL with it, never posts."""

from __future__ import annotations

import re
from typing import Any, cast

import requests
from lxml import etree
from zeep.transports import Transport

from adapters._http import Poster
from hub.errors import ConfigurationError

_CHARSET = re.compile(r";\s*charset=[^;]*", re.IGNORECASE)


class DepartmentTransport(Transport):
    def __init__(self, session: requests.Session, timeout: float) -> None:
        super().__init__(session=session, operation_timeout=timeout)  # type: ignore[no-untyped-call]
        self._poster = Poster(session)

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> Any:
        # zeep's own post logs the whole body at DEBUG; ours does not.
        # No redirects: a 307 would re-post a citizen's record to whatever host it names.
        return self._poster.post(address, message, headers, self.operation_timeout)

    def load(self, url: str) -> bytes:
        if "://" in url and not url.startswith("file://"):
            raise ConfigurationError(f"WSDLs and schemas are read from local files only: {url}")
        return bytes(super().load(url))  # type: ignore[no-untyped-call]


def encode_xml(element: etree._Element, encoding: str) -> bytes:
    """``element``'s bytes in ``encoding``, with an XML declaration that names it."""
    return cast(bytes, etree.tostring(element, encoding=encoding, xml_declaration=True))


def with_charset(headers: dict[str, str], encoding: str) -> dict[str, str]:
    """The headers with Content-Type's charset set to ``encoding``."""
    content_type = _CHARSET.sub("", headers.get("Content-Type", "text/xml"))
    base, _, rest = content_type.partition(";")
    parts = [base.strip(), f"charset={encoding}"] + ([rest.strip()] if rest else [])
    return {**headers, "Content-Type": "; ".join(parts)}

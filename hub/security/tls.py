"""The hub's own TLS: its certificate and key, and, with a client CA, client certificates
required and verified in the handshake (mutual TLS).

    tls = TlsFiles.from_settings(settings)   # None: no TLS configured, plain HTTP (waitress)
    context = tls.context()                  # what hub/webserver.py's TlsServer serves with
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from hub.config import Settings
from hub.errors import ConfigurationError


@dataclass(frozen=True)
class TlsFiles:
    cert_file: str  # PEM, the server certificate first, then any intermediates
    key_file: str  # PEM, unencrypted
    client_ca_file: str = ""  # PEM bundle; empty: no client certificates asked for

    @classmethod
    def from_settings(cls, settings: Settings) -> TlsFiles | None:
        """None without TLS settings; a half-configured setup stops start-up."""
        files = cls(settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file)
        if not (files.cert_file or files.key_file or files.client_ca_file):
            return None
        if not (files.cert_file and files.key_file):
            raise ConfigurationError(
                "TLS needs both GOVHUB_TLS_CERT_FILE and GOVHUB_TLS_KEY_FILE "
                "(and GOVHUB_TLS_CLIENT_CA_FILE for client certificates)"
            )
        files.context()  # unreadable files fail here, at start
        return files

    def context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert_file, self.key_file)
            if self.client_ca_file:
                context.load_verify_locations(cafile=self.client_ca_file)
                context.verify_mode = ssl.CERT_REQUIRED
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"cannot load the TLS certificate, key or client CA: {exc}"
            ) from exc
        return context

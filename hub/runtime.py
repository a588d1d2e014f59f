"""One hub process, wired from settings: schemas, mappings, directory, routes, store, bus,
adapters, ingress, the HTTP front and the delivery workers."""

from __future__ import annotations

import threading

from spyne.server.wsgi import WsgiApplication

from adapters.base import Adapter
from adapters.registry import load_adapter
from hub.api.admin_service import build_admin_application
from hub.api.soap_service import build_soap_application
from hub.api.wsgi import HubWsgiApp
from hub.bus import Publisher
from hub.config import Settings
from hub.departments import DepartmentConfig, DepartmentDirectory
from hub.errors import ConfigurationError
from hub.ingress import Ingress
from hub.mapping import MappingRegistry
from hub.routing import RoutingTable
from hub.schemas import SchemaRegistry
from hub.security.admins import AdminGuard, AdminStore
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing
from hub.security.nonces import DatabaseNonceCache
from hub.security.reply_signing import ReplySigner
from hub.security.wsse import WsseVerifier
from hub.store import Store
from hub.workers import WorkerService


class AdapterCache:
    """One adapter per department, built on first use and shared between threads."""

    def __init__(self) -> None:
        self._adapters: dict[str, Adapter] = {}
        self._lock = threading.Lock()

    def __call__(self, config: DepartmentConfig) -> Adapter:
        adapter = self._adapters.get(config.code)
        if adapter is None:
            with self._lock:
                adapter = self._adapters.get(config.code) or load_adapter(config)
                self._adapters[config.code] = adapter
        return adapter

    def close(self) -> None:
        for adapter in self._adapters.values():
            adapter.close()
        self._adapters.clear()


def check_deliverable(
    routes: RoutingTable, departments: DepartmentDirectory, mappings: MappingRegistry
) -> None:
    """Every receiver of every route has an outbound mapping and an operation for it; all
    gaps are reported at once, at start-up, instead of as failed deliveries later."""
    gaps = []
    for message_type in routes.message_types():
        for receiver in routes.route(message_type).receivers:
            if mappings.find(receiver, "outbound", message_type) is None:
                gaps.append(f"no outbound mapping {receiver}/outbound/{message_type}")
            if message_type not in departments.get(receiver).operations:
                gaps.append(f"department {receiver} has no operation for {message_type}")
    if gaps:
        raise ConfigurationError("routes cannot be delivered: " + "; ".join(gaps))


def wsse_verifier(settings: Settings, store: Store) -> WsseVerifier:
    """WS-Security checks against the departments' registered credentials; nonces are kept
    in the database so that every API process refuses a replay."""
    credentials = CredentialStore(store.engine, keys=KeyRing.parse(settings.encryption_keys))
    return WsseVerifier(
        credentials,
        DatabaseNonceCache(store.engine),
        max_age_seconds=settings.wsse_max_age_seconds,
        clock_skew_seconds=settings.wsse_clock_skew_seconds,
        authentication=settings.authentication,
    )


def admin_guard(settings: Settings, store: Store) -> AdminGuard:
    """/admin accounts and permissions; their tokens are checked like the departments'."""
    accounts = AdminStore(store.engine, keys=KeyRing.parse(settings.encryption_keys))
    verifier = WsseVerifier(
        accounts,
        DatabaseNonceCache(store.engine),
        max_age_seconds=settings.wsse_max_age_seconds,
        clock_skew_seconds=settings.wsse_clock_skew_seconds,
        authentication="required",
    )
    return AdminGuard(accounts, verifier, settings.authentication)


def reply_signer(settings: Settings) -> ReplySigner | None:
    """The hub's reply signer, or None when no signing key is configured."""
    key, cert = settings.signing_key_file, settings.signing_cert_file
    if not key and not cert:
        return None
    if not (key and cert):
        raise ConfigurationError(
            "set both GOVHUB_SIGNING_KEY_FILE and GOVHUB_SIGNING_CERT_FILE, or neither"
        )
    return ReplySigner.from_files(key, cert)


class HubRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.schemas = SchemaRegistry()
        self.mappings = MappingRegistry(schemas=self.schemas)
        self.departments = DepartmentDirectory.from_file(settings.departments_file).with_endpoints(
            settings.department_endpoints
        )
        self.routes = RoutingTable.from_file(settings.routes_file)
        self.routes.check_against(set(self.departments.codes()))
        check_deliverable(self.routes, self.departments, self.mappings)
        self.store = Store(settings.effective_database_url)
        self.publisher = Publisher(settings.bus_url, queue_prefix=settings.queue_prefix)
        self.adapters = AdapterCache()
        self.ingress = Ingress(
            settings,
            self.store,
            self.routes,
            self.departments,
            self.mappings,
            self.schemas,
            self.publisher,
            self.adapters,
            verifier=wsse_verifier(settings, self.store),
        )
        self.signer = reply_signer(settings)  # a bad key or certificate fails here, at start
        self._workers: WorkerService | None = None

    def wsgi_app(self) -> HubWsgiApp:
        soap = build_soap_application(
            self.ingress, self.store, self.settings.max_body_bytes, self.signer
        )
        wsgi = WsgiApplication(soap, max_content_length=self.settings.max_body_bytes)
        admin = build_admin_application(
            self.store,
            set(self.departments.codes()),
            self.settings,
            self.signer,
            admin_guard(self.settings, self.store),
        )
        admin_wsgi = WsgiApplication(admin, max_content_length=self.settings.max_body_bytes)
        return HubWsgiApp(wsgi, self.ingress, self.settings.max_body_bytes, admin_wsgi)

    def start_workers(self) -> WorkerService:
        self._workers = WorkerService(
            self.settings,
            self.store,
            self.mappings,
            self.departments,
            self.adapters,
            publisher=self.publisher,
            queue_prefix=self.settings.queue_prefix,
        )
        self._workers.start()
        return self._workers

    def close(self) -> None:
        if self._workers is not None:
            self._workers.stop()
        self.adapters.close()
        self.publisher.close()
        self.store.dispose()

"""One hub process, wired from settings: schemas, mappings, directory, routes, store, bus,
adapters, ingress, the HTTP front and the delivery workers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from spyne.server.wsgi import WsgiApplication

from hub.adapter_cache import AdapterCache
from hub.api.admin_service import build_admin_application
from hub.api.admission import byte_budget
from hub.api.batch_service import BatchApi
from hub.api.mailbox_service import mailbox_api
from hub.api.soap_endpoint import soap_endpoint
from hub.api.wsgi import HubWsgiApp
from hub.batch.intake import BatchIntake
from hub.bus import Publisher
from hub.catalogue.live import live_catalogue
from hub.config import Settings
from hub.configuration import announce
from hub.configuration.admin import ConfigurationAdmin
from hub.configuration.live import LiveConfiguration
from hub.configuration.loader import BaseConfiguration, Configuration, ConfigurationLoader
from hub.console import ConsoleApp
from hub.errors import ConfigurationError
from hub.federation.admission import ForwardAdmission
from hub.federation.config import LiveFederation, live_federation
from hub.federation.forwarder import Forwarder
from hub.federation.status import ForwardStatusApp
from hub.ingress import Ingress
from hub.mailbox.waiting import WaitSlots
from hub.mapping import Mapping
from hub.observability import probe_app
from hub.query import query_service
from hub.routing import RoutingTable
from hub.schemas import SchemaRegistry
from hub.security.admins import AdminGuard, AdminStore
from hub.security.credential_cache import CachedCredentials
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing
from hub.security.native_auth import native_authenticator
from hub.security.nonces import DatabaseNonceCache
from hub.security.payloads import payload_sealer
from hub.security.reply_signing import ReplySigner
from hub.security.wsse import CredentialSource, WsseVerifier
from hub.store import Store
from hub.supervision import case_book
from hub.tracker.service import build_tracker
from hub.tracker.soap import TrackerApi
from hub.versions import ModelVersions, read_versions
from hub.versions.catalog import VERSIONS_FILE
from hub.versions.model import install
from hub.workers import WorkerService


def configuration_loader(
    settings: Settings,
    store: Store,
    schemas: SchemaRegistry | None = None,
    base: BaseConfiguration | None = None,
) -> ConfigurationLoader:
    """The loader of this hub's configuration: files, then what the database adds."""
    schemas = schemas or SchemaRegistry()
    base = base or BaseConfiguration.from_files(
        settings.departments_file, settings.routes_file, settings.department_endpoints, schemas
    )
    return ConfigurationLoader(
        base, store.engine, schemas, settings.data_dir.resolve() / "packages"
    )


def configuration_admin(
    settings: Settings, loader: ConfigurationLoader, after: Callable[[], None] | None = None
) -> ConfigurationAdmin:
    """Admin changes, announced on the bus; ``after`` runs once a change is stored (the API
    process reloads at once instead of waiting for its own announcement)."""

    def announced(generation: int) -> None:
        announce.announce(settings.bus_url, settings.queue_prefix, generation)
        if after is not None:
            after()

    return ConfigurationAdmin(loader, announce=announced)


def wsse_verifier(settings: Settings, store: Store) -> WsseVerifier:
    """WS-Security checks against the departments' registered credentials; nonces are kept
    in the database so that every API process refuses a replay."""
    credentials: CredentialSource = CredentialStore(
        store.engine, keys=KeyRing.parse(settings.encryption_keys)
    )
    if settings.credentials_cache_seconds > 0:
        credentials = CachedCredentials(credentials, settings.credentials_cache_seconds)
    return WsseVerifier(
        credentials,
        DatabaseNonceCache(store.engine),
        max_age_seconds=settings.wsse_max_age_seconds,
        clock_skew_seconds=settings.wsse_clock_skew_seconds,
        authentication=settings.authentication,
        signature_timestamp=settings.signature_timestamp,
        password_text_over_http=settings.allow_password_text_over_http,
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
        password_text_over_http=settings.allow_password_text_over_http,
    )
    return AdminGuard(accounts, verifier)


def forward_admission(
    settings: Settings, store: Store, federation: LiveFederation | None, routes: RoutingTable
) -> ForwardAdmission | None:
    """How forwards from neighbour hubs are taken in; None for a hub alone."""
    if federation is None:
        return None
    return ForwardAdmission(
        federation,
        routes,
        DatabaseNonceCache(store.engine),
        max_age_seconds=settings.wsse_max_age_seconds,
        clock_skew_seconds=settings.wsse_clock_skew_seconds,
    )


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
    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        """``migrate``: bring the schema to the newest first (the embedded hub, tests); a
        distributed process leaves that to `govhub db upgrade` (hub/startup/waiting.py)."""
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.schemas = SchemaRegistry()
        base = BaseConfiguration.from_files(
            settings.departments_file,
            settings.routes_file,
            settings.department_endpoints,
            self.schemas,
        )
        self.store = Store(settings.effective_database_url, sealer=payload_sealer(settings))
        if migrate:  # registered departments and routes live in the database
            self.store.upgrade()
        self.config = LiveConfiguration(
            configuration_loader(settings, self.store, self.schemas, base)
        )
        self.departments = self.config.departments
        self.routes = self.config.routes
        self.mappings = self.config.mappings
        self.versions = registered_versions(settings, self.mappings.all())
        self.publisher = Publisher(
            settings.bus_url,
            queue_prefix=settings.queue_prefix,
            on_unpublished=self.store.release_leases,  # the relay sends them when it can
        )
        self.signer = reply_signer(settings)  # a bad key or certificate fails here, at start
        self.adapters = AdapterCache(signer=self.signer)
        self.federation = live_federation(settings.federation_file)  # a bad file fails here
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
            case_book=case_book(settings, self.store.engine),
            forwards=forward_admission(settings, self.store, self.federation, self.routes),
        )
        self._mailbox = mailbox_api(settings, self.store, self.departments, self.ingress)
        self.batches = BatchIntake(self.ingress, settings.data_dir)
        self._workers: WorkerService | None = None
        self._stop_watching = threading.Event()
        self._watcher = threading.Thread(
            target=self.config.watch,
            args=(
                self._stop_watching,
                settings.config_poll_seconds,
                settings.config_poll_announced_seconds,
            ),
            name="govhub-config",
            daemon=True,
        )
        self._watcher.start()
        if announce.broadcasts(settings.bus_url):
            threading.Thread(
                target=announce.listen,
                args=(
                    settings.bus_url,
                    settings.queue_prefix,
                    self.config.wake,
                    self._stop_watching,
                    self.config.announcements,
                ),
                name="govhub-config-announcements",
                daemon=True,
            ).start()

    def wsgi_app(self) -> HubWsgiApp:
        wsgi = soap_endpoint(
            self.ingress,
            self.store,
            self.settings.max_body_bytes,
            self.signer,
            catalogue=live_catalogue(self.settings, self.config),
            mailbox=self._mailbox,
            batches=BatchApi(self.batches),
            tracker=TrackerApi(build_tracker(self.settings, self.store), self.ingress.verifier),
            queries=query_service(
                self.settings,
                lambda: self.config.departments,
                self.store,
                lambda: self.config.current,
            ),
        )
        admin = build_admin_application(
            self.store,
            self.departments,
            self.settings,
            self.signer,
            admin_guard(self.settings, self.store),
            configuration_admin(self.settings, self.config.loader, after=self.config.wake),
        )
        admin_wsgi = WsgiApplication(admin, max_content_length=self.settings.max_body_bytes)
        native_auth = native_authenticator(self.settings, self.store.engine)
        admission = byte_budget(self.settings)
        accounts = AdminStore(self.store.engine, keys=KeyRing.parse(self.settings.encryption_keys))
        probes = probe_app(self.settings, self.store.engine, self.config)
        console = ConsoleApp(
            self.store,
            accounts,
            self.departments,
            self.settings,
            configuration=configuration_admin(self.settings, self.config.loader, self.config.wake),
            readiness=probes.readiness,
            batches=self.batches,
        )
        return HubWsgiApp(
            wsgi,
            self.ingress,
            self.settings.max_body_bytes,
            admin_wsgi,
            native_auth,
            admission,
            console,
            probes,
            federation=self._federation_status(),
        )

    def _federation_status(self) -> ForwardStatusApp | None:
        forwards = self.ingress.forwards
        if self.federation is None or forwards is None:
            return None
        return ForwardStatusApp(self.federation, forwards, self.store)

    def mailbox_slots(self) -> WaitSlots:
        """The Receives waiting for a first message now, of how many may (hub/mailbox)."""
        return self._mailbox.slots

    def start_workers(self) -> WorkerService:
        self._workers = WorkerService(
            self.settings,
            self.store,
            self.mappings,
            self.departments,
            self.adapters,
            publisher=self.publisher,
            queue_prefix=self.settings.queue_prefix,
            routes=self.routes,
            forwarder=None if self.federation is None else Forwarder(self.federation, self.store),
        )
        # Listening before starting: a department registered while the workers start (the
        # announcement listener's first look runs meanwhile) is either in what start() reads
        # or started by the listener after it, never in neither (its queue unconsumed until
        # the next change: seen as a flaky tests/test_onboarding_distributed.py).
        self.config.on_change(self._start_new_departments)
        self._workers.start()
        return self._workers

    @property
    def workers(self) -> WorkerService | None:
        """The worker service, once started."""
        return self._workers

    def _start_new_departments(self, _: Configuration) -> None:
        if self._workers is not None:
            self._workers.start_new_departments()

    def close(self) -> None:
        self._stop_watching.set()
        self.config.wake()
        if self._workers is not None:
            self._workers.stop()
        self.adapters.close()
        self.publisher.close()
        self.store.dispose()


def registered_versions(settings: Settings, mappings: Iterable[Mapping]) -> ModelVersions:
    """The canonical versions this hub speaks, installed for ingress and delivery; a version
    file that retires a version a department still declares stops the hub here."""
    file = Path(settings.model_versions_file) if settings.model_versions_file else VERSIONS_FILE
    versions = ModelVersions(read_versions(file))
    versions.check_declared(mappings)
    install(versions)
    return versions

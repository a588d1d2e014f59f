"""Typed settings with embedded defaults. The environment is read only in ``from_env``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hub.resources import DEFAULTS_ROOT

DEFAULT_DATA_DIR = Path("govhub-data")
DEFAULT_BUS_URL = "memory://"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
# Request bytes the HTTP front works on at once (hub/api/admission.py; 0: no bound): peak memory
# grows with this, not with connections. 2 MiB keeps 16 connections of 1 MB messages near the
# peak of one (docs/performance.md, 4); a larger request runs alone, never refused for its size.
DEFAULT_MAX_INFLIGHT_BYTES = 2 * 1024 * 1024
# How long a request waits for its bytes before it is answered Server.Busy (SOAP) / 503 (native).
DEFAULT_ADMISSION_WAIT_SECONDS = 30.0
# A request's line and headers must arrive within this many seconds of its first byte, and a
# connection silent this long (idle, or stalled mid-body) is closed: a slow-loris sender holds
# a connection for seconds, not minutes. A body that keeps arriving is never cut for time.
DEFAULT_HEADER_TIMEOUT_SECONDS = 20.0
DEFAULT_LEASE_SECONDS = 30.0
# A mailbox message received and not acknowledged within this is received again.
DEFAULT_MAILBOX_LEASE_SECONDS = 60.0
# How many Receive calls may wait for a first message at once; the server gets this many
# threads more than its own, so Submit always has its threads (hub/mailbox/waiting.py).
DEFAULT_MAILBOX_WAIT_SLOTS = 200
# Messages a mailbox holds waiting before the department's further deliveries are held
# (kept, in order, until it drains: hub/mailbox/quota.py).
DEFAULT_MAILBOX_QUOTA = 10_000
DEFAULT_RELAY_INTERVAL_SECONDS = 1.0
DEFAULT_RELAY_REST_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 40  # with 1 s doubling to 300 s: 1.3 to 2.6 hours of trying
DEFAULT_RETRY_BASE_SECONDS = 1.0
DEFAULT_RETRY_MAX_SECONDS = 300.0
DEFAULT_RETRY_MAX_AGE_SECONDS = 86400.0  # no retry is scheduled a day after the round began
# A hung department holds one consumer thread per stuck delivery, up to its adapter timeout;
# the others keep its queue moving.
DEFAULT_CONSUMERS_PER_DEPARTMENT = 8
# Claims and attempt records of a worker process's delivery threads are group-committed, up to
# this many a transaction (hub/store/attempt_commit.py); 1: each in its own transaction.
DEFAULT_DELIVERY_BATCH_SIZE = 64
DEFAULT_BODY_RETENTION_DAYS = 30.0
DEFAULT_METADATA_RETENTION_DAYS = 0.0  # 0: keep metadata and hashes for ever
DEFAULT_PRUNE_INTERVAL_SECONDS = 3600.0  # 0: no automatic pruning in the worker service
DEFAULT_PRUNE_BATCH_SIZE = 500
# A bulk replay is released to the relay in batches this far apart, so new traffic interleaves.
DEFAULT_REPLAY_BATCH_SIZE = 200
DEFAULT_REPLAY_BATCH_INTERVAL_SECONDS = 1.0
# WS-Security (hub/security/wsse.py): how old a UsernameToken's Created may be, and how far in
# the future (clock skew); nonces are remembered for max age + skew.
DEFAULT_WSSE_MAX_AGE_SECONDS = 300.0
DEFAULT_WSSE_CLOCK_SKEW_SECONDS = 30.0
# "registered": a department with credentials must authenticate; "required": every department.
DEFAULT_AUTHENTICATION = "registered"
# "required": a request signed without a UsernameToken must carry a signed wsu:Timestamp
# (Created, Expires); "optional" accepts one without (zeep's plain Signature adds none).
DEFAULT_SIGNATURE_TIMESTAMP = "optional"
# Salted PBKDF2-SHA256 for stored department secrets (hub-issued, 256 random bits).
DEFAULT_SECRET_HASH_ITERATIONS = 10_000

# Signed checkpoints of the audit chain's head (hub/security/checkpoints.py), written by the
# worker service when the log grew, so a deleted tail or a rolled-back head shows.
DEFAULT_AUDIT_CHECKPOINT_SECONDS = 60.0  # 0: none written automatically
DEFAULT_AUDIT_CHECKPOINT_KEEP = 1000

# GET /ready (hub/observability): each check's bound (they run side by side, so the answer
# comes within it, under the 5 s load balancers commonly wait), and how long a verdict is kept.
DEFAULT_READY_CHECK_SECONDS = 4.0
DEFAULT_READY_CACHE_SECONDS = 2.0

# Alert rules (hub/observability/alert_rules.py) are evaluated by the worker service this often.
DEFAULT_ALERT_INTERVAL_SECONDS = 30.0

# A case event dated this far after the hub's clock is still taken (the departments' clocks
# drift); later than that it is refused as dated in the future (hub/supervision).
DEFAULT_SUPERVISION_CLOCK_SKEW_SECONDS = 300.0
DEFAULT_SUPERVISION_REPORT_HOURS = 24.0
DEFAULT_SUPERVISION_EVALUATE_SECONDS = 60.0
# The signal pass's lease (hub/supervision/lease.py): several intervals, so a holder that
# missed one pass keeps it, and a dead holder is replaced within minutes.
DEFAULT_SUPERVISION_LEASE_SECONDS = 300.0

DEFAULT_CONFIG_POLL_SECONDS = 2.0
DEFAULT_CONFIG_POLL_ANNOUNCED_SECONDS = 30.0
# The web console (hub/console/): a login lasts this long; this many failed logins in a row
# for one account, or from one address (an office behind one NAT: more), lock logins there
# for the lockout time.
DEFAULT_CONSOLE_SESSION_SECONDS = 8 * 3600.0
DEFAULT_CONSOLE_LOGIN_FAILURES = 5
DEFAULT_CONSOLE_ADDRESS_LOGIN_FAILURES = 20
DEFAULT_CONSOLE_LOCKOUT_SECONDS = 900.0
DEFAULT_CREDENTIALS_CACHE_SECONDS = 2.0

ENV_PREFIX = "GOVHUB_"
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLEANS |= {"0": False, "false": False, "no": False, "off": False}


@dataclass(frozen=True)
class Settings:
    """Everything a hub process needs to know. Every field has a working default."""

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""  # empty: SQLite file in data_dir
    bus_url: str = DEFAULT_BUS_URL
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_inflight_bytes: int = DEFAULT_MAX_INFLIGHT_BYTES
    admission_wait_seconds: float = DEFAULT_ADMISSION_WAIT_SECONDS
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    departments_file: Path = field(default=DEFAULTS_ROOT / "departments.toml")
    routes_file: Path = field(default=DEFAULTS_ROOT / "routes.toml")
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    mailbox_lease_seconds: float = DEFAULT_MAILBOX_LEASE_SECONDS
    mailbox_wait_slots: int = DEFAULT_MAILBOX_WAIT_SLOTS
    mailbox_quota: int = DEFAULT_MAILBOX_QUOTA
    relay_interval_seconds: float = DEFAULT_RELAY_INTERVAL_SECONDS
    # With nothing due, the relay rests until the first lease ends, at most this long
    # (hub/relay.py); work it knows of wakes it sooner.
    relay_rest_seconds: float = DEFAULT_RELAY_REST_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_base_seconds: float = DEFAULT_RETRY_BASE_SECONDS
    retry_max_seconds: float = DEFAULT_RETRY_MAX_SECONDS
    retry_max_age_seconds: float = DEFAULT_RETRY_MAX_AGE_SECONDS
    consumers_per_department: int = DEFAULT_CONSUMERS_PER_DEPARTMENT
    delivery_batch_size: int = DEFAULT_DELIVERY_BATCH_SIZE
    # Bodies (original, canonical, delivered payloads) of fully delivered messages are emptied
    # after this many days; metadata and hashes stay for metadata_retention_days (0: for ever).
    body_retention_days: float = DEFAULT_BODY_RETENTION_DAYS
    metadata_retention_days: float = DEFAULT_METADATA_RETENTION_DAYS
    prune_interval_seconds: float = DEFAULT_PRUNE_INTERVAL_SECONDS
    prune_batch_size: int = DEFAULT_PRUNE_BATCH_SIZE
    replay_batch_size: int = DEFAULT_REPLAY_BATCH_SIZE
    replay_batch_interval_seconds: float = DEFAULT_REPLAY_BATCH_INTERVAL_SECONDS
    console_session_seconds: float = DEFAULT_CONSOLE_SESSION_SECONDS
    console_login_failures: int = DEFAULT_CONSOLE_LOGIN_FAILURES
    console_address_login_failures: int = DEFAULT_CONSOLE_ADDRESS_LOGIN_FAILURES
    console_lockout_seconds: float = DEFAULT_CONSOLE_LOCKOUT_SECONDS
    # Bus queues are named <prefix><DEPARTMENT>; separate hubs sharing one broker differ here.
    queue_prefix: str = "govhub.deliver."
    # "CODE=url,CODE=url": overrides the endpoints of the departments file (per environment).
    department_endpoints: str = ""
    wsse_max_age_seconds: float = DEFAULT_WSSE_MAX_AGE_SECONDS
    wsse_clock_skew_seconds: float = DEFAULT_WSSE_CLOCK_SKEW_SECONDS
    authentication: str = DEFAULT_AUTHENTICATION
    signature_timestamp: str = DEFAULT_SIGNATURE_TIMESTAMP
    # A UsernameToken PasswordText carries the secret itself: accepted only over the hub's own
    # TLS unless this is true (a test network, or a TLS proxy in front of the hub).
    allow_password_text_over_http: bool = False
    # "id=base64(32 bytes),id=...": AES-256-GCM keys; the first encrypts, all decrypt (rotation).
    # Never printed: repr=False.
    encryption_keys: str = field(default="", repr=False)
    # Seal stored bodies (original, canonical, delivered) under encryption_keys; needs keys.
    encrypt_payloads: bool = False
    # Ed25519 private key (PEM) that signs `govhub audit export` archives.
    audit_signing_key_file: str = ""
    # Its public half (PEM), the key `govhub audit verify` trusts for signed exports; never the
    # key inside an archive. Keep a copy off the hub.
    audit_public_key_file: str = ""
    # Where checkpoints are written (empty: <data_dir>/audit-checkpoints). Outside the database
    # is the point: in production another disk, host or a write-once share.
    audit_checkpoint_dir: str = ""
    audit_checkpoint_seconds: float = DEFAULT_AUDIT_CHECKPOINT_SECONDS
    audit_checkpoint_keep: int = DEFAULT_AUDIT_CHECKPOINT_KEEP
    # The hub's own key (PEM, unencrypted, RSA or EC) and certificate: it signs its SOAP replies
    # to signed requests, as WS-Security clients (zeep's Signature) expect. Both or neither.
    signing_key_file: str = ""
    signing_cert_file: str = ""
    # TLS in the hub itself (`govhub serve` then runs cheroot instead of waitress): the server's
    # certificate (chain) and key, PEM; with a client CA, every client must present a
    # certificate it issued, and one registered to a department authenticates that department.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    # How often each process checks the database for a configuration change (registered
    # departments, routes); a change announced on an amqp:// bus is picked up at once.
    config_poll_seconds: float = DEFAULT_CONFIG_POLL_SECONDS
    # The poll while announcements are heard (a lost one costs at most this long).
    config_poll_announced_seconds: float = DEFAULT_CONFIG_POLL_ANNOUNCED_SECONDS
    # Department credentials are remembered this long per process (0: read on every request);
    # a change made anywhere takes effect everywhere within it.
    credentials_cache_seconds: float = DEFAULT_CREDENTIALS_CACHE_SECONDS
    ready_check_seconds: float = DEFAULT_READY_CHECK_SECONDS
    ready_cache_seconds: float = DEFAULT_READY_CACHE_SECONDS
    # A TOML file of alert rules (empty: no alerts), and where a firing or recovery is POSTed
    # as JSON besides the log (empty: the log only; it may carry a token: repr=False).
    alert_rules_file: str = ""
    alert_webhook_url: str = field(default="", repr=False)
    alert_interval_seconds: float = DEFAULT_ALERT_INTERVAL_SECONDS
    # Deadline supervision (hub/supervision): a TOML file of holidays and working weekends for
    # the years the chinese-calendar package does not know yet (empty: the package's years only).
    calendar_file: str = ""
    # The supervision catalogue (items and their limits), read again when it changes.
    supervision_catalogue_file: Path = field(default=DEFAULTS_ROOT / "supervision_items.toml")
    # Resource metadata (GB/T 21063) over the shipped hub/defaults/catalogue.toml, field by
    # field, for `govhub catalogue` and ListServices (empty: the shipped entries only).
    resource_catalogue_file: str = ""
    # Queries (docs/queries.md): which departments answer which parts and who may read them
    # (empty: the shipped hub/defaults/queries.toml), the deadline a query waits for its
    # sources when it names none, and the longest one it may name.
    query_routes_file: str = ""
    # The canonical model's versions and their status (docs/versions.md; empty: the shipped
    # xsd/canonical/versions.toml). Checked at start: a retired version still declared stops it.
    model_versions_file: str = ""
    query_deadline_seconds: float = 3.0
    query_max_deadline_seconds: float = 10.0
    # The citizen's data tracker (docs/tracker.md): which departments are citizen portals and
    # who may grant exemptions (empty: the shipped hub/defaults/tracker.toml).
    tracker_rules_file: str = ""
    supervision_clock_skew_seconds: float = DEFAULT_SUPERVISION_CLOCK_SKEW_SECONDS
    # A case event reported (received) more than this many hours after it happened is a
    # yellow card: data not reported in real time (不实时报送).
    supervision_report_hours: float = DEFAULT_SUPERVISION_REPORT_HOURS
    # How often the worker service evaluates every open case and issues signals (0: never).
    supervision_evaluate_seconds: float = DEFAULT_SUPERVISION_EVALUATE_SECONDS
    # How long a worker instance holds the signal pass once it took it (renewed every pass).
    supervision_lease_seconds: float = DEFAULT_SUPERVISION_LEASE_SECONDS
    # Federation (docs/federation.md): this hub's division and its neighbour hubs, a TOML file
    # read again when it changes (empty: a hub alone, no `DIVISION/CODE` addresses).
    federation_file: str = ""
    # One-way transfer bundles (hub/bundle, docs/bundles.md): the name of the network this
    # hub serves (bundles addressed to another are refused), and a TOML file naming the
    # networks whose bundles it imports and their hubs' Ed25519 public keys. Bundles are
    # signed with audit_signing_key_file.
    bundle_network: str = ""
    bundle_peers_file: str = ""
    # How long `govhub worker` and `govhub serve` wait at start for their database, schema and
    # bus before they give up with exit 1 (0: for as long as it takes; hub/startup/waiting.py).
    startup_wait_seconds: float = 0.0

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def effective_audit_checkpoint_dir(self) -> Path:
        if self.audit_checkpoint_dir:
            return Path(self.audit_checkpoint_dir)
        return self.data_dir / "audit-checkpoints"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from GOVHUB_* variables, then explicit overrides (e.g. CLI options)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _coerce(type_name: object, raw: str) -> object:
    if type_name in ("bool", bool):
        if raw.strip().lower() not in _BOOLEANS:  # a typo is an error, not a silent "false"
            raise ValueError(f"{raw!r} is not true or false")
        return _BOOLEANS[raw.strip().lower()]
    if type_name in ("Path", Path):
        return Path(raw)
    if type_name in ("int", int):
        return int(raw)
    if type_name in ("float", float):
        return float(raw)
    return raw

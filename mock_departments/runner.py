"""Start the mock departments together (``govhub demo``, ``govhub mock-departments``,
tests) and hand back what a caller needs: each department, its server and its URL.

Four start by default (the supervision office, SUPERVISION, receives the hub's supervision
signals); household registration (PUBLIC_SECURITY) only when named, since it stands for a
department registered while the hub runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from hub.config import DEFAULT_DATA_DIR
from hub.errors import NotFound
from mock_departments.addresses import forget_address, write_address
from mock_departments.department import MockDepartment
from mock_departments.household import HouseholdRegistration
from mock_departments.marriage import MarriageRegistry
from mock_departments.pusher import DEFAULT_HUB_URL, DEFAULT_RETRY_SECONDS, PushCredentials
from mock_departments.server import MockServer
from mock_departments.social_security import SocialSecurity
from mock_departments.supervision import SupervisionOffice
from mock_departments.tax import Tax

DEPARTMENTS: dict[str, type[MockDepartment]] = {
    MarriageRegistry.code: MarriageRegistry,
    SocialSecurity.code: SocialSecurity,
    Tax.code: Tax,
    SupervisionOffice.code: SupervisionOffice,
}
# Started only when asked for by name (codes=[...], `govhub mock-departments serve CODE`).
ON_REQUEST: dict[str, type[MockDepartment]] = {HouseholdRegistration.code: HouseholdRegistration}
ALL_DEPARTMENTS = {**DEPARTMENTS, **ON_REQUEST}
DEFAULT_PORTS = {
    MarriageRegistry.code: 8701,
    SocialSecurity.code: 8702,
    Tax.code: 8703,
    HouseholdRegistration.code: 8704,
    SupervisionOffice.code: 8705,
}
DEFAULT_HOST = "127.0.0.1"
T = TypeVar("T", bound=MockDepartment)
ALIASES = {
    "marriage": "MARRIAGE_REGISTRY",
    "social-security": "SOCIAL_SECURITY",
    "tax": "TAX",
    "household": "PUBLIC_SECURITY",
    "supervision": "SUPERVISION",
}


def department_code(name: str) -> str:
    """A department code from a code or an alias, in any case."""
    code = ALIASES.get(name.lower(), name.upper().replace("-", "_"))
    if code not in ALL_DEPARTMENTS:
        known = ", ".join([*ALL_DEPARTMENTS, *ALIASES])
        raise NotFound(f"no mock department {name!r}; known: {known}")
    return code


@dataclass
class RunningDepartment:
    department: MockDepartment
    server: MockServer
    address_file: Path | None = None

    @property
    def url(self) -> str:
        """The base URL (SOAP departments answer at ``url + '/soap'``)."""
        return self.server.url

    def stop(self) -> None:
        if self.address_file is not None:
            forget_address(self.address_file, self.url)
        self.server.stop()
        self.department.close()


@dataclass
class MockDepartments:
    """The running mocks, by department code."""

    running: dict[str, RunningDepartment]

    @property
    def marriage_registry(self) -> MarriageRegistry:
        return _as(self.running[MarriageRegistry.code].department, MarriageRegistry)

    @property
    def social_security(self) -> SocialSecurity:
        return _as(self.running[SocialSecurity.code].department, SocialSecurity)

    @property
    def tax(self) -> Tax:
        return _as(self.running[Tax.code].department, Tax)

    @property
    def supervision(self) -> SupervisionOffice:
        return _as(self.running[SupervisionOffice.code].department, SupervisionOffice)

    @property
    def household(self) -> HouseholdRegistration:
        return _as(self.running[HouseholdRegistration.code].department, HouseholdRegistration)

    def url(self, code: str) -> str:
        return self.running[department_code(code)].url

    def endpoints(self) -> dict[str, str]:
        """Department code -> the endpoint the hub should deliver to."""
        return {
            code: run.url + ("" if code == Tax.code else "/soap")
            for code, run in self.running.items()
        }

    def stop(self) -> None:
        for run in self.running.values():
            run.stop()

    def __enter__(self) -> MockDepartments:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_mock_departments(
    *,
    data_dir: Path = DEFAULT_DATA_DIR,
    host: str = DEFAULT_HOST,
    ports: Mapping[str, int] | None = None,
    hub_url: str = DEFAULT_HUB_URL,
    retry_seconds: float = DEFAULT_RETRY_SECONDS,
    codes: Iterable[str] | None = None,
    credentials: Mapping[str, PushCredentials] | None = None,
) -> MockDepartments:
    """Start the mocks named by ``codes`` (codes or aliases; default: the four of
    DEPARTMENTS); ``ports`` overrides some of DEFAULT_PORTS (0: a free port);
    ``credentials`` (by department code) authenticate their pushes to the hub."""
    chosen = {**DEFAULT_PORTS, **(ports or {})}
    wanted = [department_code(name) for name in (DEPARTMENTS if codes is None else codes)]
    running: dict[str, RunningDepartment] = {}
    try:
        for code in dict.fromkeys(wanted):
            running[code] = start_one(
                ALL_DEPARTMENTS[code],
                data_dir=data_dir,
                host=host,
                port=chosen[code],
                hub_url=hub_url,
                retry_seconds=retry_seconds,
                credentials=(credentials or {}).get(code),
            )
    except BaseException:
        MockDepartments(running).stop()
        raise
    return MockDepartments(running)


def start_one(
    cls: type[MockDepartment],
    *,
    data_dir: Path,
    host: str = DEFAULT_HOST,
    port: int = 0,
    hub_url: str = DEFAULT_HUB_URL,
    retry_seconds: float = DEFAULT_RETRY_SECONDS,
    credentials: PushCredentials | None = None,
) -> RunningDepartment:
    """Open one department's store, start its outbox retries and its server."""
    department = cls.open(data_dir, hub_url=hub_url, retry_seconds=retry_seconds)
    department.pusher.credentials = credentials
    try:
        server = MockServer(department, host=host, port=port).start()
    except BaseException:
        department.close()
        raise
    department.start()
    return RunningDepartment(department, server, write_address(data_dir, cls.code, server.url))


def _as(department: MockDepartment, cls: type[T]) -> T:
    assert isinstance(department, cls)
    return department

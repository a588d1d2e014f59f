"""Versions, rollback, enable/disable and route changes, straight through ConfigurationAdmin
on both databases; the live configuration of a process picks each change up."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from hub.conditions import Condition
from hub.config import Settings
from hub.configuration.admin import ConfigurationAdmin
from hub.configuration.live import LiveConfiguration
from hub.configuration.package import read_package
from hub.errors import NotAuthorized, NotFound, RegistrationRefused
from hub.resources import CANONICAL_NAMESPACE
from hub.runtime import configuration_loader
from hub.security import audit
from hub.store import Store

PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples/canonical"
CODE = "PUBLIC_SECURITY"


@pytest.fixture
def admin(database_url: str, tmp_path: Path) -> Iterator[ConfigurationAdmin]:
    store = Store(database_url)
    store.upgrade()
    try:
        yield ConfigurationAdmin(configuration_loader(Settings(data_dir=tmp_path), store))
    finally:
        store.dispose()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(PACKAGE, folder)
    return folder


def marriage_in(office: str) -> etree._Element:
    document = etree.parse(str(EXAMPLES / "MarriageRegistered.xml")).getroot()
    document.find(f"{{{CANONICAL_NAMESPACE}}}registrationOffice").text = office  # type: ignore[union-attr]
    return document


def test_a_changed_package_becomes_version_2_and_rollback_brings_version_1_back(
    admin: ConfigurationAdmin, package: Path
) -> None:
    live = LiveConfiguration(admin.loader)
    assert admin.register(read_package(package), "admin").version == 1
    repeat = admin.register(read_package(package), "admin")
    assert (repeat.changed, repeat.note) == (False, "unchanged: already active")

    (package / "department.toml").write_text(
        (package / "department.toml")
        .read_text("utf-8")
        .replace("timeout_seconds = 10", "timeout_seconds = 5"),
        "utf-8",
    )
    assert admin.register(read_package(package), "admin").version == 2
    assert live.reload()
    assert live.departments.get(CODE).timeout_seconds == 5
    assert live.mappings.get(CODE, "outbound", "MarriageRegistered").name.endswith("@2")

    admin.rollback(CODE, 1, "admin")
    assert live.reload()
    assert live.departments.get(CODE).timeout_seconds == 10
    assert live.mappings.get(CODE, "outbound", "MarriageRegistered").name.endswith("@1")
    # version 2 stays available to a replay pinned to it
    pinned = live.mappings.named(f"{CODE}/outbound/MarriageRegistered@2")
    assert pinned is not None and pinned.version == 2
    assert [row.version for row in admin.versions(CODE)] == [1, 2]


def test_every_change_is_in_the_audit_chain(admin: ConfigurationAdmin, package: Path) -> None:
    admin.register(read_package(package), "admin-wang")
    admin.set_enabled(CODE, False, "admin-wang")

    with admin.engine.connect() as connection:
        changes = [e for e in audit.entries(connection) if e.action == audit.ADMIN_CHANGE]
        assert audit.verify(connection).ok
    assert [(e.actor, e.subject) for e in changes] == [
        ("admin-wang", f"department {CODE}"),
        ("admin-wang", f"department {CODE}"),
    ]


def test_a_disabled_department_may_not_send_and_receives_nothing_new(
    admin: ConfigurationAdmin,
) -> None:
    live = LiveConfiguration(admin.loader)
    admin.set_enabled("TAX", False, "admin")
    live.reload()

    with pytest.raises(NotAuthorized, match="TAX is disabled"):
        live.departments.sender("TAX")
    receivers = live.routes.receivers_for("MARRIAGE_REGISTRY", "MarriageRegistered")
    assert receivers == ("SOCIAL_SECURITY",)
    assert "TAX" in live.departments  # what was accepted for it is still delivered

    admin.set_enabled("TAX", True, "admin")
    live.reload()
    assert "TAX" in live.routes.receivers_for("MARRIAGE_REGISTRY", "MarriageRegistered")


def test_a_receiver_with_a_condition_gets_only_the_records_that_match(
    admin: ConfigurationAdmin,
) -> None:
    live = LiveConfiguration(admin.loader)
    admin.remove_route("MarriageRegistered", "TAX", "receives", "admin")
    admin.add_route(
        "MarriageRegistered",
        "TAX",
        "receives",
        "admin",
        Condition("c:registrationOffice", prefixes=("3201", "3202")),
    )
    live.reload()

    def receivers(office: str) -> tuple[str, ...]:
        return live.routes.receivers_for(
            "MARRIAGE_REGISTRY", "MarriageRegistered", marriage_in(office)
        )

    assert receivers("320102") == ("SOCIAL_SECURITY", "TAX")
    assert receivers("110105") == ("SOCIAL_SECURITY",)


def test_route_changes_that_cannot_work_are_refused(admin: ConfigurationAdmin) -> None:
    with pytest.raises(RegistrationRefused, match="unknown message type 'BirthRegistered'"):
        admin.add_route("BirthRegistered", "TAX", "receives", "admin")
    with pytest.raises(RegistrationRefused, match="unknown department"):
        admin.add_route("MarriageRegistered", "NOBODY", "receives", "admin")
    with pytest.raises(
        RegistrationRefused, match="no outbound mapping TAX/outbound/AddressChanged"
    ):
        admin.add_route("AddressChanged", "TAX", "receives", "admin")
    with pytest.raises(NotFound, match="no route"):
        admin.remove_route("AddressChanged", "TAX", "receives", "admin")
    with pytest.raises(NotFound, match="no department NOBODY"):
        admin.set_enabled("NOBODY", False, "admin")
    assert admin.current().generation == 0


def test_a_package_may_not_take_over_a_department_of_the_departments_file(
    admin: ConfigurationAdmin, package: Path
) -> None:
    description = package / "department.toml"
    description.write_text(
        description.read_text("utf-8").replace('code = "PUBLIC_SECURITY"', 'code = "TAX"'), "utf-8"
    )
    with pytest.raises(RegistrationRefused, match="defined by the departments file"):
        admin.check(read_package(package), probe_endpoint=False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('code = "PUBLIC_SECURITY"\nname = \n', "line 2"),
        ('code = "PUBLIC_SECURITY"\nname = "x"\nadapter = "soap"\n', "endpoint is required"),
        ('code = "public security"\n', "code must be upper-case"),
        (
            'code = "PUBLIC_SECURITY"\nname = "x"\nadapter = "rest"\nendpoint = "http://h"\n'
            'credentials = "hunter2"\n',
            "credentials must be a reference",
        ),
        (
            'code = "PUBLIC_SECURITY"\nname = "x"\nadapter = "rest"\nendpoint = "http://h"\n'
            'colour = "blue"\n',
            "unknown setting(s) colour",
        ),
        (
            'code = "PUBLIC_SECURITY"\nname = "x"\nadapter = "rest"\nendpoint = "http://h"\n'
            '[[routes]]\nreceives = "AddressChanged"\nwhen = { path = "c:x" }\n',
            "exactly one of prefix and equals",
        ),
    ],
)
def test_a_malformed_description_is_refused_naming_the_file_and_what_is_wrong(
    admin: ConfigurationAdmin, package: Path, text: str, reason: str
) -> None:
    (package / "department.toml").write_text(text, "utf-8")

    with pytest.raises(RegistrationRefused) as refused:
        admin.check(read_package(package), probe_endpoint=False)

    assert any("department.toml" in r and reason in r for r in refused.value.reasons), refused.value

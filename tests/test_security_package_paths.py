"""Every file a department package refers to lies inside the package: schema imports and
includes (followed through every schema), WSDL imports, the WSDL itself and symbolic links.
A refusal reads nothing outside and does not say whether the outside file exists."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import Settings
from hub.configuration.admin import ConfigurationAdmin
from hub.configuration.package import read_package
from hub.errors import ConfigurationError, RegistrationRefused
from hub.runtime import configuration_loader
from hub.store import Store

PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"
XS = "http://www.w3.org/2001/XMLSchema"


@pytest.fixture
def admin(database_url: str, tmp_path: Path) -> Iterator[ConfigurationAdmin]:
    store = Store(database_url)
    store.upgrade()
    try:
        yield ConfigurationAdmin(configuration_loader(Settings(data_dir=tmp_path / "hub"), store))
    finally:
        store.dispose()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(PACKAGE, folder)
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A schema beside the package (not in it), as an attacker would aim at."""
    secret = tmp_path / "outside.xsd"
    secret.write_text(
        f'<xs:schema xmlns:xs="{XS}"><xs:element name="secret" type="xs:string"/></xs:schema>',
        "utf-8",
    )
    return secret


def schema_including(location: str, kind: str = "include") -> str:
    return f'<xs:schema xmlns:xs="{XS}"><xs:{kind} schemaLocation="{location}"/></xs:schema>'


def refusal(admin: ConfigurationAdmin, package: Path) -> list[str]:
    with pytest.raises(RegistrationRefused) as refused:
        admin.check(read_package(package), probe_endpoint=False)
    return refused.value.reasons


@pytest.mark.parametrize("target", ["../../outside.xsd", "ABSOLUTE", "file:///ABSOLUTE"])
def test_a_schema_including_a_file_outside_the_package_is_refused(
    admin: ConfigurationAdmin, package: Path, outside: Path, target: str
) -> None:
    location = target.replace("/ABSOLUTE", str(outside)).replace("ABSOLUTE", str(outside))
    (package / "schemas/extra.xsd").write_text(schema_including(location), "utf-8")

    reasons = refusal(admin, package)

    assert reasons == [
        f"schemas/extra.xsd: schemaLocation {location!r} must be a relative path inside the "
        "package (absolute, URL and .. are refused)"
    ]


def test_the_refusal_is_the_same_whether_the_outside_file_exists_or_not(
    admin: ConfigurationAdmin, package: Path, outside: Path
) -> None:
    (package / "schemas/extra.xsd").write_text(schema_including("../../outside.xsd"), "utf-8")
    existing = refusal(admin, package)
    outside.unlink()

    assert refusal(admin, package) == existing


def test_references_are_followed_through_every_schema_of_the_package(
    admin: ConfigurationAdmin, package: Path
) -> None:
    (package / "schemas/first.xsd").write_text(schema_including("common/second.xsd"), "utf-8")
    (package / "schemas/common").mkdir()
    (package / "schemas/common/second.xsd").write_text(
        schema_including("../../../outside.xsd", "import"), "utf-8"
    )

    reasons = refusal(admin, package)

    assert len(reasons) == 1 and reasons[0].startswith("schemas/common/second.xsd:")


def test_a_wsdl_importing_from_outside_the_package_is_refused(
    admin: ConfigurationAdmin, package: Path, outside: Path
) -> None:
    wsdl = package / "schemas/household.wsdl"
    wsdl.write_text(
        wsdl.read_text("utf-8").replace(
            'schemaLocation="household.xsd"', f'schemaLocation="{outside}"'
        ),
        "utf-8",
    )

    reasons = refusal(admin, package)

    assert reasons == [
        f"schemas/household.wsdl: schemaLocation {str(outside)!r} must be a relative path "
        "inside the package (absolute, URL and .. are refused)"
    ]


def test_a_wsdl_path_climbing_out_of_the_package_is_refused_without_looking(
    admin: ConfigurationAdmin, package: Path, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere.wsdl").write_text("<definitions/>", "utf-8")
    description = package / "department.toml"
    text = description.read_text("utf-8")

    def reasons_for(wsdl: str) -> list[str]:
        description.write_text(text.replace("PUBLIC_SECURITY/household.wsdl", wsdl), "utf-8")
        return refusal(admin, package)

    present = reasons_for("PUBLIC_SECURITY/../../../../elsewhere.wsdl")
    absent = reasons_for("PUBLIC_SECURITY/../../../../nowhere.wsdl")

    assert (
        present
        == absent
        == ["department.toml: wsdl must be a relative path inside schemas/ (no ..)"]
    )


def test_a_symbolic_link_out_of_the_package_is_refused_whether_its_target_exists_or_not(
    package: Path, outside: Path
) -> None:
    link = package / "schemas/extra.xsd"
    link.symlink_to(outside)
    with pytest.raises(ConfigurationError) as existing:
        read_package(package)
    link.unlink()
    link.symlink_to(outside.parent / "nothing-here.xsd")
    with pytest.raises(ConfigurationError) as missing:
        read_package(package)

    assert "schemas/extra.xsd is a symbolic link out of the package" in existing.value.message
    assert existing.value.message == missing.value.message


def test_a_symbolic_link_inside_the_package_is_followed(package: Path) -> None:
    (package / "schemas/alias.xsd").symlink_to(package / "schemas/household.xsd")

    files = read_package(package).files

    assert files["schemas/alias.xsd"] == files["schemas/household.xsd"]


def test_a_schema_naming_an_outside_file_through_an_entity_is_refused(
    admin: ConfigurationAdmin, package: Path, outside: Path
) -> None:
    (package / "schemas/extra.xsd").write_text(
        f'<!DOCTYPE xs:schema [<!ENTITY secret SYSTEM "{outside.as_uri()}">]>'
        f'<xs:schema xmlns:xs="{XS}"><xs:annotation><xs:documentation>&secret;'
        "</xs:documentation></xs:annotation></xs:schema>",
        "utf-8",
    )

    reasons = refusal(admin, package)

    assert len(reasons) == 1
    assert reasons[0].startswith("schemas/extra.xsd: ")
    assert "secret" not in reasons[0].removeprefix("schemas/extra.xsd: ")

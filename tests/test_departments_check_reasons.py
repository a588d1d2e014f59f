"""`govhub departments check` names every reason a package is refused in one round, each
as the admin knows the package (its files), never the folder the hub copied it to."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from hub.cli import main

PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"


def broken_package(tmp_path: Path) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(PACKAGE, folder)

    def edit(name: str, old: str, new: str) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    edit("department.toml", 'adapter = "soap"', 'adapter = "sopa"')  # a misspelt adapter
    edit("department.toml", '"ShouLiHunYinBianGeng"', '"ShouLiHunYinBianGengX"')  # WSDL
    edit("mappings/outbound/AddressChanged.toml", '"c:person/', '"c:persn/')  # a field
    edit(  # a schema named by its place in the package, not as the hub names it
        "mappings/outbound/MarriageRegistered.toml",
        'schema = "departments/PUBLIC_SECURITY/household.xsd"',
        'schema = "schemas/household.xsd"',
    )
    return folder


def test_every_reason_is_reported_at_once(tmp_path: Path) -> None:
    folder = broken_package(tmp_path)
    data = tmp_path / "data"

    result = CliRunner().invoke(
        main, ["departments", "check", str(folder), "--data-dir", str(data)]
    )

    assert result.exit_code == 2
    reasons = [line for line in result.output.splitlines() if line.startswith("  - ")]
    said = "\n".join(reasons)
    assert "No such adapter: sopa. Did you mean soap?" in said
    assert "has no operation ShouLiHunYinBianGengX" in said
    assert "'persn' is not declared in canonical/canonical.xsd" in said
    assert (
        "schema schemas/household.xsd is not in the package: a schema of the package is named "
        "departments/PUBLIC_SECURITY/<path under schemas/>, e.g. "
        "departments/PUBLIC_SECURITY/household.xsd for schemas/household.xsd"
    ) in said
    assert str(data) not in said  # the package's files, not the hub's copy of them
    assert "/xsd" not in said.replace(str(folder), "")  # nor the installed hub's schemas


def test_routes_add_help_says_prefix_may_repeat() -> None:
    result = CliRunner().invoke(main, ["routes", "add", "--help"])

    assert result.exit_code == 0
    assert "repeat it for several (any one matches)" in " ".join(result.output.split())


def test_a_schema_missing_from_the_package_does_not_hide_what_department_toml_gets_wrong(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "package"
    shutil.copytree(PACKAGE, folder)
    (folder / "schemas/household.xsd").rename(folder / "schemas/huji.xsd")  # the WSDL imports it
    description = folder / "department.toml"
    text = description.read_text(encoding="utf-8").replace('adapter = "soap"', 'adapter = "sopa"')
    description.write_text(text + '\n[[routes]]\nreceives = "BirthRegistered"\n', "utf-8")

    result = CliRunner().invoke(
        main, ["departments", "check", str(folder), "--data-dir", str(tmp_path / "data")]
    )

    assert result.exit_code == 2
    assert (
        "schemas/household.wsdl: schemaLocation 'household.xsd' is not a file of the package"
        in (result.output)
    )
    assert "No such adapter: sopa. Did you mean soap?" in result.output
    assert "'BirthRegistered': unknown message type" in result.output


def test_a_misspelt_schema_of_the_package_is_named_as_the_packages_file(tmp_path: Path) -> None:
    folder = tmp_path / "package"
    shutil.copytree(PACKAGE, folder)
    mapping = folder / "mappings/outbound/MarriageRegistered.toml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("household.xsd", "huji.xsd"), encoding="utf-8")

    result = CliRunner().invoke(
        main, ["departments", "check", str(folder), "--data-dir", str(tmp_path / "data")]
    )

    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert (
        "schema departments/PUBLIC_SECURITY/huji.xsd: schemas/huji.xsd is not in the package"
        in said
    )

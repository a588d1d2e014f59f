"""The PUBLIC_SECURITY department package (examples/departments/PUBLIC_SECURITY): its
mappings turn every example into its expected output, and its routes pick the county's
records only."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.registry import load_adapter
from hub.cli import main
from hub.conditions import parse_condition
from hub.configuration.package import describe, read_package
from hub.departments import DepartmentConfig
from hub.identity import is_valid
from hub.mapping import Mapping, canonical_xml
from hub.mapping.registry import load_mapping
from hub.resources import CANONICAL_SCHEMA, XSD_ROOT
from hub.schemas import SchemaRegistry
from hub.xmlparse import parse
from mock_departments.household import CONTRACT, PACKAGE

CODE = "PUBLIC_SECURITY"
DESCRIPTION: dict[str, Any] = tomllib.loads(
    (PACKAGE / "department.toml").read_text(encoding="utf-8")
)
MAPPING_FILES = sorted((PACKAGE / "mappings").rglob("*.toml"))
CANONICAL_EXAMPLES = XSD_ROOT.parent / "examples" / "canonical"


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> SchemaRegistry:
    """The hub's schemas with the package's own beside them, as they are named inside it."""
    root = tmp_path_factory.mktemp("schemas") / "xsd"
    shutil.copytree(XSD_ROOT, root)
    shutil.copytree(PACKAGE / "schemas", root / "departments" / CODE)
    return SchemaRegistry(root)


def example(mapping: Mapping, part: str, fmt: str) -> Path:
    return PACKAGE / "examples" / mapping.direction / f"{mapping.message_type}.{part}.{fmt}"


@pytest.mark.parametrize("file", MAPPING_FILES, ids=lambda path: path.stem)
def test_every_package_mapping_turns_its_example_input_into_its_example_output(
    file: Path, schemas: SchemaRegistry
) -> None:
    mapping = load_mapping(file, schemas)
    assert (mapping.department, mapping.direction) == (CODE, file.parent.name)
    assert mapping.message_type == file.stem
    given = parse(example(mapping, "in", mapping.source_format).read_bytes())
    expected = example(mapping, "out", mapping.target_format).read_bytes()
    actual = mapping.translate(given)
    if isinstance(actual, dict):  # a query answer's facts
        assert actual == json.loads(expected)
    else:
        assert canonical_xml(actual) == canonical_xml(expected)


def test_the_package_maps_what_its_department_receives() -> None:
    received = {route["receives"] for route in DESCRIPTION["routes"]}
    assert received == {"MarriageRegistered", "AddressChanged"}
    outbound = {file.stem for file in MAPPING_FILES if file.parent.name == "outbound"}
    assert outbound == received == set(DESCRIPTION["operations"])


def test_department_toml_reads_as_a_package_description() -> None:
    description = describe(read_package(PACKAGE))  # refuses unknown keys, with all reasons
    assert description.code == CODE
    assert description.department.wsdl == f"departments/{CODE}/household.wsdl"


def test_the_hub_soap_adapter_finds_every_configured_operation_in_the_package_wsdl() -> None:
    settings = {k: v for k, v in DESCRIPTION.items() if k not in ("code", "routes")}
    wsdl = CONTRACT / DESCRIPTION["wsdl"].removeprefix(f"departments/{CODE}/")
    config = DepartmentConfig(code=CODE, **{**settings, "wsdl": str(wsdl)})
    load_adapter(config).close()  # ConfigurationError if an operation were missing


@pytest.mark.parametrize("route", DESCRIPTION["routes"], ids=lambda route: route["receives"])
def test_each_route_takes_its_county_example_and_leaves_other_counties(
    route: dict[str, Any],
) -> None:
    condition = parse_condition(route["when"], "department.toml")
    ours = PACKAGE / "examples" / "outbound" / f"{route['receives']}.in.xml"
    elsewhere = CANONICAL_EXAMPLES / f"{route['receives']}.xml"  # a Beijing record
    assert condition.matches(parse(ours.read_bytes()))
    assert not condition.matches(parse(elsewhere.read_bytes()))


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "examples" / "outbound").glob("*.in.xml")), ids=lambda p: p.name
)
def test_every_example_input_is_a_valid_canonical_record(path: Path) -> None:
    SchemaRegistry().validate_xml(parse(path.read_bytes()), CANONICAL_SCHEMA)


def test_every_identity_number_in_the_examples_is_a_valid_gb_11643_number() -> None:
    numbers = [
        number
        for path in (PACKAGE / "examples").rglob("*.xml")
        for number in re.findall(r"\b\d{17}[\dX]\b", path.read_text(encoding="utf-8"))
    ]
    assert numbers and all(is_valid(number) for number in numbers)


def test_the_package_holds_the_only_copy_of_the_household_contract() -> None:
    assert CONTRACT == PACKAGE / "schemas"
    assert not (XSD_ROOT / "departments" / CODE).exists()


def test_govhub_departments_check_finds_nothing_wrong_with_the_package(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["departments", "check", str(PACKAGE), "--json", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["subject"] == CODE
    # Only the mock's endpoint may be missing: nothing runs on its port during the tests.
    assert all("does not answer" in warning for warning in report["warnings"])

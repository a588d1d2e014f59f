"""`govhub catalogue`: the catalogue in a terminal and as JSON, the XML export a catalogue
system imports (valid against its XSD), one type's XSD, and the metadata an admin changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from hub.cli import main
from hub.resources import DEFAULTS_ROOT, XSD_ROOT
from hub.routing import RoutingTable

EXPORT_SCHEMA = etree.XMLSchema(etree.parse(str(XSD_ROOT / "catalogue/resource-catalogue.xsd")))
R = "{urn:govhub:catalogue:1}"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "canonical"
DEFAULT_ROUTES = DEFAULTS_ROOT / "routes.toml"
PACKAGE = EXAMPLES.parent / "departments" / "PUBLIC_SECURITY"


def govhub(tmp_path: Path, *args: str, catalogue_text: str | None = None) -> Result:
    """The command, with an admin's catalogue file holding ``catalogue_text`` if given."""
    catalogue_file = tmp_path / "catalogue.toml"
    if catalogue_text is not None:
        catalogue_file.write_text(catalogue_text, encoding="utf-8")
    env = {"GOVHUB_RESOURCE_CATALOGUE_FILE": str(catalogue_file) if catalogue_text else ""}
    return CliRunner().invoke(main, ["catalogue", *args, "--data-dir", str(tmp_path)], env=env)


def test_json_lists_every_type_with_senders_receivers_and_its_resource_metadata(
    tmp_path: Path,
) -> None:
    result = govhub(tmp_path, "--json")

    assert result.exit_code == 0, result.output
    services = {s["message_type"]: s for s in json.loads(result.output)["services"]}
    assert len(services) == 10
    address = services["AddressChanged"]
    assert address["senders"] == ["TAX"]
    assert [r["department"] for r in address["receivers"]] == [
        "MARRIAGE_REGISTRY",
        "SOCIAL_SECURITY",
    ]
    assert address["resource"]["provider"] == "Tax bureau"  # the sender's name, by default
    assert address["resource"]["sharing"] == "conditional"
    assert services["CaseAccepted"]["schema"] == "canonical/CaseEvents.xsd"


def test_a_department_sees_what_it_may_send_receive_and_read(tmp_path: Path) -> None:
    result = govhub(tmp_path, "--department", "SOCIAL_SECURITY")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("SOCIAL_SECURITY may")
    assert lines[start + 1].split()[1:] == [
        "CaseAccepted,",
        "CaseConcluded,",
        "CaseResumed,",
        "CaseStepCompleted,",
        "CaseSuspended,",
        "InsuredPersonEnrolled",
    ]
    assert lines[start + 2] == "  receive  AddressChanged, DivorceRegistered, MarriageRegistered"


def test_an_unknown_department_is_named_clearly(tmp_path: Path) -> None:
    result = govhub(tmp_path, "--department", "POLICE")
    assert result.exit_code == 1
    assert "unknown department 'POLICE'" in result.output


def test_the_export_is_valid_against_its_schema_with_one_resource_per_type(
    tmp_path: Path,
) -> None:
    target = tmp_path / "catalogue.xml"

    result = govhub(tmp_path, "--export", str(target))

    assert result.exit_code == 0, result.output
    exported = etree.parse(str(target))
    assert EXPORT_SCHEMA.validate(exported), EXPORT_SCHEMA.error_log
    resources = {r.findtext(f"{R}messageType"): r for r in exported.getroot()}
    assert len(resources) == 10
    marriage = resources["MarriageRegistered"]
    assert marriage.findtext(f"{R}name") == "结婚登记信息"
    assert marriage.find(f"{R}sharingType").get("label") == "有条件共享"
    assert marriage.find(f"{R}openType").get("label") == "不予开放"
    assert [r.get("code") for r in marriage.findall(f"{R}receiver")] == ["SOCIAL_SECURITY", "TAX"]
    assert marriage.find(f"{R}schema").get("location") == "canonical/MarriageRegistered.xsd"


def test_the_export_schema_refuses_a_sharing_type_the_standard_does_not_have(
    tmp_path: Path,
) -> None:
    target = tmp_path / "catalogue.xml"
    govhub(tmp_path, "--export", str(target))
    exported = etree.parse(str(target))
    exported.getroot()[0].find(f"{R}sharingType").text = "sometimes"

    assert not EXPORT_SCHEMA.validate(exported)


def test_an_admins_catalogue_file_changes_the_entries_field_by_field(tmp_path: Path) -> None:
    ours = '[MarriageRegistered]\nname = "婚姻登记结婚信息"\nupdate_cycle = "daily"\n'
    ours += 'provider = "市民政局"\n'
    target = tmp_path / "catalogue.xml"

    result = govhub(tmp_path, "--export", str(target), catalogue_text=ours)

    assert result.exit_code == 0, result.output
    marriage = next(
        r
        for r in etree.parse(str(target)).getroot()
        if r.findtext(f"{R}messageType") == "MarriageRegistered"
    )
    assert marriage.findtext(f"{R}name") == "婚姻登记结婚信息"
    assert marriage.findtext(f"{R}updateCycle") == "daily"
    assert marriage.findtext(f"{R}provider") == "市民政局"
    assert marriage.findtext(f"{R}identifier") == "GOVHUB/MZ-0001"  # the shipped value stays


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ('[MarriageRegistered]\nsharing = "sometimes"\n', "sharing must be one of"),
        ('[MarriageRegistered]\ncolour = "blue"\n', "unknown field(s) colour"),
        ('[CaseAccepted]\nsharing = "conditional"\n', "lacks sharing_condition"),
        ("[MarriageRegistered\n", "cannot read catalogue file"),
    ],
)
def test_a_mistake_in_the_admins_file_is_named_with_the_file(
    tmp_path: Path, entry: str, said: str
) -> None:
    result = govhub(tmp_path, "--json", catalogue_text=entry)

    assert result.exit_code == 1
    assert said in result.output
    assert "catalogue" in result.output


def _routed_examples() -> list[Path]:
    """The canonical examples of the types the hub routes (the catalogue's; a CitizenDossier
    is a Query's answer, not a message a department sends)."""
    routed = set(RoutingTable.from_file(DEFAULT_ROUTES).message_types())
    return [path for path in EXAMPLES.glob("*.xml") if path.stem in routed]


@pytest.mark.parametrize("example", sorted(_routed_examples()), ids=lambda path: path.stem)
def test_schema_prints_an_xsd_that_validates_the_types_record(
    tmp_path: Path, example: Path
) -> None:
    result = govhub(tmp_path, "--schema", example.stem)

    assert result.exit_code == 0, result.output
    schema = etree.XMLSchema(etree.fromstring(result.stdout_bytes))
    assert schema.validate(etree.parse(str(example))), schema.error_log


def test_schema_version_prints_that_versions_xsd_and_refuses_one_the_hub_lacks(
    tmp_path: Path,
) -> None:
    result = govhub(tmp_path, "--schema", "MarriageRegistered", "--schema-version", "2.0")
    assert result.exit_code == 0, result.output
    schema = etree.fromstring(result.stdout_bytes)
    assert schema.get("targetNamespace") == "urn:govhub:canonical:2"
    etree.XMLSchema(schema)  # alone: 1.0's types it uses are in it

    refused = govhub(tmp_path, "--schema", "MarriageRegistered", "--schema-version", "9.9")
    assert refused.exit_code == 1
    assert "has no schema version 9.9; this hub offers 1.0, 2.0" in refused.output


def test_schema_of_an_unknown_type_names_the_known_ones(tmp_path: Path) -> None:
    result = govhub(tmp_path, "--schema", "BirthRegistered")
    assert result.exit_code == 1
    assert "unknown message type 'BirthRegistered'" in result.output
    assert "MarriageRegistered" in result.output


@pytest.mark.parametrize(
    ("text", "exit_code", "said"),
    [
        ('[MarriageRegistered]\nopen = "always"\n', 2, "open must be one of"),
        ('[CaseAccepted]\nprovider = "Xuanwu public security"\n', 0, "this entry is not used"),
    ],
)
def test_a_package_catalogue_is_checked_when_the_package_is(
    tmp_path: Path, text: str, exit_code: int, said: str
) -> None:
    package = tmp_path / "package"
    shutil.copytree(PACKAGE, package)
    (package / "catalogue.toml").write_text(text, encoding="utf-8")

    result = CliRunner().invoke(
        main, ["departments", "check", str(package), "--data-dir", str(tmp_path)]
    )

    assert result.exit_code == exit_code, result.output
    assert said in result.output
    assert f"{package}/catalogue.toml" in result.output  # named as the admin knows it

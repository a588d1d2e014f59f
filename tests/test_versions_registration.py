"""Canonical versions: what registration refuses (a gap in a chain, a conversion failing its
own examples, retiring a version still declared) and the lifecycle a sender sees (unknown,
deprecated with a warning and a metric, retired with a fault naming the version to use)."""

from __future__ import annotations

import json
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from hubstack import HubStack, running_hub
from lxml import etree
from test_versions_exchange import C2, CODE, SOAP11, package, post_2_0
from zeep.exceptions import Fault

from hub.catalogue.schemas import type_schema
from hub.cli import main
from hub.config import Settings
from hub.configuration.package import read_package
from hub.errors import (
    ConfigurationError,
    RegistrationRefused,
    RetiredSchemaVersion,
    UnknownSchemaVersion,
)
from hub.mapping import MappingRegistry
from hub.observability.metrics import REGISTRY
from hub.runtime import configuration_admin, registered_versions
from hub.versions import ModelVersions, default_versions, read_versions
from hub.versions.catalog import VERSIONS_FILE
from hub.versions.model import install

SHIPPED = VERSIONS_FILE.read_text("utf-8")
STATUS_2_0 = '[MarriageRegistered."2.0"]\nschema = "canonical/2.0/MarriageRegistered.xsd"\n'


@pytest.fixture(autouse=True)
def shipped_versions_again() -> Iterator[None]:
    """A hub started with its own versions file installs it for the process: undo that."""
    yield
    install(None)


def versions_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "versions.toml"
    path.write_text(text, "utf-8")
    return path


def with_status(version: str, status: str) -> str:
    table = '[MarriageRegistered."1.0"]\n' if version == "1.0" else STATUS_2_0
    start = SHIPPED.index(table)
    at = SHIPPED.index('status = "active"', start)
    return SHIPPED[:at] + f'status = "{status}"' + SHIPPED[at + len('status = "active"') :]


def test_the_shipped_versions_convert_a_marriage_up_and_back_unchanged() -> None:
    versions = default_versions()
    record = etree.fromstring(
        (Path(__file__).parent.parent / "examples/canonical/MarriageRegistered.xml").read_bytes()
    )
    newer = versions.convert(record, "MarriageRegistered", "1.0", "2.0")
    assert etree.QName(newer).namespace == C2
    family = newer.findtext(f"{{{C2}}}partyA/{{{C2}}}name/{{{C2}}}familyName")
    assert family == "张"
    back = versions.convert(newer, "MarriageRegistered", "2.0", "1.0")
    assert etree.tostring(back, method="c14n") == etree.tostring(
        etree.fromstring(etree.tostring(record), etree.XMLParser(remove_blank_text=True)),
        method="c14n",
    )


def test_an_unknown_version_is_refused_naming_the_versions_the_hub_speaks() -> None:
    with pytest.raises(UnknownSchemaVersion, match=r"speaks 1\.0, 2\.0"):
        default_versions().accept("MarriageRegistered", "3.0")
    with pytest.raises(UnknownSchemaVersion, match=r"speaks 1\.0$"):
        default_versions().accept("DivorceRegistered", "2.0")


def test_a_chain_with_a_gap_is_refused(tmp_path: Path) -> None:
    gap = SHIPPED.replace('follows = "1.0"', 'follows = "1.5"')
    with pytest.raises(ConfigurationError, match="the chain has a gap"):
        read_versions(versions_file(tmp_path, gap))
    no_down = SHIPPED.replace('down = "canonical/2.0/MarriageRegistered-down.toml"\n', "")
    with pytest.raises(ConfigurationError, match="names no 'down' conversion"):
        read_versions(versions_file(tmp_path, no_down))


def test_a_conversion_that_fails_its_own_examples_is_refused_at_registration(
    tmp_path: Path,
) -> None:
    wrong = SHIPPED.replace(
        "<c2:familyName>欧阳</c2:familyName><c2:givenName>娜娜</c2:givenName>",
        "<c2:familyName>欧</c2:familyName><c2:givenName>阳娜娜</c2:givenName>",
    )
    assert wrong != SHIPPED
    with pytest.raises(
        ConfigurationError,
        match=r"example 1: up gives /MarriageRegistered/partyB/name/familyName = .欧阳., "
        r"the example .欧.",
    ):
        ModelVersions(read_versions(versions_file(tmp_path, wrong)))


def test_a_version_without_examples_is_refused(tmp_path: Path) -> None:
    bare = SHIPPED[: SHIPPED.index('[[MarriageRegistered."2.0".examples]]')]
    with pytest.raises(ConfigurationError, match="no examples"):
        ModelVersions(read_versions(versions_file(tmp_path, bare)))


def test_retiring_a_version_the_departments_still_declare_stops_the_hub(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        model_versions_file=str(versions_file(tmp_path, with_status("1.0", "retired"))),
    )
    with pytest.raises(ConfigurationError, match=r"MarriageRegistered 1\.0 is retired but TAX"):
        registered_versions(settings, MappingRegistry().all())


def test_a_retired_version_is_refused_with_a_fault_naming_the_version_to_use(
    tmp_path: Path,
) -> None:
    retired = versions_file(tmp_path, with_status("2.0", "retired"))
    with pytest.raises(RetiredSchemaVersion, match=r"send version 1\.0"):
        ModelVersions(read_versions(retired)).accept("MarriageRegistered", "2.0")

    with running_hub(tmp_path / "hub", model_versions_file=str(retired)) as stack:
        answer = submit_raw_2_0(stack)
        fault = etree.fromstring(answer.content).find(f".//{{{SOAP11}}}Fault")
        assert fault is not None
        assert fault.findtext("faultcode", "").endswith("Client.SchemaInvalid")
        assert "MarriageRegistered 2.0 is retired; send version 1.0" in fault.findtext(
            "faultstring", ""
        )
        # and no department may register a package that declares it
        admin = configuration_admin(
            stack.runtime.settings, stack.runtime.config.loader, stack.runtime.config.wake
        )
        folder = package(tmp_path / "pkg", "http://127.0.0.1:9/", speaks="2.0")
        with pytest.raises(RegistrationRefused, match=f"2.0 is retired but {CODE}"):
            admin.check(read_package(folder))
        # nor does GetSchema offer its schema
        with pytest.raises(Fault, match=r"2\.0 is retired; this hub offers 1\.0$"):
            stack.client().service.GetSchema("MarriageRegistered", schemaVersion="2.0")


def test_once_1_0_is_deprecated_getschema_gives_the_version_to_move_to_by_default(
    tmp_path: Path,
) -> None:
    deprecated = versions_file(tmp_path, with_status("1.0", "deprecated"))
    install(ModelVersions(read_versions(deprecated)))
    known = ["MarriageRegistered"]
    assert type_schema("MarriageRegistered", known).version == "2.0"
    assert type_schema("MarriageRegistered", known, "1.0").version == "1.0"  # still offered


def test_a_deprecated_version_is_accepted_with_a_warning_in_the_receipt_and_a_metric(
    tmp_path: Path,
) -> None:
    deprecated = versions_file(tmp_path, with_status("2.0", "deprecated"))
    labels = {"sender": CODE, "type": "MarriageRegistered", "version": "2.0"}
    before = REGISTRY.get_sample_value("govhub_deprecated_version_accepted_total", labels) or 0
    with running_hub(tmp_path / "hub", model_versions_file=str(deprecated)) as stack:
        admin = configuration_admin(
            stack.runtime.settings, stack.runtime.config.loader, stack.runtime.config.wake
        )
        admin.register(read_package(package(tmp_path / "pkg", "http://127.0.0.1:9/", "2.0")), "a")
        stack.runtime.config.reload()
        answer = submit_raw_2_0(stack)
        receipt = etree.fromstring(answer.content)
        warning = receipt.findtext(".//{urn:govhub:hub:1}warning")
        assert warning == "MarriageRegistered 2.0 is deprecated; move to 1.0"
    after = REGISTRY.get_sample_value("govhub_deprecated_version_accepted_total", labels)
    assert after == before + 1


def submit_raw_2_0(stack: HubStack) -> requests.Response:
    return post_2_0(stack, str(uuid.uuid4()))


def govhub(tmp_path: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--json" in args else result.output


def test_admins_see_who_receives_which_version_and_who_gets_the_lossy_form(
    tmp_path: Path,
) -> None:
    folder = package(tmp_path / "pkg", "http://127.0.0.1:9/", speaks="2.0")
    govhub(tmp_path, "departments", "register", str(folder), "--actor", "admin")

    tax = govhub(tmp_path, "departments", "show", "TAX", "--json")["canonical_versions"]
    assert tax == [
        {
            "message_type": "MarriageRegistered",
            "version": "1.0",
            "lossy": [
                "from 2.0: partyA/nationality and partyB/nationality: 1.0 has no field for "
                "a nationality"
            ],
        }
    ]
    mine = govhub(tmp_path, "departments", "show", CODE, "--json")["canonical_versions"]
    assert mine == [{"message_type": "MarriageRegistered", "version": "2.0", "lossy": None}]

    (service,) = [
        s
        for s in govhub(tmp_path, "catalogue", "--json")["services"]
        if s["message_type"] == "MarriageRegistered"
    ]
    assert service["versions"] == ["1.0", "2.0"]
    receivers = {r["department"]: (r["version"], bool(r["lossy"])) for r in service["receivers"]}
    assert receivers[CODE] == ("2.0", False)
    assert receivers["TAX"] == ("1.0", True)

    rows = govhub(tmp_path, "versions", "--json")
    assert [(r["version"], r["receivers"]) for r in rows] == [
        ("1.0", ["SOCIAL_SECURITY", "TAX"]),
        ("2.0", [CODE]),
    ]


def test_versions_check_refuses_a_file_retiring_a_version_still_declared(tmp_path: Path) -> None:
    retiring = versions_file(tmp_path, with_status("1.0", "retired"))
    result = CliRunner().invoke(
        main, ["versions", "--check", str(retiring), "--data-dir", str(tmp_path / "data")]
    )
    assert result.exit_code == 1
    assert "MarriageRegistered 1.0 is retired but SOCIAL_SECURITY still declares it" in (
        result.output
    )
    fine = versions_file(tmp_path, SHIPPED)
    assert "converts its examples" in govhub(tmp_path, "versions", "--check", str(fine))


def test_govhub_validate_checks_a_2_0_record_against_2_0_and_names_its_broken_field(
    tmp_path: Path,
) -> None:
    newer = tomllib.loads(SHIPPED)["MarriageRegistered"]["2.0"]["examples"][1]["newer"].strip()
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_text(newer, "utf-8")
    bad.write_text(newer.replace("<c2:familyName>王</c2:familyName>", ""), "utf-8")
    accepted = CliRunner().invoke(main, ["validate", str(good), "--data-dir", str(tmp_path)])
    assert accepted.exit_code == 0, accepted.output
    assert "canonical/2.0/MarriageRegistered.xsd" in accepted.output
    refused = CliRunner().invoke(main, ["validate", str(bad), "--data-dir", str(tmp_path)])
    assert refused.exit_code == 1
    assert "/c2:partyA/c2:name" in refused.output and "familyName" in refused.output

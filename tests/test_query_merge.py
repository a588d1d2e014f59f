"""A part's merge rule says which of several sources' values is current; the query file is
checked when the hub reads it, naming what is wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from hub.errors import ConfigurationError
from hub.query.config import PartRule, load_query_config
from hub.query.dossier import Dossier, Outcome, dossier_element
from hub.query.sources import Fact
from hub.resources import XSD_ROOT

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
CANONICAL = etree.XMLSchema(etree.parse(str(XSD_ROOT / "canonical" / "canonical.xsd")))


def address_dossier(merge: str) -> etree._Element:
    rule = PartRule("address", ("TAX", "SOCIAL_SECURITY"), merge)
    dossier = Dossier("q1", "110105199003071319", "TAX", "tax assessment", NOW)
    dossier.sections.append(
        (
            rule,
            [
                Outcome("TAX", "ok", NOW, (Fact("old street 1", date(2024, 1, 10)),)),
                Outcome("SOCIAL_SECURITY", "ok", NOW, (Fact("new street 2", date(2025, 6, 1)),)),
            ],
        )
    )
    return dossier_element(dossier)


def current(dossier: etree._Element) -> list[tuple[str, str]]:
    return [
        (value.get("department", ""), value.get("current", ""))
        for value in dossier.iter("{urn:govhub:canonical:1}value")
    ]


def test_latest_makes_the_newest_value_current_and_keeps_the_other() -> None:
    dossier = address_dossier("latest")
    assert current(dossier) == [("TAX", "false"), ("SOCIAL_SECURITY", "true")]
    CANONICAL.assertValid(dossier)


def test_preferred_makes_the_first_listed_source_current_even_when_older() -> None:
    assert current(address_dossier("preferred")) == [("TAX", "true"), ("SOCIAL_SECURITY", "false")]


def test_the_shipped_query_file_names_a_source_for_every_part() -> None:
    config = load_query_config()
    assert list(config.parts) == ["maritalStatus", "socialInsurance", "address"]
    assert config.parts["address"].answers == ("TAX", "SOCIAL_SECURITY")
    assert config.readable("SOCIAL_SECURITY") == ["maritalStatus", "address"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[parts.address]\nanswers = ["TAX"]\nmerge = "newest"\n', "merge is one of"),
        ('[parts.address]\nanswers = ["TAX"]\n', "no [sources.TAX]"),
        ('[sources.TAX]\nprotocol = "ftp"\npath = "/q"\n', "protocol is one of"),
        ('[reads]\nTAX = ["shoeSize"]\n', "unknown part(s) shoeSize"),
        ("[parts\n", "cannot read query file"),
    ],
)
def test_a_broken_query_file_is_refused_naming_what_is_wrong(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "queries.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as refused:
        load_query_config(path)
    assert named in str(refused.value)

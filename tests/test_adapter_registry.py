from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from fixtures.adapters.samples import department

from adapters import registry
from adapters.base import Adapter, DeliveryResult, OutboundDelivery
from adapters.rest import RestAdapter
from adapters.soap import SoapAdapter
from hub.errors import ConfigurationError


class EchoAdapter(Adapter):
    name = "echo"

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        return DeliveryResult("accepted", reference=delivery.message_id)


class NotAnAdapter:
    pass


class BrokenAdapter(Adapter):
    name = "broken"

    def __init__(self, department: object) -> None:
        raise KeyError("endpoint")


def test_built_in_short_names_resolve_to_their_classes() -> None:
    assert registry.adapter_class("soap") is SoapAdapter
    assert registry.adapter_class("rest") is RestAdapter


def test_a_dotted_path_with_a_colon_names_a_third_party_adapter() -> None:
    assert registry.adapter_class(f"{__name__}:EchoAdapter") is EchoAdapter


def test_a_plain_dotted_path_names_a_third_party_adapter_too() -> None:
    assert registry.adapter_class(f"{__name__}.EchoAdapter") is EchoAdapter


def test_a_misspelt_name_suggests_the_closest_adapter() -> None:
    with pytest.raises(ConfigurationError, match=r"No such adapter: sopa\. Did you mean soap\?"):
        registry.adapter_class("sopa")


def test_a_name_like_nothing_lists_the_known_adapters() -> None:
    with pytest.raises(ConfigurationError, match=r"No such adapter: zzz\. Known adapters: .*rest"):
        registry.adapter_class("zzz")


def test_a_dotted_path_to_a_missing_module_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="cannot import no_such_module"):
        registry.adapter_class("no_such_module:Adapter")


def test_a_dotted_path_to_a_missing_class_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="has no 'Missing'"):
        registry.adapter_class(f"{__name__}:Missing")


def test_a_class_that_is_not_an_adapter_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"not a subclass of adapters\.base\.Adapter"):
        registry.adapter_class(f"{__name__}:NotAnAdapter")


def test_an_entry_point_in_the_govhub_adapters_group_is_found_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point = EntryPoint("echo", f"{__name__}:EchoAdapter", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {"echo": point})
    assert registry.adapter_class("echo") is EchoAdapter
    with pytest.raises(ConfigurationError, match="Did you mean echo"):
        registry.adapter_class("ecko")


def test_load_adapter_builds_the_departments_adapter_from_its_config() -> None:
    adapter = registry.load_adapter(department("TAX"))
    assert isinstance(adapter, RestAdapter)
    assert adapter.department.code == "TAX"


def test_a_third_party_adapter_failing_to_start_is_reported_as_configuration_error() -> None:
    config = department("TAX", adapter=f"{__name__}:BrokenAdapter")
    with pytest.raises(ConfigurationError, match="cannot be set up for TAX") as caught:
        registry.load_adapter(config)
    assert isinstance(caught.value.__cause__, KeyError)

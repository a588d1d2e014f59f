"""``adapter = "bundle"``: a department behind a one-way gateway or removable media. The hub
pushes nothing to it; its legs wait until `govhub bundle export --to NETWORK` carries them
(hub/bundle) and a receipt bundle from the other side marks them delivered."""

from __future__ import annotations

from adapters.base import Adapter, DeliveryResult, OutboundDelivery
from hub.bundle import BUNDLE_ADAPTER, network_of
from hub.departments import DepartmentConfig
from hub.errors import ConfigurationError


class BundleAdapter(Adapter):
    name = BUNDLE_ADAPTER

    def __init__(self, department: DepartmentConfig) -> None:
        if network_of(department) is None:
            raise ConfigurationError(
                f'{department.code}: adapter "bundle" needs options = {{ network = "NAME" }}, '
                "the network its bundles are carried to"
            )
        super().__init__(department)

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        # The delivery workers leave bundle legs waiting before any adapter is asked.
        raise ConfigurationError(
            f"{delivery.department} is reached by transfer bundles: its legs wait for "
            "`govhub bundle export`, they are never pushed"
        )

"""A hub refuses to start with routes it could not deliver, and says every reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import Settings
from hub.errors import ConfigurationError
from hub.runtime import HubRuntime


def test_a_route_to_a_department_without_mapping_or_operation_is_refused_at_start(
    tmp_path: Path,
) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[InsuredPersonEnrolled]\nsenders = ["SOCIAL_SECURITY"]\n'
        'receivers = ["TAX", "MARRIAGE_REGISTRY"]\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigurationError) as refused:
        HubRuntime(Settings(data_dir=tmp_path, routes_file=routes))

    assert "no outbound mapping MARRIAGE_REGISTRY/outbound/InsuredPersonEnrolled" in str(
        refused.value
    )
    assert "MARRIAGE_REGISTRY has no operation for InsuredPersonEnrolled" in str(refused.value)


def test_a_route_naming_an_unknown_department_is_refused(tmp_path: Path) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[AddressChanged]\nsenders = ["TAX"]\nreceivers = ["HOUSEHOLD_REGISTRY"]\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigurationError, match="HOUSEHOLD_REGISTRY"):
        HubRuntime(Settings(data_dir=tmp_path, routes_file=routes))

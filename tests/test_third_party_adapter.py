"""A department whose system is reached by a third-party adapter, installed from its own
package through the `govhub.adapters` entry point: checked, registered and delivered to,
with an endpoint that is no network address (a folder)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubstack import header, marriage, running_hub
from test_runtime_onboarding import COUNTY, PACKAGE, govhub

from hub.polling import wait_for

pytestmark = pytest.mark.slow  # a real hub, mock departments, processes

ADAPTER_PACKAGE = Path(__file__).parent / "fixtures" / "govhub-filedrop"
CODE = "PUBLIC_SECURITY"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The adapter's package, pip-installed as a user would, into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build") / "govhub-filedrop"
    shutil.copytree(ADAPTER_PACKAGE, build)  # pip builds in place: keep the checkout clean
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(build),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(installed))  # as if installed in the hub's environment
    yield installed


def file_drop_package(tmp_path: Path, endpoint: str) -> Path:
    """The household package, reached by the file drop instead of SOAP."""
    folder = tmp_path / "package"
    shutil.copytree(PACKAGE, folder)
    description = folder / "department.toml"
    text = description.read_text(encoding="utf-8")
    kept = [
        line
        for line in text.splitlines()
        if not line.startswith(("wsdl", "soap_version", "options", "endpoint", "adapter"))
    ]
    kept.insert(
        kept.index('name = "Household registration (public security)"') + 1, 'adapter = "filedrop"'
    )
    kept.insert(kept.index('adapter = "filedrop"') + 1, f'endpoint = "{endpoint}"')
    description.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("as_url", [False, True], ids=["a path", "a file URL"])
def test_a_third_party_adapter_from_an_entry_point_is_registered_and_delivered_to(
    tmp_path: Path, on_path: Path, as_url: bool
) -> None:
    drop = tmp_path / "srv" / "drop"
    folder = file_drop_package(tmp_path, drop.as_uri() if as_url else str(drop))
    with running_hub(tmp_path) as stack:
        code, output = govhub(stack, "departments", "check", str(folder), "--probe")
        assert code == 0, output
        assert "not probed" in output  # a folder is the adapter's business, not the probe's

        code, output = govhub(stack, "departments", "register", str(folder), "--actor", "admin")
        assert code == 0, output
        assert wait_for(lambda: CODE in stack.runtime.departments, 10)

        receipt = stack.client().service.Submit(
            header=header(), message=marriage(registrationOffice=COUNTY)
        )
        assert CODE in receipt.receivers
        assert stack.wait_settled(receipt.messageId).state == "delivered"
        dropped = list(drop.glob("ShouLiHunYinBianGeng-*.xml"))
        assert len(dropped) == 1
        assert b"HYZKBG" in dropped[0].read_bytes()

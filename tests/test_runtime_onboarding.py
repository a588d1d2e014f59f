"""A fourth department registered through the CLI while the hub serves traffic, and a broken
registration refused with every reason while nothing changes."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from click.testing import CliRunner
from hubstack import HubStack, header, marriage, running_hub
from sqlalchemy import func, select

from hub.cli import main
from hub.configuration.tables import config_generation, department_packages
from hub.polling import wait_for
from hub.store.models import DeliveryRow
from mock_departments.runner import MockDepartments

PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"
CODE = "PUBLIC_SECURITY"
COUNTY = "320102"


def package_for(tmp_path: Path, endpoint: str) -> Path:
    """The shipped package, pointed at the running mock, as an admin would edit it."""
    folder = tmp_path / "package"
    shutil.copytree(PACKAGE, folder)
    description = folder / "department.toml"
    text = description.read_text(encoding="utf-8")
    description.write_text(text.replace("http://127.0.0.1:8704/soap", endpoint), encoding="utf-8")
    return folder


def govhub(stack: HubStack, *args: str) -> tuple[int, str]:
    data_dir = str(stack.runtime.settings.data_dir)
    result = CliRunner().invoke(main, [*args, "--data-dir", data_dir])
    return result.exit_code, result.output


class Traffic:
    """Marriages from another county submitted one after another until stopped."""

    def __init__(self, stack: HubStack) -> None:
        self.stack = stack
        self.message_ids: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = self.stack.client()
        while not self.stop.is_set():
            receipt = client.service.Submit(header=header(), message=marriage())
            self.message_ids.append(receipt.messageId)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)


def test_a_fourth_department_registered_while_traffic_flows_gets_its_county_records(
    tmp_path: Path, household: MockDepartments
) -> None:
    folder = package_for(tmp_path, household.url(CODE) + "/soap")
    with running_hub(tmp_path) as stack, Traffic(stack) as traffic:
        assert wait_for(lambda: len(traffic.message_ids) >= 5, 20)

        code, output = govhub(stack, "departments", "register", str(folder), "--actor", "admin")
        assert code == 0, output
        assert "version 1" in output
        assert wait_for(lambda: CODE in stack.runtime.departments, 10)

        client = stack.client()
        ours = client.service.Submit(header=header(), message=marriage(registrationOffice=COUNTY))
        elsewhere = client.service.Submit(header=header(), message=marriage())

        assert sorted(ours.receivers) == [CODE, "SOCIAL_SECURITY", "TAX"]
        assert sorted(elsewhere.receivers) == ["SOCIAL_SECURITY", "TAX"]
        assert stack.wait_settled(ours.messageId).state == "delivered"
        assert household.household.store.count() == 1
        traffic.__exit__()

        submitted = [*traffic.message_ids, elsewhere.messageId]
        assert all(stack.wait_settled(m).state == "delivered" for m in submitted)
        for mock in (stack.mocks.social_security, stack.mocks.tax):
            assert mock.store.count() == len(submitted) + 1  # and ours

        with stack.runtime.store.engine.connect() as connection:
            used = connection.execute(
                select(DeliveryRow.outbound_mapping).where(
                    DeliveryRow.message_id == ours.messageId, DeliveryRow.department == CODE
                )
            ).scalar()
        assert used == f"{CODE}/outbound/MarriageRegistered@1"


def test_a_broken_registration_is_refused_with_every_reason_and_changes_nothing(
    tmp_path: Path, household: MockDepartments
) -> None:
    folder = package_for(tmp_path, household.url(CODE) + "/soap")
    description = folder / "department.toml"
    text = description.read_text(encoding="utf-8").replace('adapter = "soap"', 'adapter = "sopa"')
    description.write_text(text + '\n[[routes]]\nreceives = "BirthRegistered"\n', "utf-8")
    mapping = folder / "mappings/outbound/AddressChanged.toml"
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace('"c:person/', '"c:persn/', 1), "utf-8"
    )
    (folder / "schemas/broken.xsd").write_text("<xs:schema", "utf-8")

    with running_hub(tmp_path) as stack:
        before = govhub(stack, "departments", "list", "--json")
        code, output = govhub(stack, "departments", "register", str(folder), "--actor", "admin")

        assert code == 2
        assert "nothing changed" in output
        assert "No such adapter: sopa. Did you mean soap?" in output
        assert "'BirthRegistered': unknown message type" in output
        assert "'persn' is not declared in canonical/canonical.xsd" in output
        assert "schemas/broken.xsd" in output
        assert govhub(stack, "departments", "list", "--json") == before
        with stack.runtime.store.engine.connect() as connection:
            assert (
                connection.execute(select(func.count()).select_from(department_packages)).scalar()
                == 0
            )
            assert connection.execute(select(config_generation.c.generation)).scalar() == 0
        assert CODE not in stack.runtime.departments


def test_an_operator_replays_a_failed_leg_of_a_registered_department(
    tmp_path: Path, household: MockDepartments
) -> None:
    folder = package_for(tmp_path, household.url(CODE) + "/soap")
    with running_hub(tmp_path, max_attempts=1) as stack:
        code, output = govhub(stack, "departments", "register", str(folder), "--actor", "admin")
        assert code == 0, output
        assert wait_for(lambda: CODE in stack.runtime.departments, 10)
        household.household.faults.fail_next(1, permanent=True)
        receipt = stack.client().service.Submit(
            header=header(), message=marriage(registrationOffice=COUNTY)
        )
        assert stack.wait_settled(receipt.messageId).state == "failed"

        code, output = govhub(stack, "replay", receipt.messageId, "--reason", "household fixed")

        assert code == 0, output
        assert stack.wait_settled(receipt.messageId).state == "delivered"
        assert household.household.store.count() == 1

"""The query configuration lives in department packages: registering a package that answers a
part makes the running hub ask it, rolling back makes it stop, without a restart; a package
whose queries.toml is wrong is refused with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from hubstack import HUSBAND_ID, HubStack, header, running_hub
from zeep.exceptions import Fault

from hub.cli import main
from hub.polling import wait_for
from mock_departments.runner import MockDepartments

pytestmark = pytest.mark.slow

PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"
CODE = "PUBLIC_SECURITY"


def package_for(folder: Path, endpoint: str, *, queries: bool) -> Path:
    """The shipped package pointed at the running mock, with or without its queries.toml."""
    shutil.copytree(PACKAGE, folder)
    description = folder / "department.toml"
    text = description.read_text(encoding="utf-8")
    description.write_text(text.replace("http://127.0.0.1:8704/soap", endpoint), encoding="utf-8")
    if not queries:
        (folder / "queries.toml").unlink()
    return folder


def govhub(stack: HubStack, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(stack.runtime.settings.data_dir)])
    return result.exit_code, result.output


def household_section(stack: HubStack) -> Any:
    """The householdRegistration section TAX gets, or the fault's code."""
    try:
        dossier = stack.client().service.Query(
            header=header("Query", "TAX", purpose="tax assessment"),
            request={"subject": HUSBAND_ID, "part": ["householdRegistration"]},
        )
    except Fault as refused:
        return refused.code
    return dossier.section[0]


def test_a_registered_package_answers_its_part_and_a_rollback_takes_it_away(
    tmp_path: Path, household: MockDepartments
) -> None:
    endpoint = household.url(CODE) + "/soap"
    record = {"idNumber": HUSBAND_ID, "topic": "householdRegistration"}
    record |= {"value": "320102 玄武区中山路1号", "asOf": "2025-09-01"}
    requests.post(household.url(CODE) + "/query/records", json=record, timeout=5)
    without = package_for(tmp_path / "v1", endpoint, queries=False)
    answering = package_for(tmp_path / "v2", endpoint, queries=True)
    with running_hub(tmp_path / "hub", query_deadline_seconds=2.0) as stack:
        # Needed: the reads of TAX include the new part only once a package says so.
        assert govhub(stack, "departments", "register", str(without), "--actor", "admin")[0] == 0
        assert wait_for(lambda: CODE in stack.runtime.departments, 10)
        assert str(household_section(stack)).endswith("Client.UnknownPart")

        code, output = govhub(stack, "departments", "register", str(answering), "--actor", "admin")
        assert code == 0, output
        assert wait_for(lambda: not isinstance(household_section(stack), str), 10)
        section = household_section(stack)
        assert [(s.department, s.status) for s in section.source] == [(CODE, "ok")]
        assert section.value[0]._value_1 == "320102 玄武区中山路1号"
        address = (
            stack.client()
            .service.Query(
                header=header("Query", "TAX", purpose="tax assessment"),
                request={"subject": HUSBAND_ID, "part": ["address"]},
            )
            .section[0]
        )
        sources = [s.department for s in address.source]
        assert sources == ["TAX", "SOCIAL_SECURITY", CODE]  # after the file's own sources

        code, output = govhub(
            stack, "departments", "rollback", CODE, "--to-version", "1", "--actor", "admin"
        )
        assert code == 0, output
        assert wait_for(lambda: isinstance(household_section(stack), str), 10)
        assert household_section(stack).endswith("Client.UnknownPart")


def test_a_package_whose_queries_name_an_unknown_part_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    folder = package_for(tmp_path / "package", "http://127.0.0.1:9/soap", queries=True)
    queries = folder / "queries.toml"
    queries.write_text(
        queries.read_text(encoding="utf-8").replace('reads = ["maritalStatus"]', 'reads = ["iq"]'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["departments", "check", str(folder), "--data-dir", str(tmp_path / "hub")]
    )
    assert result.exit_code != 0
    assert "reads names unknown part(s) iq" in result.output

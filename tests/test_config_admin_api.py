"""Departments and routes through the SOAP admin API at /admin: admin accounts with the
'configure' permission change the running hub at once; readers may only look."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import zeep
from hubstack import HubStack, header, marriage, running_hub
from test_runtime_onboarding import CODE, COUNTY, package_for
from zeep.wsse.username import UsernameToken

from hub.configuration.package import read_package
from hub.polling import wait_for
from hub.security.admins import AdminStore
from hub.security.credentials import IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from mock_departments.runner import MockDepartments, start_mock_departments

KEYS = new_key_text("k1")


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockDepartments]:
    folder = tmp_path_factory.mktemp("household")
    mocks = start_mock_departments(data_dir=folder, ports={CODE: 0}, codes=[CODE])
    try:
        yield mocks
    finally:
        mocks.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("config-api"), encryption_keys=KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def accounts(stack: HubStack) -> dict[str, IssuedSecret]:
    store = AdminStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return {
        "reader": store.add("ops-li", ["read"], actor="root"),
        "configurer": store.add("admin-wang", ["read", "configure"], actor="root"),
    }


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory, household: MockDepartments) -> bytes:
    folder = package_for(tmp_path_factory.mktemp("package"), household.url(CODE) + "/soap")
    return read_package(folder).to_zip()


def admin(stack: HubStack, account: IssuedSecret) -> zeep.Client:
    token = UsernameToken(account.username, account.secret, use_digest=True)
    return zeep.Client(f"{stack.server.url}/admin?wsdl", wsse=token)


def test_a_reader_may_list_departments_but_not_register_one(
    stack: HubStack, accounts: dict[str, IssuedSecret], package: bytes
) -> None:
    reader = admin(stack, accounts["reader"])
    codes = [row.code for row in reader.service.ListDepartments()]
    # The shipped three, in order; a test before this one may have registered another.
    assert codes == sorted(codes)
    assert {"MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX"} <= set(codes)

    with pytest.raises(zeep.exceptions.Fault) as fault:
        reader.service.RegisterDepartment(package, None)
    assert fault.value.code.endswith("Client.NotAuthorized")
    assert "configure" in fault.value.message


def test_a_broken_package_sent_over_the_api_is_refused_with_its_reasons(
    stack: HubStack, accounts: dict[str, IssuedSecret]
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        admin(stack, accounts["configurer"]).service.CheckDepartment(b"not a zip")
    assert fault.value.code.endswith("Client.RegistrationRefused")  # the sender's mistake
    assert "not a readable zip" in fault.value.message


def test_a_department_registered_over_the_api_is_used_at_once_and_can_be_switched_off(
    stack: HubStack, accounts: dict[str, IssuedSecret], package: bytes
) -> None:
    configurer = admin(stack, accounts["configurer"])
    known_before = CODE in stack.runtime.departments  # a test before may have registered it

    result = configurer.service.RegisterDepartment(package, None)

    assert (result.changed, result.version) == (not known_before, 1)
    assert wait_for(lambda: CODE in stack.runtime.departments, 5)
    detail = configurer.service.ShowDepartment(CODE)
    assert detail.department.version == 1
    assert f"{CODE}/outbound/MarriageRegistered@1" in detail.mappings
    assert [v.registeredBy for v in detail.versions] == ["admin-wang"]
    receipt = stack.client().service.Submit(
        header=header(), message=marriage(registrationOffice=COUNTY)
    )
    assert CODE in receipt.receivers

    configurer.service.DisableDepartment(CODE, None)
    assert wait_for(lambda: not stack.runtime.departments.is_enabled(CODE), 5)
    receipt = stack.client().service.Submit(
        header=header(), message=marriage(registrationOffice=COUNTY)
    )
    assert CODE not in receipt.receivers

    configurer.service.EnableDepartment(CODE, None)
    assert wait_for(lambda: stack.runtime.departments.is_enabled(CODE), 5)


def test_a_route_the_department_cannot_take_is_refused_and_one_it_can_is_removed(
    stack: HubStack, accounts: dict[str, IssuedSecret], package: bytes
) -> None:
    configurer = admin(stack, accounts["configurer"])
    configurer.service.RegisterDepartment(package, None)  # unchanged if already there

    with pytest.raises(zeep.exceptions.Fault) as fault:
        configurer.service.AddRoute("DivorceRegistered", "receives", CODE, None, None, None, None)
    assert fault.value.code.endswith("Client.RegistrationRefused")
    assert f"no outbound mapping {CODE}/outbound/DivorceRegistered" in fault.value.message

    configurer.service.RemoveRoute("AddressChanged", "receives", CODE, None)
    routes = configurer.service.ListRoutes("AddressChanged")
    assert CODE not in [route.department for route in routes]
    assert wait_for(lambda: CODE not in stack.runtime.routes.route("AddressChanged").receivers, 5)

"""What an account with `configure` changes from the console, over real HTTP on a whole hub:
a department disabled and enabled, a package uploaded as a zip (checked only, registered,
refused with every reason and nothing changed), a roll back to a version, a signed audit
export downloaded and verified. Every new form refuses a wrong CSRF token and an account
without the permission (403, saying which), and an expired session goes to the login page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from console_kit import add_account, audit_public_key, logged_in, signed_console_hub
from hubstack import HubStack
from sqlalchemy import select, update

from hub.configuration.admin import ConfigurationAdmin
from hub.configuration.package import DepartmentPackage, read_package
from hub.console.tables import console_sessions
from hub.security import audit
from hub.security.credentials import IssuedSecret
from hub.security.export import verify_export
from hub.security.tables import audit_log

pytestmark = pytest.mark.slow
PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"
CODE = "PUBLIC_SECURITY"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with signed_console_hub(tmp_path_factory, "console-configure") as running:
        yield running


@pytest.fixture(scope="module")
def configurer(stack: HubStack) -> IssuedSecret:
    return add_account(stack, "cfg-zhou", "read", "configure")


def admin(stack: HubStack) -> ConfigurationAdmin:
    return stack.runtime.wsgi_app().console.configuration()  # type: ignore[union-attr]


def zipped(package: DepartmentPackage) -> bytes:
    return package.to_zip()


def upload(
    client: requests.Session, stack: HubStack, csrf: str, data: bytes, action: str
) -> requests.Response:
    return client.post(
        f"{stack.server.url}/console/packages",
        data={"csrf": csrf, "action": action},
        files={"package": ("public-security.zip", data, "application/zip")},
        timeout=30,
    )


def changes_by(stack: HubStack, actor: str) -> list[dict[str, object]]:
    query = select(audit_log.c.details).where(
        audit_log.c.actor == actor, audit_log.c.action == audit.ADMIN_CHANGE
    )
    with stack.runtime.store.engine.connect() as connection:
        return [json.loads(row[0]) for row in connection.execute(query)]


def test_a_department_is_disabled_and_enabled_again_from_its_page(
    stack: HubStack, configurer: IssuedSecret
) -> None:
    client, csrf = logged_in(stack, configurer)
    url = f"{stack.server.url}/console/departments/TAX"
    try:
        disabled = client.post(f"{url}/disable", data={"csrf": csrf}, timeout=10)
        assert (
            disabled.url == url
            and "Disabled · " in disabled.text
            and 'id="enable"' in disabled.text
        )
        assert "TAX" in admin(stack).current().disabled
    finally:
        enabled = client.post(f"{url}/enable", data={"csrf": csrf}, timeout=10)
    assert "Enabled · " in enabled.text and "TAX" not in admin(stack).current().disabled
    operations = [change["operation"] for change in changes_by(stack, "cfg-zhou")]
    assert operations[-2:] == ["disable", "enable"]


def test_a_package_zip_is_checked_then_registered_and_rolled_back_to_its_first_version(
    stack: HubStack, configurer: IssuedSecret, tmp_path: Path
) -> None:
    client, csrf = logged_in(stack, configurer)
    first = read_package(PACKAGE)

    checked = upload(client, stack, csrf, zipped(first), "check")
    assert checked.status_code == 200 and "Every check passed" in checked.text
    assert "passed: every example maps to its expected output and back" in checked.text
    assert admin(stack).versions(CODE) == []  # a check changes nothing

    registered = upload(client, stack, csrf, zipped(first), "register")
    assert "Registered PUBLIC_SECURITY version 1" in registered.text
    files = dict(first.files)
    files["department.toml"] = files["department.toml"].replace(
        b"timeout_seconds = 10", b"timeout_seconds = 5"
    )
    second = upload(client, stack, csrf, zipped(DepartmentPackage(files, "v2")), "register")
    assert "Registered PUBLIC_SECURITY version 2" in second.text
    assert admin(stack).current().departments.get(CODE).timeout_seconds == 5

    page = client.post(
        f"{stack.server.url}/console/departments/{CODE}/rollback",
        data={"csrf": csrf, "version": "1"},
        timeout=10,
    )

    assert page.status_code == 200 and admin(stack).current().departments.get(CODE).version == 1
    assert admin(stack).current().departments.get(CODE).timeout_seconds == 10
    assert re.search(r'id="version-1">.*?<strong>active</strong>', page.text, re.S)
    assert 'id="rollback-2"' in page.text
    assert changes_by(stack, "cfg-zhou")[-1] == {"operation": "rollback", "version": 1}


def test_a_package_that_fails_its_checks_shows_every_reason_and_changes_nothing(
    stack: HubStack, configurer: IssuedSecret
) -> None:
    client, csrf = logged_in(stack, configurer)
    files = dict(read_package(PACKAGE).files)
    files["department.toml"] += b'\n[[routes]]\nreceives = "NoSuchMessage"\n'
    del files["mappings/outbound/MarriageRegistered.toml"]
    versions = admin(stack).versions(CODE)
    generation = admin(stack).current().generation

    page = upload(client, stack, csrf, zipped(DepartmentPackage(files, "broken")), "register")

    assert page.status_code == 422 and "Refused: nothing was changed" in page.text
    reasons = re.findall(r"<li>(.*?)</li>", page.text.split('id="package-reasons"')[1])
    assert len(reasons) >= 2, reasons
    assert any("NoSuchMessage" in r and "unknown message type" in r for r in reasons)
    assert any("MarriageRegistered.toml missing" in r for r in reasons)
    assert admin(stack).versions(CODE) == versions
    assert admin(stack).current().generation == generation


def test_a_zip_that_is_not_a_zip_is_refused_with_its_reason(
    stack: HubStack, configurer: IssuedSecret
) -> None:
    client, csrf = logged_in(stack, configurer)

    page = upload(client, stack, csrf, b"not a zip at all", "check")
    empty = upload(client, stack, csrf, b"", "check")

    assert page.status_code == 422 and "not a readable zip" in page.text
    assert empty.status_code == 400 and "choose a department package" in empty.text


def test_a_signed_audit_export_downloads_and_verifies_with_the_hubs_public_key(
    stack: HubStack, configurer: IssuedSecret, tmp_path: Path
) -> None:
    client, csrf = logged_in(stack, configurer)

    answer = client.post(
        f"{stack.server.url}/console/audit-export", data={"csrf": csrf}, timeout=30
    )

    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/zip"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="govhub-audit-')
    archive = tmp_path / "export.zip"
    archive.write_bytes(answer.content)
    manifest = verify_export(archive, audit_public_key(stack))
    with stack.runtime.store.engine.connect() as connection:
        last = connection.execute(
            select(audit_log.c.seq, audit_log.c.actor, audit_log.c.action).where(
                audit_log.c.seq == manifest.last_seq
            )
        ).one()
    assert (last.actor, last.action) == ("cfg-zhou", "audit_export")


# Every form this work added: (path, form fields, the permission it needs, what for).
FORMS = [
    ("/console/replays", {"scope": "picked", "pick-x": "1"}, "operate", "replay"),
    ("/console/departments/TAX/disable", {}, "configure", "enabling or disabling a department"),
    ("/console/departments/TAX/enable", {}, "configure", "enabling or disabling a department"),
    ("/console/departments/TAX/rollback", {"version": "1"}, "configure", "rolling a department"),
    ("/console/packages", {"action": "register"}, "configure", "registering a department package"),
    ("/console/audit-export", {}, "configure", "downloading a signed audit export"),
]


def post_form(
    client: requests.Session, stack: HubStack, path: str, data: dict[str, str]
) -> requests.Response:
    files = {"package": ("p.zip", zipped(read_package(PACKAGE)))} if "packages" in path else None
    return client.post(
        f"{stack.server.url}{path}", data=data, files=files, allow_redirects=False, timeout=30
    )


@pytest.mark.parametrize(("path", "data", "permission", "what"), FORMS)
def test_an_account_without_the_permission_is_refused_with_403_saying_which(
    stack: HubStack, path: str, data: dict[str, str], permission: str, what: str
) -> None:
    others = {"operate": ("read", "configure"), "configure": ("read", "operate")}[permission]
    account = add_account(stack, f"lacks-{permission}-{len(path)}-{len(data)}", *others)
    client, csrf = logged_in(stack, account)
    generation = admin(stack).current().generation

    answer = post_form(client, stack, path, {"csrf": csrf, **data})

    assert answer.status_code == 403
    assert f"lacks the '{permission}' permission needed for {what}" in html.unescape(answer.text)
    assert admin(stack).current().generation == generation
    assert "Content-Disposition" not in answer.headers


@pytest.mark.parametrize(("path", "data", "permission", "what"), FORMS)
def test_a_wrong_csrf_token_is_refused_on_every_new_form(
    stack: HubStack, path: str, data: dict[str, str], permission: str, what: str
) -> None:
    account = add_account(
        stack, f"all-{permission}-{len(path)}-{len(data)}", "read", "operate", "configure"
    )
    client, _ = logged_in(stack, account)

    answer = post_form(client, stack, path, {"csrf": "forged", **data})

    assert answer.status_code == 403 and "not from your current session" in answer.text
    assert "Content-Disposition" not in answer.headers


def test_an_expired_session_goes_to_the_login_page_from_the_new_pages(
    stack: HubStack, configurer: IssuedSecret
) -> None:
    client, csrf = logged_in(stack, configurer)
    with stack.runtime.store.engine.begin() as connection:
        connection.execute(
            update(console_sessions)
            .where(console_sessions.c.username == "cfg-zhou")
            .values(expires_at=console_sessions.c.created_at)
        )

    for path, data, _, _ in FORMS:
        answer = post_form(client, stack, path, {"csrf": csrf, **data})
        assert answer.status_code == 303, path
        assert answer.headers["Location"] == "/console/login?expired=1"
    child = client.get(f"{stack.server.url}/console/replays/1", timeout=10)
    assert child.url.endswith("/console/login?expired=1")
    assert "Your session ended; please log in again." in child.text

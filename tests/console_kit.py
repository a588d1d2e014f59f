"""The console under test: a whole hub with admin accounts, an HTTP client that logs in as a
browser would (form, cookie, CSRF token), and real headless Chromium for the browser tests."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from backends import unavailable
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub

from hub.security.admins import AdminStore
from hub.security.credentials import IssuedSecret
from hub.security.export import load_signing_key, new_signing_key

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@contextmanager
def console_hub(factory: Any, name: str, **settings: Any) -> Iterator[HubStack]:
    """A whole hub for a module of console tests (two attempts: a failure settles fast)."""
    with running_hub(factory.mktemp(name), max_attempts=2, **settings) as running:
        yield running


@contextmanager
def signed_console_hub(factory: Any, name: str) -> Iterator[HubStack]:
    """A console hub that signs audit exports with a key of its own."""
    key = factory.mktemp(f"{name}-key") / "audit.pem"
    new_signing_key(key)
    with console_hub(factory, name, audit_signing_key_file=str(key)) as hub:
        yield hub


def audit_public_key(stack: HubStack) -> Ed25519PublicKey:
    """The public half of the hub's audit signing key: what a verifier trusts."""
    return load_signing_key(Path(stack.runtime.settings.audit_signing_key_file)).public_key()


def failed_at_tax(stack: HubStack, party_a: str = HUSBAND_ID) -> str:
    """A marriage (party A's identity number as given) that TAX rejects: failed at once,
    delivered to SOCIAL_SECURITY."""
    stack.mocks.tax.faults.fail_next(1, permanent=True)
    record = marriage()
    record["MarriageRegistered"]["partyA"]["identityNumber"] = party_a
    receipt = stack.client().service.Submit(header=header(), message=record)
    assert stack.wait_settled(receipt.messageId).state == "failed"
    return str(receipt.messageId)


def add_account(stack: HubStack, name: str, *permissions: str) -> IssuedSecret:
    return AdminStore(stack.runtime.store.engine).add(name, permissions, actor="test-root")


def csrf_of(page: requests.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def logged_in(stack: HubStack, account: IssuedSecret) -> tuple[requests.Session, str]:
    """A client with a console session, and the session's CSRF token."""
    client = requests.Session()
    form = client.get(f"{stack.server.url}/console/login", timeout=10)
    page = client.post(
        f"{stack.server.url}/console/login",
        data={"csrf": csrf_of(form), "username": account.username, "secret": account.secret},
        timeout=10,
    )
    assert page.url.endswith("/console/messages"), page.text
    return client, csrf_of(page)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium through Debian's chromium-driver (nothing downloaded); skipped
    without it on a laptop, failed in CI."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        unavailable("selenium", exc)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            unavailable("chromium", FileNotFoundError(path))
    profile = tempfile.mkdtemp(prefix="govhub-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

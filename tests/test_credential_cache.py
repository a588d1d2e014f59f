"""Credentials remembered per process for a moment: a change takes effect once the moment
has passed, never later."""

from __future__ import annotations

import pytest

from hub.security.credential_cache import CachedCredentials
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text
from hub.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def credentials(store: Store) -> CredentialStore:
    return CredentialStore(store.engine, keys=KeyRing.parse(new_key_text("k1")))


def test_a_revoked_credential_is_refused_once_the_cache_moment_has_passed(
    credentials: CredentialStore,
) -> None:
    clock = Clock()
    cached = CachedCredentials(credentials, seconds=2.0, clock=clock)
    issued = credentials.issue("TAX", actor="admin")
    assert [c.username for c in cached.for_department("TAX")] == [issued.username]

    credentials.revoke(issued.username, actor="admin")
    clock.now += 1.0
    assert [c.username for c in cached.for_department("TAX")] == [issued.username]
    clock.now += 1.5
    assert cached.for_department("TAX") == []
    assert cached.ever_registered("TAX")


def test_a_new_credential_is_required_once_the_cache_moment_has_passed(
    credentials: CredentialStore,
) -> None:
    clock = Clock()
    cached = CachedCredentials(credentials, seconds=2.0, clock=clock)
    assert not cached.ever_registered("TAX") and cached.lookup("TAX") is None

    credentials.issue("TAX", actor="admin")
    clock.now += 2.0
    assert cached.ever_registered("TAX")
    found = cached.lookup("TAX")
    assert found is not None and found.department == "TAX"

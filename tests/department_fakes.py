"""`responses` fakes departments at both places a department call leaves for the network:
requests' ``HTTPAdapter.send`` (tests' own adapters, the federation forwarder, calls through a
proxy) and ``PoolPerEndpoint.send`` (adapters/_http.py), where the hub's department sessions
send with its own HTTP client (adapters/http_client.py) without passing through requests'.
Imported by conftest.py, so ``@responses.activate`` and ``responses.add`` fake both in every
test; ``department_fake()`` is a mock of its own doing the same."""

from __future__ import annotations

from typing import Any
from unittest import mock

import responses

DEPARTMENT_SEND = "adapters._http.PoolPerEndpoint.send"


class DepartmentFake(responses.RequestsMock):
    """A `responses` mock that also answers for the hub's department sessions."""

    _department_patcher: Any = None

    def start(self) -> None:
        if self._patcher:  # started already (a decorated test calling another)
            return
        super().start()
        self._department_patcher = mock.patch(DEPARTMENT_SEND, new=self.unbound_on_send())
        self._department_patcher.start()

    def stop(self, allow_assert: bool = True) -> None:
        if self._department_patcher is not None:
            self._department_patcher.stop()
            self._department_patcher = None
        super().stop(allow_assert)


# The module's default mock (behind responses.activate, responses.add, responses.calls).
responses.mock.__class__ = DepartmentFake


def department_fake(**options: Any) -> DepartmentFake:
    """A `responses` mock of its own (``with department_fake() as fake:``)."""
    return DepartmentFake(**options)

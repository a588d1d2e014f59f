"""One adapter per department and settings, made on first use and shared by every thread
of the process (deliveries and native pushes alike)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from adapters.base import Adapter, EnvelopeSigner
from adapters.registry import load_adapter
from hub.departments import DepartmentConfig

AdapterFactory = Callable[[DepartmentConfig], Adapter]


class AdapterCache:
    """Call it with a department's settings for its adapter. A reload that changes the
    settings (a new package version) gets a new adapter; the old one may still be in use by
    a delivery in flight, so it is closed with the cache, not at once. Each adapter is given
    the hub's signing key when it is made (``Adapter.use_signer``)."""

    def __init__(
        self, factory: AdapterFactory = load_adapter, signer: EnvelopeSigner | None = None
    ) -> None:
        self._factory = factory
        self._signer = signer
        self._adapters: dict[str, tuple[DepartmentConfig, Adapter]] = {}
        self._retired: list[Adapter] = []
        self._lock = threading.Lock()

    def __call__(self, config: DepartmentConfig) -> Adapter:
        made = self._adapters.get(config.code)
        if made is not None and made[0] is config:
            return made[1]
        with self._lock:
            made = self._adapters.get(config.code)
            if made is not None and made[0] is config:
                return made[1]
            if made is not None:
                self._retired.append(made[1])
            adapter = self._factory(config)
            adapter.use_signer(self._signer)
            self._adapters[config.code] = (config, adapter)
            return adapter

    def close(self) -> None:
        with self._lock:
            adapters = [adapter for _, adapter in self._adapters.values()] + self._retired
            self._adapters, self._retired = {}, []
        for adapter in adapters:
            adapter.close()

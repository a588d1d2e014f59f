"""Lets spyne 2.14, our SOAP server, import on Python 3.12 and 3.13.

spyne 2.14.0 (the newest release) vendors six 1.14 as ``spyne.util.six``, whose
``six.moves`` importer implements only ``find_module``/``load_module``; Python 3.12 stopped
calling those, so ``import spyne`` fails with "No module named 'spyne.util.six.moves'". On
3.13 spyne also imports ``cgi``, removed from the standard library: the ``legacy-cgi``
distribution (a dependency on 3.13 only) provides it.

``install()`` loads the vendored six ahead of spyne and gives its importer the three methods
six 1.16 added (``find_spec``, ``create_module``, ``exec_module``), exactly as six 1.16 wrote
them. ``hub/__init__.py`` calls it, so every import of the hub's own modules comes first;
code that imports spyne without the hub must ``import hub`` before it.

It can go when a spyne release imports on 3.12 as it is (spyne's master vendors a newer six);
then drop ``legacy-cgi`` too when spyne no longer imports ``cgi``.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

_VENDORED_SIX = "spyne.util.six"


def install() -> None:
    """Make ``import spyne`` work on this interpreter; a no-op before 3.12 or when done."""
    if sys.version_info < (3, 12) or _VENDORED_SIX in sys.modules:
        return
    spyne = importlib.util.find_spec("spyne")  # finds the package without running it
    if spyne is None or not spyne.submodule_search_locations:
        return  # spyne is not installed: whoever imports it will say so
    six_file = Path(next(iter(spyne.submodule_search_locations))) / "util" / "six.py"
    spec = importlib.util.spec_from_file_location(_VENDORED_SIX, six_file)
    if spec is None or spec.loader is None:
        return
    six = importlib.util.module_from_spec(spec)
    sys.modules[_VENDORED_SIX] = six
    spec.loader.exec_module(six)
    _teach_find_spec(type(six._importer))


def _teach_find_spec(importer: type) -> None:
    def find_spec(self: Any, fullname: str, path: object, target: object = None) -> Any:
        if fullname in self.known_modules:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self: Any, spec: ModuleSpec) -> ModuleType:
        module: ModuleType = self.load_module(spec.name)
        return module

    def exec_module(self: Any, module: ModuleType) -> None:
        return None

    importer.find_spec = find_spec  # type: ignore[attr-defined]
    importer.create_module = create_module  # type: ignore[attr-defined]
    importer.exec_module = exec_module  # type: ignore[attr-defined]

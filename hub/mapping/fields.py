"""One compiled field: where its value comes from and how it is turned into the target value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import MappingError
from hub.identity import mask_in_text
from hub.mapping.formats import Converter
from hub.mapping.paths import Reader


@dataclass(frozen=True, slots=True)
class CompiledField:
    """Read, look up the code, convert; or a constant. ``default`` is already a target value."""

    target: str
    source: str | None
    read: Reader | None
    constant: str | None = None
    codes_name: str | None = None
    codes: Mapping[str, str] | None = None
    convert: Converter | None = None
    required: bool = True
    default: str | None = None

    @property
    def passes_through(self) -> bool:
        """True when a present source value is the target value unchanged."""
        return self.read is not None and self.codes is None and self.convert is None

    def value(self, document: Any) -> str | None:
        if self.read is None:
            return self.constant
        try:
            raw = self.read(document)
        except MappingError as exc:
            raise self._failed(exc) from exc
        return self.value_of(raw)

    def value_of(self, raw: str | None) -> str | None:
        """The target value for what the source path holds (``raw``, None when absent)."""
        if self.read is None:
            return self.constant
        try:
            if raw is None:
                return self._missing()
            if self.codes is not None:
                code = self.codes.get(raw)  # inline, not a method: the hot path of coded fields
                if code is None:
                    raise MappingError(f"code {raw!r} is not in code table {self.codes_name!r}")
                raw = code
            return raw if self.convert is None else self.convert(raw)
        except MappingError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: MappingError) -> MappingError:
        return MappingError(
            f"cannot map {self.source} to {self.target}: {mask_in_text(exc.message)}"
        )

    def _missing(self) -> str | None:
        if self.default is not None or not self.required:
            return self.default
        raise MappingError(f"{self.target}: the required value {self.source} is missing")

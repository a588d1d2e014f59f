"""A person as a clerk enters one, and the numbers clerks hand out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.errors import ClientError
from hub.identity import verify

MALE = 1
FEMALE = 2


@dataclass(frozen=True)
class Person:
    """Name and identity number; sex and birth date default to what the number says."""

    name: str
    id_number: str
    sex: int | None = None  # GB/T 2261.1: 1 male, 2 female
    birth_date: date | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ClientError("a person needs a name")
        verify(self.id_number, where=self.name)

    @property
    def sex_code(self) -> int:
        if self.sex is not None:
            return self.sex
        return MALE if int(self.id_number[16]) % 2 else FEMALE

    @property
    def born(self) -> date:
        if self.birth_date is not None:
            return self.birth_date
        digits = self.id_number[6:14]
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))

    @classmethod
    def from_json(cls, document: Any, *, where: str) -> Person:
        """{"name": ..., "idNumber": ..., "sex"?: 1|2, "birthDate"?: "YYYY-MM-DD"}"""
        if not isinstance(document, dict):
            raise ClientError(f"{where} must be an object with name and idNumber")
        try:
            birth = document.get("birthDate")
            return cls(
                name=str(document["name"]),
                id_number=str(document["idNumber"]),
                sex=None if document.get("sex") is None else int(document["sex"]),
                birth_date=None if birth is None else date.fromisoformat(str(birth)),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ClientError(f"{where} is incomplete or wrong: {exc}") from exc


def parse_date(value: Any, *, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ClientError(f"{where} must be a date YYYY-MM-DD, not {value!r}") from exc


def required(document: dict[str, Any], name: str) -> Any:
    if document.get(name) in (None, ""):
        raise ClientError(f"{name} is required")
    return document[name]


def json_object(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ClientError("the body must be a JSON object")
    return document


def new_number(prefix: str, day: date) -> str:
    """A registration number no other clerk will hand out: prefix, day, random suffix."""
    return f"{prefix}-{day:%Y%m%d}-{secrets.token_hex(4).upper()}"

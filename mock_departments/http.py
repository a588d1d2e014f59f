"""The little WSGI a mock needs: a request read from the environ, a response to send."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from hub.errors import BodyTooLarge, ClientError

MAX_BODY_BYTES = 10 * 1024 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @classmethod
    def from_environ(cls, environ: Environ) -> Request:
        headers = {
            name[5:].replace("_", "-").lower(): str(value)
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=str(environ.get("PATH_INFO", "/")) or "/",
            query=parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True),
            headers=headers,
            body=_read_body(environ),
        )

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def charset(self) -> str | None:
        """The charset named in Content-Type, if any."""
        for part in self.content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip('"')
        return None

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode(self.charset() or "utf-8"))
        except (UnicodeDecodeError, LookupError, ValueError) as exc:
            raise ClientError(f"body is not JSON: {exc}") from exc


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, start_response: StartResponse) -> Iterable[bytes]:
        phrase = HTTPStatus(self.status).phrase
        headers = [*self.headers, ("Content-Length", str(len(self.body)))]
        start_response(f"{self.status} {phrase}", headers)
        return [self.body]


def json_response(status: int, document: Any) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json; charset=utf-8")])


def text_response(status: int, text: str) -> Response:
    return Response(status, text.encode("utf-8"), [("Content-Type", "text/plain; charset=utf-8")])


def _read_body(environ: Environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise BodyTooLarge(f"body is {length} bytes, over the limit of {MAX_BODY_BYTES} bytes")
    if length <= 0:
        return b""
    data: bytes = environ["wsgi.input"].read(length)
    return data

"""The little HTTP the console needs: a parsed request, an answer, cookies."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from hub.console.upload import Upload, is_multipart, parse_multipart
from hub.security import transport_security

MAX_FORM_BYTES = 64 * 1024  # a console form is a few fields; nothing bigger is read
SESSION_COOKIE = "govhub_console"
LOGIN_COOKIE = "govhub_console_login"  # the login form's CSRF token, before any session
PREFIX = "/console"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below /console: "/", "/messages", ...
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    address: str
    tls: bool
    files: dict[str, Upload] = field(default_factory=dict)  # a multipart form's files

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        path = str(environ.get("PATH_INFO", ""))[len(PREFIX) :] or "/"
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        cookie = SimpleCookie()
        cookie.load(str(environ.get("HTTP_COOKIE", "")))
        form, files = _form(environ) if method == "POST" else ({}, {})
        return cls(
            method=method,
            path=path,
            query=dict(parse_qsl(str(environ.get("QUERY_STRING", "")))),
            form=form,
            cookies={key: morsel.value for key, morsel in cookie.items()},
            address=str(environ.get("REMOTE_ADDR", "")),
            tls=transport_security.arrived_over_tls(environ),
            files=files,
        )


@dataclass
class Answer:
    status: str
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def wsgi_headers(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Cache-Control", "no-store"),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
            ("Referrer-Policy", "same-origin"),
            *self.headers,
        ]


def redirect(location: str, *cookies: str) -> Answer:
    return Answer("303 See Other", headers=[("Location", location), *_set(cookies)])


def cookie(name: str, value: str, *, tls: bool, max_age: int | None = None) -> str:
    """A cookie only this console's pages see, never scripts, never another site's requests;
    over TLS never sent without it."""
    parts = [f"{name}={value}", f"Path={PREFIX}", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if tls:
        parts.append("Secure")
    return "; ".join(parts)


def with_cookies(answer: Answer, *cookies: str) -> Answer:
    answer.headers += _set(cookies)
    return answer


def _set(cookies: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("Set-Cookie", value) for value in cookies]


def _form(environ: dict[str, Any]) -> tuple[dict[str, str], dict[str, Upload]]:
    if is_multipart(environ):
        return parse_multipart(environ)
    declared = str(environ.get("CONTENT_LENGTH") or "0")
    length = min(int(declared) if declared.isdigit() else 0, MAX_FORM_BYTES)
    body = environ["wsgi.input"].read(length) if length else b""
    return dict(parse_qsl(body.decode("utf-8", errors="replace"))), {}

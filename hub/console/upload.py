"""multipart/form-data, the one form that carries a file (a department package): parsed with
the standard library's MIME parser, the whole body bounded by the largest package."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from hub.configuration.package import MAX_PACKAGE_BYTES
from hub.errors import BodyTooLarge

# The zip itself may be smaller than its files; the form's other fields are a few bytes.
MAX_UPLOAD_BYTES = MAX_PACKAGE_BYTES + 64 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def is_multipart(environ: dict[str, Any]) -> bool:
    return str(environ.get("CONTENT_TYPE", "")).startswith("multipart/form-data")


def parse_multipart(environ: dict[str, Any]) -> tuple[dict[str, str], dict[str, Upload]]:
    """The form's text fields and its files by field name."""
    declared = str(environ.get("CONTENT_LENGTH") or "0")
    length = int(declared) if declared.isdigit() else 0
    if length > MAX_UPLOAD_BYTES:
        raise BodyTooLarge(f"an upload is at most {MAX_UPLOAD_BYTES} bytes; this one {length}")
    body = environ["wsgi.input"].read(length) if length else b""
    head = f"Content-Type: {environ['CONTENT_TYPE']}\r\n\r\n".encode("latin-1")
    document = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in document.iter_parts() if document.is_multipart() else ():
        _take(part, fields, files)
    return fields, files


def _take(part: Message, fields: dict[str, str], files: dict[str, Upload]) -> None:
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        return
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    filename = part.get_filename()
    if filename is None:
        fields[name] = data.decode("utf-8", errors="replace")
    else:
        files[name] = Upload(filename, data)

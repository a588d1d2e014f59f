"""What a request says its text's encoding is, and whether that can be believed.

A document may name its encoding twice: the HTTP ``charset`` and the XML declaration. When
they disagree the hub cannot know which one the sender meant, so it refuses the document
rather than guess (RFC 7303 would let the charset win; a wrong guess is stored as mojibake).
With only a charset, the charset is the declaration (the parser is told to read in it).

Bytes that do not decode in the declared encoding are refused by the parser itself. One
mismatch decodes anyway: an encoding with one byte per character (ISO-8859-1, windows-1252)
reads any bytes, so UTF-8 labelled as one is refused here when its bytes are valid UTF-8 with
something beyond ASCII (real Latin-1 text almost never is).

    encoding = reading_encoding(data, charset_of(content_type))  # None: the document's own
"""

from __future__ import annotations

import codecs
import functools
import re

from hub.errors import MalformedXML

# The XML declaration's encoding, after an optional UTF-8 byte order mark.
_DECLARATION = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """The charset a Content-Type names, if any."""
    found = _CHARSET.search(content_type or "")
    return found.group(1) if found else None


def declaration_encoding(data: bytes) -> str | None:
    """The encoding the XML declaration names, if the document starts with one."""
    found = _DECLARATION.match(data, 0, 256)
    return found.group(1).decode("ascii") if found else None


@functools.lru_cache(maxsize=64)  # the same few names on every request
def codec_name(name: str) -> str:
    """Python's one name for an encoding however it is spelt (``GB18030``, ``gb18030``)."""
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise MalformedXML(f"unknown character encoding {name!r}") from exc


def reading_encoding(data: bytes, charset: str | None) -> str | None:
    """The encoding the parser must be told to read ``data`` in, or None when the document's
    own declaration (or XML's default, UTF-8) says it; MalformedXML when the declarations
    disagree or the bytes are UTF-8 under a one-byte encoding's name."""
    declared = declaration_encoding(data)
    if charset and declared and codec_name(charset) != codec_name(declared):
        raise MalformedXML(
            f"the Content-Type says charset={charset} but the XML declaration says {declared}",
            detail="declare one encoding, or the same in both places",
        )
    named = declared or charset
    if named is not None:
        _refuse_mislabelled_utf8(data, named)
    return charset if charset and not declared else None


def _refuse_mislabelled_utf8(data: bytes, named: str) -> None:
    codec = codec_name(named)
    if codec == "utf-8" or data.isascii() or not _one_byte_per_character(codec):
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return  # not UTF-8: the declared one-byte encoding may well be right
    raise MalformedXML(
        f"the document is declared {named} but its bytes are UTF-8",
        detail="declare UTF-8, or send the text in the encoding declared",
    )


def _one_byte_per_character(codec: str) -> bool:
    # "é" in UTF-8 is two bytes: an encoding that reads them as two characters has one byte each.
    return len(b"\xc3\xa9".decode(codec, errors="replace")) == 2

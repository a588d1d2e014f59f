from __future__ import annotations

import pytest

from adapters.jsonparse import parse_object
from hub.errors import ClientError, MalformedJSON


def test_a_json_object_in_utf8_is_parsed() -> None:
    assert parse_object('{"name": "张三", "n": [1, {"a": null}]}'.encode()) == {
        "name": "张三",
        "n": [1, {"a": None}],
    }


@pytest.mark.parametrize("body", [b"{", b"", b'{"a": 1,}', b"{'a': 1}", b'{"a" 1}'])
def test_malformed_json_is_refused_as_a_client_error_with_its_fault_code(body: bytes) -> None:
    with pytest.raises(ClientError) as caught:  # what the API turns into a Client.* fault
        parse_object(body)
    assert caught.value.code == "Client.MalformedJSON"


def test_invalid_utf8_is_refused_with_the_byte_position() -> None:
    with pytest.raises(MalformedJSON, match=r"not valid UTF-8 \(byte 9\)"):
        parse_object('{"name":"张三"}'.encode("gb18030"))


def test_broken_json_names_the_line_and_column() -> None:
    with pytest.raises(MalformedJSON, match="not valid JSON") as caught:
        parse_object(b'{"a": 1,\n "b": }')
    assert caught.value.detail == "line 2 column 7"


@pytest.mark.parametrize("body", [b'"text"', b"42", b"null", b"true", b"[]"])
def test_anything_but_an_object_at_the_top_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedJSON, match="expected a JSON object"):
        parse_object(body)


def test_nesting_deeper_than_the_bound_is_refused() -> None:
    with pytest.raises(MalformedJSON, match="deeper than 8 levels"):
        parse_object(b'{"a":' * 9 + b"1" + b"}" * 9, max_depth=8)
    assert parse_object(b'{"a":' * 8 + b"1" + b"}" * 8, max_depth=8)


def test_hostile_nesting_that_would_exhaust_the_stack_is_refused() -> None:
    with pytest.raises(MalformedJSON, match="deeper than"):
        parse_object(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(MalformedJSON, match="duplicate key 'a'"):
        parse_object(b'{"a": 1, "a": 2}')


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_numbers_are_refused(constant: bytes) -> None:
    with pytest.raises(MalformedJSON, match="not a JSON number"):
        parse_object(b'{"a": ' + constant + b"}")

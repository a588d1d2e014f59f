"""A replay as a child of its message (hub/console/replay_history.py), on both databases: the
replays done are listed under the message (previews are not), and a replay's page holds what
it did to each leg, the leg's state now and only the attempts made since the replay."""

from __future__ import annotations

import io
import os

import pytest
import responses
from backends import FakeClock
from sqlalchemy import select
from test_operations_replay import (
    CONFIGURED,
    TAX_URL,
    failed_at_tax_delivered_at_social_security,
    handler,
    request,
)

from hub.console.replay_history import replay_child, replays_of
from hub.console.upload import parse_multipart
from hub.errors import BodyTooLarge, NotFound
from hub.operations.replay import replay
from hub.store import Store
from hub.store.models import OperatorActionRow


@responses.activate
def test_a_replay_done_is_a_child_of_its_message_with_the_attempts_since(
    store: Store, clock: FakeClock
) -> None:
    message_id, ids = failed_at_tax_delivered_at_social_security(store)
    replay(store, CONFIGURED, request(message_id, dry_run=True, reason=""))
    clock.advance(60)
    replay(store, CONFIGURED, request(message_id, reason="TAX is back"))
    responses.replace(responses.POST, TAX_URL, status=200, body="ok")
    assert handler(store).handle(ids["TAX"]) == "delivered"

    (child,) = replays_of(store, message_id)
    page = replay_child(store, str(child.replay_id))

    assert (page.message_id, page.actor, page.reason) == (message_id, "ops", "TAX is back")
    assert page.departments == ["TAX"]
    legs = {leg.department: leg for leg in page.legs}
    assert legs["SOCIAL_SECURITY"].note == "already delivered to SOCIAL_SECURITY, skipped"
    assert legs["TAX"].state_now == "delivered"
    assert [a.outcome for a in legs["TAX"].attempts_since] == ["delivered"]


@responses.activate
def test_a_preview_an_unknown_id_or_a_word_is_no_replay_page(store: Store) -> None:
    message_id, _ = failed_at_tax_delivered_at_social_security(store)
    replay(store, CONFIGURED, request(message_id, dry_run=True, reason=""))
    with store.engine.connect() as connection:
        preview_id = connection.execute(select(OperatorActionRow.id)).scalar_one()

    for wrong in (str(preview_id), "999999", "DROP TABLE"):
        with pytest.raises(NotFound, match="no replay"):
            replay_child(store, wrong)
    assert replays_of(store, message_id) == []


def multipart(data: bytes, boundary: str = "----govhubBoundary7") -> dict[str, object]:
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\ntoken\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="package"; filename="p.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }


def test_an_uploaded_file_arrives_byte_for_byte_whatever_line_ends_it_holds() -> None:
    data = os.urandom(200_000) + b"\r\n--\r\r\n\n\r" + os.urandom(1000)

    fields, files = parse_multipart(multipart(data))

    assert fields == {"csrf": "token"} and files["package"].filename == "p.zip"
    assert files["package"].data == data


def test_an_upload_over_the_limit_is_refused_before_it_is_read() -> None:
    environ = multipart(b"x")
    environ["CONTENT_LENGTH"] = str(100 * 1024 * 1024)

    with pytest.raises(BodyTooLarge, match="an upload is at most"):
        parse_multipart(environ)
    assert environ["wsgi.input"].tell() == 0  # type: ignore[attr-defined]

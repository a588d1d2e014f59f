"""While PostgreSQL is unreachable, Submit answers the typed Server.Unavailable fault, and the
hub says so in one log line for the outage, not a traceback per request."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from backends import fresh_postgresql_database
from hubstack import HubStack, header, marriage, running_hub
from tcp_cut import TcpCut, database_through_cut

pytestmark = pytest.mark.slow


@pytest.fixture
def cut_stack(tmp_path: Path) -> Iterator[tuple[HubStack, TcpCut]]:
    with (
        fresh_postgresql_database() as database_url,
        database_through_cut(database_url) as (through_cut, cut),
        running_hub(tmp_path, database_url=through_cut) as stack,
    ):
        yield stack, cut


def test_submit_answers_unavailable_with_one_line_per_outage(
    cut_stack: tuple[HubStack, TcpCut], caplog: pytest.LogCaptureFixture
) -> None:
    stack, cut = cut_stack
    client = stack.client()
    client.service.Submit(header=header(), message=marriage())  # the pool holds connections

    cut.cut()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="hub"):
        codes = []
        for _ in range(12):
            with pytest.raises(zeep.exceptions.Fault) as fault:
                client.service.Submit(header=header(), message=marriage())
            codes.append(fault.value.code.rpartition(":")[2])
        cut.mend()
        receipt = client.service.Submit(header=header(), message=marriage())

    assert codes == ["Server.Unavailable"] * 12
    assert receipt.state == "accepted"
    ours = [r for r in caplog.records if r.name.startswith("hub") and r.levelno >= logging.INFO]
    outage = [r.getMessage() for r in ours if r.name == "hub.outages"]
    assert len(outage) == 2, outage
    assert outage[0].startswith("the database is unavailable (OperationalError")
    assert outage[1].startswith("the database answers again after")
    assert not [r for r in ours if r.exc_info], "a traceback was logged"
    assert not [r for r in ours if r.levelno >= logging.ERROR], [r.getMessage() for r in ours]

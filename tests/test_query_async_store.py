"""QueryAsync's queries live in the store: GetQueryResult answers from another API process
(two hubs on one database), a query whose process died is answered after its deadline with
its sources as they stood, and expired queries are pruned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
import zeep
from deployment import deployed
from hubstack import HUSBAND_ID, HubStack, header, running_hub
from sqlalchemy import func, select, update
from zeep.exceptions import Fault

from hub.polling import wait_for
from hub.query.config import load_query_config
from hub.query.dossier import Dossier, Outcome
from hub.query.pending import ORPHANED, PendingQueries
from hub.query.record import QueryLog
from hub.query.sources import Fact
from hub.query.tables import query_async, query_async_answers
from hub.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture
def two_hubs(database_url: str, tmp_path: Path) -> Iterator[tuple[HubStack, HubStack]]:
    """Two API processes' worth of hub on one database, each with its own mocks."""
    settings = {"query_deadline_seconds": 2.0, "query_max_deadline_seconds": 3.0}
    with (
        running_hub(tmp_path / "a", database_url=database_url, **settings) as first,
        running_hub(tmp_path / "b", database_url=database_url, **settings) as second,
    ):
        yield first, second


def ask_async(stack: HubStack, *parts: str) -> str:
    query_id: str = stack.client().service.QueryAsync(
        header=header("Query", "TAX", purpose="tax assessment"),
        request={"subject": HUSBAND_ID, "part": list(parts)},
    )
    return query_id


def by_part(dossier: object) -> dict[str, object]:
    return {section.part: section for section in dossier.section}  # type: ignore[attr-defined]


def test_another_hub_process_answers_get_query_result(
    two_hubs: tuple[HubStack, HubStack],
) -> None:
    first, second = two_hubs
    registry = first.mocks.running["MARRIAGE_REGISTRY"].url
    record = {"idNumber": HUSBAND_ID, "topic": "maritalStatus", "value": "已婚"}
    record["asOf"] = "2026-05-20"
    requests.post(registry + "/query/records", json=record, timeout=5).raise_for_status()
    slow = {"slow": 0.4}
    requests.post(registry + "/_control/faults", json=slow, timeout=5).raise_for_status()

    query_id = ask_async(first, "maritalStatus")
    dossier = second.client().service.GetQueryResult(queryId=query_id)

    section = by_part(dossier)["maritalStatus"]
    assert section.source[0].status == "ok"  # type: ignore[attr-defined]
    assert section.value[0]._value_1 == "married"  # type: ignore[attr-defined]
    assert dossier.queryId == query_id


def test_a_query_whose_process_died_is_answered_with_its_sources_as_they_stood(
    two_hubs: tuple[HubStack, HubStack],
) -> None:
    _, survivor = two_hubs
    store = survivor.runtime.store
    config = load_query_config()
    now = datetime.now(UTC)
    # What a process that died mid-query leaves: the query, one source's answer, no end.
    dossier = Dossier("0b5e1b6e-5d1c-4c55-9d7e-3f4a3c2b1a00", HUSBAND_ID, "TAX", "audit", now)
    dossier.sections = [(config.parts["maritalStatus"], []), (config.parts["address"], [])]
    kept = PendingQueries(store)
    kept.open(dossier, deadline_at=now + timedelta(seconds=0.5))
    married = Outcome("MARRIAGE_REGISTRY", "ok", now, (Fact("married", date(2026, 5, 20)),))
    kept.answered(dossier.query_id, "maritalStatus", married)

    answer = survivor.client().service.GetQueryResult(queryId=dossier.query_id)

    sections = by_part(answer)
    marital, address = sections["maritalStatus"], sections["address"]
    assert marital.source[0].status == "ok"  # type: ignore[attr-defined]
    assert marital.value[0]._value_1 == "married"  # type: ignore[attr-defined]
    assert [(s.department, s.status, s.detail) for s in address.source] == [  # type: ignore[attr-defined]
        ("TAX", "timeout", ORPHANED),
        ("SOCIAL_SECURITY", "timeout", ORPHANED),
    ]
    assert answer.complete is False
    recorded = QueryLog(store).get(dossier.query_id)
    assert [a["status"] for a in recorded.answered] == ["ok", "timeout", "timeout"]


def test_expired_queries_are_pruned(two_hubs: tuple[HubStack, HubStack]) -> None:
    first, _ = two_hubs
    old = ask_async(first, "maritalStatus")
    first.client().service.GetQueryResult(queryId=old)
    with first.runtime.store.engine.begin() as connection:
        yesterday = datetime.now(UTC) - timedelta(days=1)
        connection.execute(
            update(query_async).where(query_async.c.id == old).values(expires_at=yesterday)
        )

    ask_async(first, "maritalStatus")  # each new query prunes the expired ones

    with pytest.raises(Fault) as gone:
        first.client().service.GetQueryResult(queryId=old)
    assert gone.value.code.endswith("Client.NotFound")


@pytest.mark.distributed
def test_a_query_outlives_its_api_process_killed_mid_query(tmp_path: Path) -> None:
    """`govhub serve` SIGKILLed while a source is still slow; a new one answers the query
    after its deadline: the source that had answered kept, the slow one marked."""
    with deployed(tmp_path) as deployment:
        deployment.start_api()
        mocks = deployment.mocks.running
        record = {"idNumber": HUSBAND_ID, "topic": "maritalStatus", "value": "已婚"}
        record["asOf"] = "2026-05-20"
        url = mocks["MARRIAGE_REGISTRY"].url + "/query/records"
        requests.post(url, json=record, timeout=5).raise_for_status()
        slow = mocks["SOCIAL_SECURITY"].url + "/_control/faults"
        requests.post(slow, json={"slow": 5.0}, timeout=5).raise_for_status()
        client = zeep.Client(f"{deployment.hub_url}/soap?wsdl")
        query_id = client.service.QueryAsync(
            header=header("Query", "TAX", purpose="tax assessment"),
            request={
                "subject": HUSBAND_ID,
                "part": ["maritalStatus", "socialInsurance"],
                "deadlineMillis": 3000,
            },
        )
        count = select(func.count()).select_from(query_async_answers)
        with deployment.store.engine.connect() as connection:
            assert wait_for(lambda: connection.execute(count).scalar() == 1, 5)

        assert deployment.api is not None
        deployment.kill(deployment.api)
        deployment.start_api()
        answer = zeep.Client(f"{deployment.hub_url}/soap?wsdl").service.GetQueryResult(
            queryId=query_id
        )

        sections = by_part(answer)
        marital, insured = sections["maritalStatus"], sections["socialInsurance"]
        assert marital.value[0]._value_1 == "married"  # type: ignore[attr-defined]
        assert [(s.status, s.detail) for s in insured.source] == [("timeout", ORPHANED)]  # type: ignore[attr-defined]


def test_a_source_answering_after_its_query_was_settled_changes_nothing(store: Store) -> None:
    kept, now = PendingQueries(store), datetime.now(UTC)
    dossier = Dossier("5f0c8f8e-2f4e-4a8a-9d57-1c1b8a6f7e10", HUSBAND_ID, "TAX", "audit", now)
    rule = load_query_config().parts["maritalStatus"]
    dossier.sections = [(rule, [])]
    kept.open(dossier, deadline_at=now)
    dossier.sections = [(rule, [Outcome("MARRIAGE_REGISTRY", "timeout", detail="late")])]
    kept.finish(dossier)

    late = Outcome("MARRIAGE_REGISTRY", "ok", now, (Fact("married", date(2026, 5, 20)),))
    kept.answered(dossier.query_id, "maritalStatus", late)

    settled = kept.read(dossier.query_id)
    assert settled.finished
    assert [(o.status, o.detail) for o in settled.dossier.sections[0][1]] == [("timeout", "late")]

"""Identity numbers are masked in log lines, fault texts and audit entries whatever surrounds
them: a letter glued on, a 15-digit legacy number, a 17-digit fragment."""

from __future__ import annotations

import io
import json
import logging
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.api.soap_protocol import fault_from
from hub.errors import ClientError
from hub.identity import make_number, mask_in_text
from hub.logs import MaskIdentityNumbers
from hub.security import audit
from hub.store import Store

NUMBER = make_number("11010519900307", "131")  # 110105199003071319
BIRTH_DATE = "19900307"
LEGACY = "110105900307131"  # region, YYMMDD, sequence
DIGEST = "0" * 20 + "a" + "1" * 43  # a SHA-256 holding a 43-digit run
AT = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)

runs = st.from_regex(r"\A[0-9]{14,17}[0-9X]\Z")
glue = st.text(alphabet=string.ascii_letters + string.punctuation + " ", max_size=6)


@given(before=glue, run=runs, after=glue)
def test_any_run_of_fifteen_to_eighteen_digits_is_masked_whatever_is_glued_to_it(
    before: str, run: str, after: str
) -> None:
    masked = mask_in_text(before + run + after)

    assert run not in masked
    # What a masked run keeps never reaches the seventh character (the birth date).
    assert run[6:] not in masked


@given(before=glue, after=glue)
def test_the_birth_date_of_a_full_number_never_shows(before: str, after: str) -> None:
    assert BIRTH_DATE not in mask_in_text(before + NUMBER + after)


def test_a_number_with_a_letter_glued_to_it_keeps_the_masked_form_of_a_bare_one() -> None:
    assert mask_in_text(f"key ID{NUMBER}A failed") == "key ID110105********1319A failed"


def test_a_legacy_fifteen_digit_number_shows_region_and_sequence_only() -> None:
    assert mask_in_text(f"legacy={LEGACY};") == "legacy=110105******131;"


def test_a_seventeen_digit_fragment_shows_only_its_first_six_digits() -> None:
    assert mask_in_text(f"[{NUMBER[:17]}]") == "[110105***********]"


def test_shorter_digit_runs_such_as_timestamps_stay_as_they_are() -> None:
    assert mask_in_text("took 12345678901234 ns") == "took 12345678901234 ns"


def test_a_log_line_with_a_glued_number_is_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskIdentityNumbers())
    logger = logging.getLogger(f"test.masking.{id(stream)}")
    logger.handlers[:], logger.propagate = [handler], False

    logger.warning("no person %sA at %s", NUMBER, LEGACY)

    assert NUMBER not in stream.getvalue() and LEGACY not in stream.getvalue()


def test_a_fault_text_with_a_glued_number_is_masked() -> None:
    fault = fault_from(ClientError(f"unknown person x{NUMBER}y", detail=f"idNumber={NUMBER}Z"))

    assert NUMBER not in fault.faultstring and NUMBER not in json.dumps(fault.detail)


@pytest.fixture
def audit_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    yield store
    store.dispose()


def test_an_audit_entry_masks_glued_numbers_and_keeps_the_hubs_digests_whole(
    audit_store: Store,
) -> None:
    with audit_store.engine.begin() as connection:
        audit.append(
            connection,
            actor=f"clerk-{NUMBER}",
            action=audit.REFUSED,
            subject=f"person {NUMBER}",
            at=AT,
            details={"reason": f"bad{NUMBER}A", "legacy": int(LEGACY), "canonical_sha256": DIGEST},
        )
        stored = next(audit.entries(connection))

    assert NUMBER not in stored.actor + stored.subject + stored.details
    assert LEGACY not in stored.details
    assert json.loads(stored.details)["canonical_sha256"] == DIGEST
    with audit_store.engine.connect() as connection:
        assert audit.verify(connection).ok

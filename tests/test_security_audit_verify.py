"""`govhub audit verify` names the FIRST edited entry, in the database's chain and against a
signed export, and trusts only the export key it is given (setting or --public-key), never the
key inside the archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_kit import add_entries, edit_and_rehash, rewrite_from, run_cli
from sqlalchemy import Engine

from hub.security import audit
from hub.security.export import export, load_signing_key, new_signing_key, public_pem

pytest_plugins = ["audit_fixtures"]  # the `engine` fixture


@pytest.fixture
def public_key(tmp_path: Path) -> Path:
    """The hub's export key pair: audit.key signs, audit.pub is the key the verifier trusts."""
    (tmp_path / "audit.pub").write_bytes(public_pem(new_signing_key(tmp_path / "audit.key")))
    return tmp_path / "audit.pub"


def signed_export(engine: Engine, archive: Path, key_file: Path) -> Path:
    with engine.connect() as connection:
        export(connection, archive, load_signing_key(key_file))
    return archive


def verify(engine: Engine) -> audit.ChainReport:
    with engine.connect() as connection:
        return audit.verify(connection)


def test_two_entries_edited_with_their_hashes_recomputed_name_the_first(engine: Engine) -> None:
    add_entries(engine, 10)
    edit_and_rehash(engine, 3, actor="TAX")
    edit_and_rehash(engine, 7, actor="TAX")
    report = verify(engine)
    assert report.broken_at == 3
    assert "entry 3 was edited" in (report.reason or "")


def test_a_chain_rewritten_after_two_edits_is_named_at_the_first_against_the_export(
    engine: Engine, tmp_path: Path, public_key: Path
) -> None:
    add_entries(engine, 10)
    archive = signed_export(engine, tmp_path / "a.zip", tmp_path / "audit.key")
    add_entries(engine, 2)
    rewrite_from(engine, 3, actor="TAX")
    rewrite_from(engine, 7, actor="TAX")
    assert verify(engine).ok  # the chain alone holds: only the export can tell

    result = run_cli(
        tmp_path, "audit", "verify", "--against", str(archive), "--public-key", str(public_key)
    )
    assert result.exit_code == 1, result.output
    assert "BROKEN at entry 3: entry 3 differs from the signed export a.zip" in result.output


def test_verify_against_an_export_refuses_without_a_trusted_public_key(
    engine: Engine, tmp_path: Path, public_key: Path
) -> None:
    add_entries(engine, 3)
    archive = signed_export(engine, tmp_path / "a.zip", tmp_path / "audit.key")
    result = run_cli(tmp_path, "audit", "verify", "--against", str(archive))
    assert result.exit_code == 2
    assert "--public-key" in result.output and "GOVHUB_AUDIT_PUBLIC_KEY_FILE" in result.output
    assert "intact" not in result.output


def test_an_export_forged_with_another_key_is_refused_with_the_configured_key(
    engine: Engine, tmp_path: Path, public_key: Path
) -> None:
    add_entries(engine, 5)
    rewrite_from(engine, 2, actor="TAX")
    new_signing_key(tmp_path / "attacker.key")
    forged = signed_export(engine, tmp_path / "forged.zip", tmp_path / "attacker.key")
    env = {"GOVHUB_AUDIT_PUBLIC_KEY_FILE": str(public_key)}
    result = run_cli(tmp_path, "audit", "verify", "--against", str(forged), env=env)
    assert result.exit_code == 1
    assert "signature does not verify" in result.output and "intact" not in result.output


def test_the_configured_public_key_verifies_a_genuine_export(
    engine: Engine, tmp_path: Path, public_key: Path
) -> None:
    add_entries(engine, 4)
    archive = signed_export(engine, tmp_path / "a.zip", tmp_path / "audit.key")
    env = {"GOVHUB_AUDIT_PUBLIC_KEY_FILE": str(public_key)}
    result = run_cli(tmp_path, "audit", "verify", "--against", str(archive), env=env)
    assert result.exit_code == 0, result.output
    assert "intact: 4 entries" in result.output

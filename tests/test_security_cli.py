"""`govhub credentials` and `govhub audit` through click, on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update

from hub.cli import main
from hub.security.encryption import new_key_text
from hub.security.tables import audit_log
from hub.store import Store


def run(tmp_path: Path, *args: str, code: int = 0) -> str:
    env = {"GOVHUB_DATA_DIR": str(tmp_path), "GOVHUB_ENCRYPTION_KEYS": new_key_text("k1")}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_issue_prints_the_secret_once_and_list_never_shows_it(tmp_path: Path) -> None:
    issued = json.loads(run(tmp_path, "credentials", "issue", "TAX", "--actor", "ops", "--json"))
    listed = run(tmp_path, "credentials", "list", "--json")
    assert issued["username"] == "TAX" and len(issued["secret"]) >= 40
    assert issued["secret"] not in listed
    assert json.loads(listed)[0]["state"] == "active"


def test_audit_verify_names_the_edited_entry_and_exits_1(tmp_path: Path) -> None:
    run(tmp_path, "credentials", "issue", "TAX", "--actor", "ops")
    run(tmp_path, "credentials", "rotate", "TAX", "--actor", "ops")
    assert json.loads(run(tmp_path, "audit", "verify", "--json"))["entries"] == 2
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    with store.engine.begin() as connection:
        connection.execute(update(audit_log).where(audit_log.c.seq == 1).values(actor="evil"))
    store.dispose()
    output = run(tmp_path, "audit", "verify", code=1)
    assert "BROKEN at entry 1" in output


def test_audit_export_writes_an_archive_that_verifies_with_the_public_key(
    tmp_path: Path,
) -> None:
    run(tmp_path, "credentials", "issue", "TAX", "--actor", "ops")
    public = run(tmp_path, "audit", "keygen", str(tmp_path / "audit.key"))
    (tmp_path / "audit.pub").write_text(public)
    key = str(tmp_path / "audit.key")
    run(tmp_path, "audit", "export", str(tmp_path / "a.zip"), "--signing-key", key)
    output = run(
        tmp_path,
        "audit",
        "verify-export",
        str(tmp_path / "a.zip"),
        "--public-key",
        str(tmp_path / "audit.pub"),
    )
    assert "valid, entries 1 to 1" in output
    against = ("--against", str(tmp_path / "a.zip"), "--public-key", str(tmp_path / "audit.pub"))
    assert "intact" in run(tmp_path, "audit", "verify", *against)

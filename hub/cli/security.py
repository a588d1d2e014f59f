"""`govhub audit …`, `govhub credentials …`, `govhub admins …` and `govhub payloads …`: verify
and export the audit log, issue, rotate, revoke and list department credentials, manage /admin
accounts, re-seal stored bodies. Secrets are printed once, never logged."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.cli.options import (
    actor_option,
    json_option,
    migrated_store,
    settings_options,
)
from hub.config import Settings
from hub.errors import ConfigurationError, HubError
from hub.security import audit
from hub.security.admins import PERMISSIONS, AdminStore
from hub.security.archive import archive_segment, verify_everything, verify_from_checkpoint
from hub.security.checkpoints import (
    Checkpoint,
    checkpoint_anchors,
    kept_seqs,
    load_checkpoints,
    take_checkpoint,
)
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.security.export import (
    export,
    export_anchors,
    load_public_key,
    load_signing_key,
    new_signing_key,
    public_pem,
    verify_export,
)
from hub.store.rehashing import rehash_identities
from hub.store.resealing import reseal_payloads


@contextmanager
def _credentials(options: dict[str, Any]) -> Iterator[CredentialStore]:
    with migrated_store(options) as (settings, store):
        yield CredentialStore(store.engine, keys=KeyRing.parse(settings.encryption_keys))


@contextmanager
def _admins(options: dict[str, Any]) -> Iterator[AdminStore]:
    with migrated_store(options) as (settings, store):
        yield AdminStore(store.engine, keys=KeyRing.parse(settings.encryption_keys))


@click.group("audit")
def audit_cli() -> None:
    """The hash-chained audit log: verify it, export it signed, checkpoint its head."""


_public_key_option = click.option(
    "--public-key",
    type=click.Path(exists=True, path_type=Path),
    help="The Ed25519 public key (PEM) you trust. [default: GOVHUB_AUDIT_PUBLIC_KEY_FILE]",
)


ARCHIVE_DIR = "audit-archive"
_archives_option = click.option(
    "--archives",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Where the archived segments are. [default: <data_dir>/{ARCHIVE_DIR}]",
)


@audit_cli.command("verify")
@settings_options
@json_option
@click.option(
    "--against",
    type=click.Path(exists=True, path_type=Path),
    help="A signed export: every entry in it must still be in the log unchanged.",
)
@_public_key_option
@click.option(
    "--from-checkpoint",
    "incremental",
    is_flag=True,
    help="Only the entries after the newest signed checkpoint (the routine check: seconds "
    "where the whole log takes minutes).",
)
@click.option(
    "--full",
    is_flag=True,
    help="From entry 1: every archived segment (signatures checked) and then the live table.",
)
@_archives_option
def verify_command(
    as_json: bool,
    against: Path | None,
    public_key: Path | None,
    incremental: bool,
    full: bool,
    archives: Path | None,
    **options: Any,
) -> None:
    """Check every live entry (since the last archive), and that the log reaches every kept
    checkpoint with its hash; exit 1 and name the first edited, inserted or deleted entry."""
    if incremental and full:
        raise click.UsageError("--from-checkpoint and --full exclude each other")
    with migrated_store(options) as (settings, store):
        anchors, checked = _checkpoint_anchors(settings, public_key)
        if against is not None:
            key = _trusted_key(settings, public_key, "--against", _NOT_THE_ARCHIVES)
            anchors |= export_anchors(against, key)
            checked.append(f"the signed export {against.name}")
        with store.engine.connect() as connection:
            if full:
                directory = archives or settings.data_dir / ARCHIVE_DIR
                key = _trusted_key(settings, public_key, "--full", _NOT_THE_ARCHIVES)
                report = verify_everything(connection, directory, key, anchors)
                checked.append(f"the archived segments in {directory}")
            elif incremental:
                report, since = verify_from_checkpoint(connection, _latest(settings, public_key))
                checked.append(since)
            else:
                report = audit.verify(connection, anchors=anchors)
    result = {**report.__dict__, "ok": report.ok, "checked_against": checked}
    if as_json:
        click.echo(json.dumps(result))
    elif report.ok:
        click.echo(f"audit log intact: {report.entries} entries, head {report.head_seq}")
        click.echo("checked against: " + "; ".join(checked))
    else:
        click.echo(f"audit log BROKEN at entry {report.broken_at}: {report.reason}")
    sys.exit(0 if report.ok else 1)


def _latest(settings: Settings, public_key: Path | None) -> Checkpoint | None:
    directory = settings.effective_audit_checkpoint_dir
    if not kept_seqs(directory):
        return None
    key = _trusted_key(settings, public_key, f"checking the checkpoints in {directory}")
    return load_checkpoints(directory, key)[-1]


def _checkpoint_anchors(
    settings: Settings, public_key: Path | None
) -> tuple[dict[int, audit.Anchor], list[str]]:
    """The kept checkpoints' hashes, each checked with the trusted key, and what was read."""
    directory = settings.effective_audit_checkpoint_dir
    if not kept_seqs(directory):
        return {}, [f"no checkpoint in {directory}"]
    key = _trusted_key(settings, public_key, f"checking the checkpoints in {directory}")
    kept = load_checkpoints(directory, key)
    return checkpoint_anchors(kept), [f"checkpoints kept: {len(kept)}, the latest {kept[-1].label}"]


_NOT_THE_ARCHIVES = " (the key inside an archive proves nothing: anyone can sign one)"


def _trusted_key(
    settings: Settings, given: Path | None, purpose: str, why: str = ""
) -> Ed25519PublicKey:
    """The public key from the command line or the settings; there is no other source."""
    path = given or (
        Path(settings.audit_public_key_file) if settings.audit_public_key_file else None
    )
    if path is None:
        raise click.UsageError(
            f"{purpose} needs the public key you trust: give --public-key or set "
            f"GOVHUB_AUDIT_PUBLIC_KEY_FILE{why}"
        )
    return load_public_key(path)


_signing_key_option = click.option(
    "--signing-key",
    type=click.Path(exists=True, path_type=Path),
    help="Ed25519 private key (PEM). [default: GOVHUB_AUDIT_SIGNING_KEY_FILE]",
)


def _signing_key_path(settings: Settings, given: Path | None) -> Path:
    path = given or (
        Path(settings.audit_signing_key_file) if settings.audit_signing_key_file else None
    )
    if path is None:
        raise click.UsageError("give --signing-key or set GOVHUB_AUDIT_SIGNING_KEY_FILE")
    return path


@audit_cli.command("export")
@settings_options
@json_option
@click.argument("archive", type=click.Path(path_type=Path))
@_signing_key_option
def export_command(archive: Path, signing_key: Path | None, as_json: bool, **options: Any) -> None:
    """Write every entry to ARCHIVE (zip: audit.jsonl, manifest.json, manifest.sig)."""
    with migrated_store(options) as (settings, store):
        key = load_signing_key(_signing_key_path(settings, signing_key))
        with store.engine.connect() as connection:
            manifest = export(connection, archive, key)
    click.echo(json.dumps(manifest.__dict__) if as_json else f"wrote {archive}: {manifest}")


@audit_cli.command("checkpoint")
@settings_options
@_signing_key_option
def checkpoint_command(signing_key: Path | None, **options: Any) -> None:
    """Write a signed checkpoint of the log's head now (the worker writes them as it grows)."""
    with migrated_store(options) as (settings, store):
        key = load_signing_key(_signing_key_path(settings, signing_key))
        directory = settings.effective_audit_checkpoint_dir
        path = take_checkpoint(store.engine, directory, key, keep=settings.audit_checkpoint_keep)
    unchanged = f"no new checkpoint: the log is empty or its head is the latest in {directory}"
    click.echo(f"wrote {path}" if path else unchanged)


@audit_cli.command("archive")
@settings_options
@json_option
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=0),
    required=True,
    help="Archive the entries written more than DAYS days ago.",
)
@_archives_option
@_signing_key_option
def archive_command(
    days: int, archives: Path | None, signing_key: Path | None, as_json: bool, **options: Any
) -> None:
    """Move old entries to a signed segment (zip, the export format) and out of the table; the
    live chain continues from the segment's last entry, kept signed as a checkpoint."""
    with migrated_store(options) as (settings, store):
        key = load_signing_key(_signing_key_path(settings, signing_key))
        segment = archive_segment(
            store.engine,
            archives or settings.data_dir / ARCHIVE_DIR,
            key,
            before=store.clock() - timedelta(days=days),
            checkpoint_dir=settings.effective_audit_checkpoint_dir,
        )
    if segment is None:
        click.echo(json.dumps(None) if as_json else f"nothing older than {days} days to archive")
        return
    summary = {
        "first_seq": segment.first_seq,
        "through_seq": segment.through_seq,
        "entries": segment.entries,
        "path": str(segment.path),
    }
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(
            f"archived entries {segment.first_seq} to {segment.through_seq} into {segment.path}"
        )


@audit_cli.command("verify-export")
@click.argument("archive", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(exists=True, path_type=Path),
    help="The Ed25519 public key (PEM) you trust; without it only integrity is checked.",
)
def verify_export_command(archive: Path, public_key: Path | None) -> None:
    """Check an export's signature, file hash and chain."""
    try:
        key = load_public_key(public_key) if public_key else None
        manifest = verify_export(archive, key)
    except HubError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{archive}: valid, entries {manifest.first_seq} to {manifest.last_seq}")


@audit_cli.command("keygen")
@click.argument("private_key", type=click.Path(path_type=Path))
def keygen_command(private_key: Path) -> None:
    """Create an Ed25519 signing key (mode 0600) and print its public key (PEM)."""
    click.echo(public_pem(new_signing_key(private_key)).decode("ascii"), nl=False)


@click.group("credentials")
def credentials_cli() -> None:
    """Department credentials: UsernameToken secrets and signing certificates."""


def _print_secret(issued: IssuedSecret, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({**_public(issued), "secret": issued.secret}))
        return
    click.echo(f"username:   {issued.username}\ndepartment: {issued.department}")
    click.echo(f"generation: {issued.generation}\nsecret:     {issued.secret}")
    click.echo("The secret is shown only now; give it to the department over a safe channel.")


def _public(issued: IssuedSecret) -> dict[str, Any]:
    return {
        "username": issued.username,
        "department": issued.department,
        "generation": issued.generation,
    }


@credentials_cli.command("issue")
@settings_options
@json_option
@actor_option
@click.argument("department")
@click.option("--username", help="Token username. [default: the department code]")
def issue_command(
    department: str, username: str | None, actor: str, as_json: bool, **options: Any
) -> None:
    """Issue a UsernameToken secret for DEPARTMENT; it is printed once."""
    with _credentials(options) as credentials:
        _print_secret(credentials.issue(department, username=username, actor=actor), as_json)


@credentials_cli.command("rotate")
@settings_options
@json_option
@actor_option
@click.argument("username")
def rotate_command(username: str, actor: str, as_json: bool, **options: Any) -> None:
    """Replace USERNAME's secret at once; the new one is printed once."""
    with _credentials(options) as credentials:
        _print_secret(credentials.rotate(username, actor=actor), as_json)


@credentials_cli.command("revoke")
@settings_options
@json_option
@actor_option
@click.argument("username")
def revoke_command(username: str, actor: str, as_json: bool, **options: Any) -> None:
    """Revoke USERNAME: its secret and certificate stop working at once."""
    with _credentials(options) as credentials:
        credential = credentials.revoke(username, actor=actor)
    click.echo(json.dumps(credential.as_json()) if as_json else f"revoked {username}")


@credentials_cli.command("certificate")
@settings_options
@json_option
@actor_option
@click.argument("department")
@click.argument("certificate", type=click.Path(exists=True, path_type=Path))
@click.option("--username", help="Credential username. [default: the department code]")
def certificate_command(
    department: str,
    certificate: Path,
    username: str | None,
    actor: str,
    as_json: bool,
    **options: Any,
) -> None:
    """Register DEPARTMENT's signing CERTIFICATE (PEM, public part only)."""
    with _credentials(options) as credentials:
        credential = credentials.set_certificate(
            department, certificate.read_bytes(), username=username, actor=actor
        )
    click.echo(json.dumps(credential.as_json()) if as_json else f"certificate set: {credential}")


@credentials_cli.command("list")
@settings_options
@json_option
@click.option("--department", help="Only this department.")
def list_command(department: str | None, as_json: bool, **options: Any) -> None:
    """List credentials: state, generation, certificate fingerprint; never a secret."""
    with _credentials(options) as credentials:
        rows = credentials.all(department)
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows]))
        return
    for row in rows:
        cert = row.certificate_sha256[:16] if row.certificate_sha256 else "-"
        click.echo(
            f"{row.username:24} {row.department:20} {row.state:8} g{row.generation} "
            f"digest={'yes' if row.digest_ready else 'no'} cert={cert}"
        )


@credentials_cli.command("new-key")
@click.argument("key_id")
def new_key_command(key_id: str) -> None:
    """Print a new encryption key entry, id=base64, to put first in GOVHUB_ENCRYPTION_KEYS."""
    click.echo(new_key_text(key_id))


@credentials_cli.command("reseal")
@settings_options
@actor_option
def reseal_command(actor: str, **options: Any) -> None:
    """Re-encrypt every stored secret with the first (current) encryption key."""
    with _credentials(options) as credentials:
        count = credentials.reseal(actor=actor)
    click.echo(f"resealed {count} secrets")


@click.group("payloads")
def payloads_cli() -> None:
    """Stored message bodies sealed at rest (GOVHUB_ENCRYPT_PAYLOADS)."""


@payloads_cli.command("reseal")
@settings_options
@actor_option
def payloads_reseal_command(actor: str, **options: Any) -> None:
    """Re-encrypt every stored body with the first (current) encryption key; with
    GOVHUB_ENCRYPT_PAYLOADS=true, plain bodies of older rows are sealed too."""
    with migrated_store(options) as (_, store):
        if store.payloads.keys is None:
            raise ConfigurationError("no encryption keys: set GOVHUB_ENCRYPTION_KEYS")
        report = reseal_payloads(store, actor=actor)
    click.echo(f"resealed the bodies of {report.messages} messages, {report.deliveries} deliveries")


@click.group("admins")
def admins_cli() -> None:
    """Accounts of the /admin SOAP API and their permissions (read, operate)."""


_permission_argument = click.argument("permissions", nargs=-1, type=click.Choice(PERMISSIONS))


@admins_cli.command("add")
@settings_options
@json_option
@actor_option
@click.argument("username")
@_permission_argument
def admins_add_command(
    username: str, permissions: tuple[str, ...], actor: str, as_json: bool, **options: Any
) -> None:
    """Add admin USERNAME with PERMISSIONS; its secret is printed once. Until the first
    account exists, /admin refuses every call."""
    with _admins(options) as admins:
        issued = admins.add(username, permissions, actor=actor)
    if as_json:
        click.echo(
            json.dumps(
                {"username": username, "permissions": sorted(permissions), "secret": issued.secret}
            )
        )
        return
    click.echo(f"username:    {username}\npermissions: {','.join(sorted(permissions)) or '-'}")
    click.echo(f"secret:      {issued.secret}")
    click.echo("The secret is shown only now; use it in a WS-Security UsernameToken on /admin.")


@admins_cli.command("grant")
@settings_options
@actor_option
@click.argument("username")
@click.argument("permissions", nargs=-1, required=True, type=click.Choice(PERMISSIONS))
def admins_grant_command(
    username: str, permissions: tuple[str, ...], actor: str, **options: Any
) -> None:
    """Give USERNAME the PERMISSIONS."""
    with _admins(options) as admins:
        account = admins.grant(username, permissions, actor=actor)
    click.echo(f"{username}: {','.join(account.permissions) or '-'}")


@admins_cli.command("revoke")
@settings_options
@actor_option
@click.argument("username")
@_permission_argument
def admins_revoke_command(
    username: str, permissions: tuple[str, ...], actor: str, **options: Any
) -> None:
    """Take PERMISSIONS from USERNAME; without any, revoke the account itself."""
    with _admins(options) as admins:
        account = admins.revoke(username, permissions, actor=actor)
    click.echo(f"{username}: {account.state}, {','.join(account.permissions) or '-'}")


@admins_cli.command("list")
@settings_options
@json_option
def admins_list_command(as_json: bool, **options: Any) -> None:
    """List admin accounts and permissions; never a secret."""
    with _admins(options) as admins:
        rows = admins.all()
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows]))
        return
    if not rows:
        click.echo("no admin account: /admin refuses every call until `govhub admins add`")
    for row in rows:
        click.echo(
            f"{row.username:24} {row.state:8} {','.join(row.permissions) or '-':14} "
            f"digest={'yes' if row.digest_ready else 'no'}"
        )


@click.group("identities")
def identities_cli() -> None:
    """The identity index (keyed hashes of the identity numbers messages name)."""


@identities_cli.command("rehash")
@settings_options
@actor_option
def identities_rehash_command(actor: str, **options: Any) -> None:
    """Rehash the index under the first (current) encryption key, after a key rotation,
    from the stored bodies; messages whose bodies were pruned keep their rows (found while
    their key stays in GOVHUB_ENCRYPTION_KEYS)."""
    with migrated_store(options) as (_, store):
        report = rehash_identities(store, actor=actor)
        key_id = store.identities.key_id
    click.echo(
        f"rehashed the identity numbers of {report.rehashed} messages under key {key_id}; "
        f"{report.unreadable} pruned or unreadable messages keep their rows"
    )

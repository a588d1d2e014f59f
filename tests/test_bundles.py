"""One-way transfer bundles (issue 15): two real hubs, each with its own database and mock
departments, joined only by files. A marriage entered on the internet-side hub reaches the
tax bureau on the intranet-side hub through a bundle, and the receipt bundle carried back
marks the leg delivered; every bad file is refused whole, with nothing imported."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
import requests
from backends import fresh_postgresql_database
from click.testing import CliRunner, Result
from hubstack import HubStack, header, marriage, running_hub
from sqlalchemy import func, select

from hub.bundle.format import read_bundle, write_bundle
from hub.bundle.import_only import import_only_app
from hub.bundle.importing import BundleImporter
from hub.bundle.tables import bundle_imports
from hub.cli import main
from hub.config import Settings
from hub.errors import BundleForAnotherNetwork, BundleRefused, BundleUnknownSigner
from hub.operations.replay import ReplayRequest, replay
from hub.polling import wait_for
from hub.resources import DEFAULTS_ROOT
from hub.security.export import load_signing_key, new_signing_key, public_pem
from hub.store.models import MessageRow
from hub.waitress_limits import ServerLimits
from hub.webserver import BackgroundServer

pytestmark = pytest.mark.slow
INTERNET, INTRANET = "internet", "intranet"


@dataclass
class Hubs:
    internet: HubStack  # the marriage registry and social security; tax is behind the gateway
    intranet: HubStack  # the tax bureau; the others are behind the gateway
    folder: Path


def bundled(text: str, code: str, network: str) -> str:
    """The departments file ``text`` with ``code`` reached through bundles to ``network``."""
    start = text.index(f"[{code}]")
    end = text.find("\n[", start + 1)
    end = len(text) if end < 0 else end
    section = re.sub(r"\noptions = \{[^\n]*\}", "", text[start:end])
    section = re.sub(
        r'adapter = "\w+"', f'adapter = "bundle"\noptions = {{ network = "{network}" }}', section
    )
    return text[:start] + section + text[end:]


def hub_folder(root: Path, name: str, behind: dict[str, str], trusts: str, key: Path) -> Path:
    folder = root / name
    folder.mkdir()
    text = (DEFAULTS_ROOT / "departments.toml").read_text(encoding="utf-8")
    for code, network in behind.items():
        text = bundled(text, code, network)
    (folder / "departments.toml").write_text(text, encoding="utf-8")
    routes = (DEFAULTS_ROOT / "routes.toml").read_text(encoding="utf-8")
    if name == INTERNET:  # here social security may send marriages too; the intranet says no
        routes = routes.replace(
            'senders = ["MARRIAGE_REGISTRY"]',
            'senders = ["MARRIAGE_REGISTRY", "SOCIAL_SECURITY"]',
            1,
        )
    (folder / "routes.toml").write_text(routes, encoding="utf-8")
    peer_key = root / f"{trusts}.pem"
    (folder / "peers.toml").write_text(
        f'[peers.{trusts}]\npublic_key_file = "{peer_key}"\n', encoding="utf-8"
    )
    return folder


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)]
)
def hubs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hubs]:
    """The internet-side hub on SQLite; the intranet-side one on SQLite or PostgreSQL."""
    root = tmp_path_factory.mktemp("bundles")
    for network in (INTERNET, INTRANET):  # each hub's key; the other hub holds its public half
        public = new_signing_key(root / f"{network}.key")
        (root / f"{network}.pem").write_bytes(public_pem(public))
    outside = hub_folder(root, INTERNET, {"TAX": INTRANET}, INTRANET, root / "internet.key")
    inside = hub_folder(
        root,
        INTRANET,
        {"MARRIAGE_REGISTRY": INTERNET, "SOCIAL_SECURITY": INTERNET},
        INTERNET,
        root / "intranet.key",
    )
    with ExitStack() as stack:
        database = ""
        if request.param == "postgresql":
            database = stack.enter_context(fresh_postgresql_database())
        internet = stack.enter_context(
            running_hub(outside, **_bundle_settings(outside, INTERNET, root))
        )
        intranet = stack.enter_context(
            running_hub(inside, database_url=database, **_bundle_settings(inside, INTRANET, root))
        )
        yield Hubs(internet, intranet, root)


def _bundle_settings(folder: Path, network: str, root: Path) -> dict[str, object]:
    return {
        "departments_file": folder / "departments.toml",
        "routes_file": folder / "routes.toml",
        "bundle_network": network,
        "bundle_peers_file": str(folder / "peers.toml"),
        "audit_signing_key_file": str(root / f"{network}.key"),
    }


def govhub(stack: HubStack, *args: str) -> Result:
    """`govhub bundle …` on this hub's database, bus queues and settings."""
    return CliRunner().invoke(main, ["bundle", *args], env=_env(stack))


def _env(stack: HubStack) -> dict[str, str]:
    settings = stack.runtime.settings
    return {f"GOVHUB_{f.name.upper()}": str(getattr(settings, f.name)) for f in fields(Settings)}


def legs(stack: HubStack, message_id: str) -> dict[str, str]:
    status = stack.runtime.store.message_status(message_id)
    return {d.department: d.state for d in status.deliveries}


def submitted_outside(hubs: Hubs) -> tuple[str, str]:
    """A marriage submitted on the internet-side hub, once its tax leg waits for a bundle."""
    sent = header()
    receipt = hubs.internet.client().service.Submit(header=sent, message=marriage())
    message_id = str(receipt.messageId)
    assert wait_for(
        lambda: (
            legs(hubs.internet, message_id) == {"SOCIAL_SECURITY": "delivered", "TAX": "waiting"}
        ),
        20,
    ), legs(hubs.internet, message_id)
    return message_id, sent["idempotencyKey"]


def imported_count(stack: HubStack) -> tuple[int, int]:
    """(bundles in the ledger, messages stored)."""
    with stack.runtime.store.engine.connect() as connection:
        bundles = connection.execute(select(func.count()).select_from(bundle_imports)).scalar()
        messages = connection.execute(select(func.count()).select_from(MessageRow)).scalar()
    return int(bundles or 0), int(messages or 0)


def exported(hubs: Hubs, name: str, *extra: str) -> Path:
    path = hubs.folder / name
    result = govhub(hubs.internet, "export", "--to", INTRANET, *extra, str(path))
    assert result.exit_code == 0, result.output
    return path


def importer(stack: HubStack) -> BundleImporter:
    runtime = stack.runtime
    return BundleImporter(
        runtime.settings, runtime.store, runtime.ingress, runtime.departments, runtime.publisher
    )


def test_a_bundle_carries_a_message_across_and_its_receipt_marks_the_leg_delivered(
    hubs: Hubs,
) -> None:
    message_id, key = submitted_outside(hubs)
    bundle = exported(hubs, "across.bundle")

    taken = govhub(hubs.intranet, "import", str(bundle), "--receipt", str(hubs.folder / "back"))
    assert taken.exit_code == 0, taken.output
    assert "1 accepted" in taken.output

    # Routed and delivered inside as if the registry had sent it there: same sender and key.
    inside = hubs.intranet.wait_settled(message_id)
    assert {d.department: d.state for d in inside.deliveries} == {
        "TAX": "delivered",
        "SOCIAL_SECURITY": "waiting",  # behind the gateway from this side: waits for a bundle
    }
    held = hubs.intranet.runtime.store.find_message_id("MARRIAGE_REGISTRY", key)
    assert held == message_id
    assert legs(hubs.internet, message_id)["TAX"] == "waiting"  # until the receipt comes back
    traced = CliRunner().invoke(main, ["trace", message_id], env=_env(hubs.internet))
    assert "TAX waiting: not acknowledged yet (mailbox or bundle receipt)" in traced.stdout

    back = govhub(hubs.internet, "import", str(hubs.folder / "back"))
    assert back.exit_code == 0, back.output
    assert "1 delivered" in back.output
    assert legs(hubs.internet, message_id) == {"SOCIAL_SECURITY": "delivered", "TAX": "delivered"}
    status = hubs.internet.runtime.store.message_status(message_id)
    assert status.state == "delivered"

    # The other way: the intranet's social security leg travels out; the internet hub holds
    # that message already (its own), so it is a repeat there, and no loop; its receipt
    # settles the leg inside.
    outward, answer = hubs.folder / "outward.bundle", hubs.folder / "answer.bundle"
    assert govhub(hubs.intranet, "export", "--to", INTERNET, str(outward)).exit_code == 0
    taken = govhub(hubs.internet, "import", "--json", str(outward), "--receipt", str(answer))
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.stdout)["counts"] == {"accepted": 0, "repeats": 1, "refused": 0}
    assert govhub(hubs.intranet, "import", str(answer)).exit_code == 0
    assert legs(hubs.intranet, message_id) == {"TAX": "delivered", "SOCIAL_SECURITY": "delivered"}


def test_a_message_the_other_hub_refuses_comes_back_in_the_receipt_as_a_failed_leg(
    hubs: Hubs,
) -> None:
    sent = header(sender="SOCIAL_SECURITY")
    receipt = hubs.internet.client().service.Submit(header=sent, message=marriage())
    message_id = str(receipt.messageId)
    assert wait_for(lambda: legs(hubs.internet, message_id) == {"TAX": "waiting"}, 20)
    bundle = exported(hubs, "refused.bundle")

    back = hubs.folder / "refused.receipt"
    taken = govhub(hubs.intranet, "import", "--json", str(bundle), "--receipt", str(back))
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.stdout)["counts"]["refused"] == 1
    assert (
        hubs.intranet.runtime.store.find_message_id("SOCIAL_SECURITY", sent["idempotencyKey"])
        is None
    )

    assert govhub(hubs.internet, "import", str(back)).exit_code == 0
    status = hubs.internet.runtime.store.message_status(message_id)
    (leg,) = status.deliveries
    assert (leg.department, leg.state) == ("TAX", "failed")
    assert "may not send MarriageRegistered" in (leg.last_error or "")

    # Replayed once the other side is fixed, the leg waits again and the next bundle carries it.
    asked = ReplayRequest(actor="ops-wu", reason="intranet routes fixed", message_ids=(message_id,))
    replay(hubs.internet.runtime.store, set(hubs.internet.runtime.departments.codes()), asked)
    assert wait_for(lambda: legs(hubs.internet, message_id) == {"TAX": "waiting"}, 20)
    carried = read_bundle(exported(hubs, "replayed.bundle"), _internet_key(hubs)).entries.values()
    assert [json.loads(entry)["header"]["messageId"] for entry in carried] == [message_id]


PACKAGE = """code = "PROVINCE_TAX"
name = "Provincial tax bureau (behind the gateway)"
adapter = "bundle"
endpoint = "bundle:intranet"
{options}

[[routes]]
receives = "MarriageRegistered"
when = {{ path = "c:registrationOffice", prefix = "320102" }}
"""


def test_a_department_package_behind_the_gateway_registers_without_mappings_and_its_legs_travel(
    hubs: Hubs, tmp_path: Path
) -> None:
    package = tmp_path / "PROVINCE_TAX"
    package.mkdir()
    (package / "department.toml").write_text(PACKAGE.format(options=""), encoding="utf-8")
    refused = CliRunner().invoke(
        main, ["departments", "check", str(package)], env=_env(hubs.internet)
    )
    assert refused.exit_code != 0
    assert 'adapter "bundle" needs options = { network = "NAME" }' in refused.output

    options = 'options = { network = "intranet" }'
    (package / "department.toml").write_text(PACKAGE.format(options=options), encoding="utf-8")
    registered = CliRunner().invoke(
        main,
        ["departments", "register", str(package), "--actor", "admin-li"],
        env=_env(hubs.internet),
    )
    assert registered.exit_code == 0, registered.output
    assert wait_for(
        lambda: (
            "PROVINCE_TAX" in hubs.internet.runtime.routes.route("MarriageRegistered").receivers
        ),
        20,
    )

    sent = hubs.internet.client().service.Submit(
        header=header(), message=marriage(registrationOffice="320102")
    )
    message_id = str(sent.messageId)
    assert wait_for(lambda: legs(hubs.internet, message_id).get("PROVINCE_TAX") == "waiting", 20)
    bundle = exported(hubs, "province.bundle")
    (entry,) = read_bundle(bundle, _internet_key(hubs)).entries.values()
    assert sorted(json.loads(entry)["legs"].values()) == ["PROVINCE_TAX", "TAX"]


def test_govhub_serve_import_only_serves_probes_and_nothing_writable(tmp_path: Path) -> None:
    env = {**os.environ, "GOVHUB_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "hub", "serve", "--import-only", "--port", "0"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "(import-only)" in line, line
        url = re.search(r"http://[\d.:]+", line)
        assert url is not None
        assert requests.get(f"{url[0]}/health", timeout=5).status_code == 200
        assert requests.post(f"{url[0]}/soap", data=b"<x/>", timeout=5).status_code == 404
        assert requests.get(f"{url[0]}/console/", timeout=5).status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_bundle_imported_twice_is_refused_as_a_duplicate_and_nothing_changes(hubs: Hubs) -> None:
    submitted_outside(hubs)
    bundle = exported(hubs, "twice.bundle")
    assert govhub(hubs.intranet, "import", str(bundle)).exit_code == 0
    before = imported_count(hubs.intranet)

    again = govhub(hubs.intranet, "import", str(bundle))
    assert again.exit_code == 1
    assert "Client.BundleDuplicate" in again.output and "imported already" in again.output
    assert imported_count(hubs.intranet) == before


def test_a_message_carried_again_is_a_repeat_and_is_acknowledged_again(hubs: Hubs) -> None:
    message_id, _ = submitted_outside(hubs)
    first = exported(hubs, "first.bundle")
    assert govhub(hubs.intranet, "import", str(first)).exit_code == 0  # its receipt is lost
    _, messages = imported_count(hubs.intranet)
    number = read_bundle(first, _internet_key(hubs)).manifest.sequence

    again = exported(hubs, "again.bundle", "--since", str(number))
    result = govhub(
        hubs.intranet, "import", "--json", str(again), "--receipt", str(hubs.folder / "r2")
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert counts["repeats"] >= 1 and counts["accepted"] == 0
    assert imported_count(hubs.intranet)[1] == messages  # nothing stored twice
    assert govhub(hubs.internet, "import", str(hubs.folder / "r2")).exit_code == 0
    assert legs(hubs.internet, message_id)["TAX"] == "delivered"


def test_every_single_flipped_byte_and_every_cut_is_refused_with_nothing_imported(
    hubs: Hubs,
) -> None:
    submitted_outside(hubs)
    bundle = exported(hubs, "whole.bundle")
    data = bundle.read_bytes()
    before = imported_count(hubs.intranet)
    damaged = hubs.folder / "damaged.bundle"
    into = importer(hubs.intranet)
    for position in range(len(data)):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        damaged.write_bytes(bytes(flipped))
        with pytest.raises(BundleRefused):
            into.import_file(damaged)
    for length in (0, 10, len(data) // 2, len(data) - 100, len(data) - 1):
        damaged.write_bytes(data[:length])
        with pytest.raises(BundleRefused, match=r"truncated|damaged"):
            into.import_file(damaged)
    assert imported_count(hubs.intranet) == before

    result = govhub(hubs.intranet, "import", str(damaged))
    assert result.exit_code == 1 and "Client.BundleInvalid" in result.output
    assert govhub(hubs.intranet, "import", str(bundle)).exit_code == 0  # the good one still is


def test_a_bundle_signed_with_an_unknown_key_is_refused(hubs: Hubs) -> None:
    submitted_outside(hubs)
    genuine = read_bundle(exported(hubs, "genuine.bundle"), _internet_key(hubs))
    stranger = hubs.folder / "stranger.key"
    new_signing_key(stranger)
    forged = hubs.folder / "forged.bundle"
    heading = _heading(genuine.manifest.__dict__)
    write_bundle(forged, heading, genuine.entries, load_signing_key(stranger))
    before = imported_count(hubs.intranet)

    result = govhub(hubs.intranet, "import", str(forged))
    assert result.exit_code == 1
    assert "Client.BundleUnknownSigner" in result.output and "not with the" in result.output
    write_bundle(
        forged, {**heading, "from": "darknet"}, genuine.entries, load_signing_key(stranger)
    )
    with pytest.raises(BundleUnknownSigner, match="darknet"):
        importer(hubs.intranet).import_file(forged)
    assert imported_count(hubs.intranet) == before


def test_a_bundle_for_another_network_is_refused(hubs: Hubs) -> None:
    submitted_outside(hubs)
    genuine = read_bundle(exported(hubs, "misrouted.bundle"), _internet_key(hubs))
    elsewhere = hubs.folder / "elsewhere.bundle"
    heading = {**_heading(genuine.manifest.__dict__), "to": "dmz"}
    key = load_signing_key(hubs.folder / "internet.key")
    write_bundle(elsewhere, heading, genuine.entries, key)
    before = imported_count(hubs.intranet)
    with pytest.raises(BundleForAnotherNetwork, match=r"'dmz'.*'intranet'"):
        importer(hubs.intranet).import_file(elsewhere)
    result = govhub(hubs.intranet, "import", str(elsewhere))
    assert result.exit_code == 1 and "Client.BundleForAnotherNetwork" in result.output
    assert imported_count(hubs.intranet) == before


def test_a_gap_in_sequence_numbers_is_imported_with_a_warning_naming_the_missing_one(
    hubs: Hubs,
) -> None:
    submitted_outside(hubs)
    lost = exported(hubs, "lost.bundle")  # never arrives
    submitted_outside(hubs)
    later = exported(hubs, "later.bundle")
    lost_number = read_bundle(lost, _internet_key(hubs)).manifest.sequence

    result = govhub(hubs.intranet, "import", "--json", str(later))
    assert result.exit_code == 0, result.output
    imported = json.loads(result.stdout)
    assert imported["counts"]["accepted"] == 1
    # (the module's earlier tests forged or misrouted some numbers: they are missing too)
    assert lost_number in imported["missing"]
    warning = f"warning: bundle number {lost_number + 1} from internet: never imported before it:"
    assert warning in result.stderr
    assert str(lost_number) in result.stderr.split(warning)[1].splitlines()[0]

    # `govhub bundle list`: the outside wrote the lost one; the inside knows what it missed.
    written = json.loads(govhub(hubs.internet, "list", "--json").stdout)
    assert {"direction": "export", "network": INTRANET, "sequence": lost_number}.items() <= next(
        row for row in written if row["sequence"] == lost_number and row["kind"] == "messages"
    ).items()
    (taken,) = [
        row
        for row in json.loads(govhub(hubs.intranet, "list", "--json").stdout)
        if row["bundle_id"] == imported["bundle_id"]
    ]
    assert taken["direction"] == "import" and taken["network"] == INTERNET
    assert lost_number in taken["summary"]["missing"] and taken["summary"]["accepted"] == 1
    shown = govhub(hubs.intranet, "list").stdout
    assert f"#{lost_number + 1}" in shown and imported["bundle_id"] in shown


def test_import_only_serve_answers_probes_and_nothing_writable(hubs: Hubs) -> None:
    runtime = hubs.intranet.runtime
    limits = ServerLimits.from_settings(runtime.settings)
    server = BackgroundServer(import_only_app(runtime), "127.0.0.1", 0, limits=limits)
    server.start()
    try:
        assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
        assert requests.get(f"{server.url}/ready", timeout=10).status_code in (200, 503)
        assert requests.get(f"{server.url}/metrics", timeout=5).status_code == 200
        for path in ("/soap", "/soap?wsdl", "/admin", "/console/", "/native/TAX", "/"):
            assert requests.get(f"{server.url}{path}", timeout=5).status_code == 404, path
            assert requests.post(f"{server.url}{path}", data=b"<x/>", timeout=5).status_code == 404
        assert requests.post(f"{server.url}/health", timeout=5).status_code == 405
    finally:
        server.stop()


def _internet_key(hubs: Hubs) -> dict[str, object]:
    return {INTERNET: load_signing_key(hubs.folder / "internet.key").public_key()}


def _heading(manifest: dict[str, object]) -> dict[str, object]:
    return {
        "bundle_id": manifest["bundle_id"],
        "kind": manifest["kind"],
        "from": manifest["sender_network"],
        "to": manifest["network"],
        "sequence": manifest["sequence"],
        "made_at": manifest["made_at"],
    }

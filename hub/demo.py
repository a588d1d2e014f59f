"""`govhub demo`: the once-only scenario end to end, on the embedded default.

The hub and four mock departments start in this process (SQLite, memory:// bus). A clerk at
the marriage registry registers a marriage once; the demo shows it arriving, translated, at
social security and tax. Then a clerk at tax records an address change; it arrives at the
other two. Each leg's state is printed from the hub's own store. Then clerks file cases and
the supervision pass, on a demo clock, sends the supervision office a yellow light and a red
card (hub/supervision/demo.py).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from hub.config import DEFAULT_PORT, Settings
from hub.errors import NotFound
from hub.identity import make_number, mask_in_text
from hub.node.demo import node_scenario, with_demo_keys
from hub.polling import wait_for
from hub.runtime import HubRuntime
from hub.store import MessageStatus, delivery_key
from hub.supervision.demo import demo_calendar, supervision_scenario
from hub.waitress_limits import ServerLimits
from hub.webserver import BackgroundServer, check_can_listen
from mock_departments.people import Person
from mock_departments.runner import DEFAULT_PORTS, MockDepartments, start_mock_departments

Echo = Callable[[str], None]
WAIT_SECONDS = 30.0
EXCERPT_CHARS = 240

HUSBAND = Person("张伟", make_number("11010519900307", "131"))
WIFE = Person("王芳", make_number("11010819920815", "242"))


def run_demo(settings: Settings, *, once: bool, fresh: bool, echo: Echo) -> int:
    for port in (settings.port, *_mock_ports(settings.port).values()):
        check_can_listen(settings.host, port)  # before anything starts or is deleted
    data_dir = settings.data_dir / "demo"
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    hub_url = f"http://{settings.host}:{settings.port}"
    mocks = start_mock_departments(
        data_dir=data_dir,
        host=settings.host,
        ports=_mock_ports(settings.port),
        hub_url=hub_url,
        retry_seconds=0.5,
    )
    endpoints = ",".join(f"{code}={url}" for code, url in mocks.endpoints().items())
    # The worker's own supervision pass is off: the demo runs its pass on a demo clock, days
    # ahead, and a pass at the real time would close those signals again.
    settings = replace(
        settings,
        data_dir=data_dir,
        department_endpoints=endpoints,
        supervision_evaluate_seconds=0,
    )
    settings = demo_calendar(settings, data_dir, echo)
    settings = with_demo_keys(settings, data_dir)  # the county office's node has credentials
    runtime = HubRuntime(settings)
    runtime.store.upgrade()
    runtime.start_workers()
    limits = ServerLimits.from_settings(settings)
    server = BackgroundServer(
        runtime.wsgi_app(), settings.host, settings.port, limits=limits
    ).start()
    for run in mocks.running.values():  # port 0: the clerks learn the port the hub got
        run.department.hub_url = server.url
    try:
        _introduce(echo, server.url, mocks, data_dir)
        behind_node = lambda: node_scenario(runtime, mocks, server.url, data_dir, echo)  # noqa: E731
        ok = _scenario(runtime, mocks, echo, behind_node)
        if once:
            return 0 if ok else 1
        echo(
            "\nStill serving (Ctrl-C to stop). Try the SOAP API at "
            f"{server.url}/soap?wsdl, or `govhub mock-departments show TAX --data-dir {data_dir}`."
        )
        _wait_for_interrupt()
        return 0
    finally:
        server.stop()
        runtime.close()
        mocks.stop()


_CODES = ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX", "SUPERVISION")


def _mock_ports(hub_port: int) -> dict[str, int]:
    """Each mock as far after the hub's port as its default is after 8700 (8701, 8702, 8703,
    8705 by default); with hub port 0 (any free one), any free ones too."""
    if hub_port == 0:
        return dict.fromkeys(_CODES, 0)
    return {code: hub_port + DEFAULT_PORTS[code] - DEFAULT_PORT for code in _CODES}


def _introduce(echo: Echo, hub_url: str, mocks: MockDepartments, data_dir: object) -> None:
    echo(f"govhub demo: hub at {hub_url}/soap, data in {data_dir}")
    for code in _CODES:
        echo(f"  mock {code:<18} {mocks.url(code)}")


def _scenario(
    runtime: HubRuntime, mocks: MockDepartments, echo: Echo, behind_node: Callable[[], bool]
) -> bool:
    echo("\n1. A clerk at the marriage registry registers a marriage, once.")
    number = mocks.marriage_registry.register_marriage(
        HUSBAND, WIFE, day=date(2026, 5, 20), office="110105"
    )
    echo(f"   registration {number}: pushed to the hub as SOAP 1.1, GB18030, YYYYMMDD dates")
    first = _follow(runtime, mocks, "MARRIAGE_REGISTRY", number, echo)

    echo("\n2. A clerk at the tax bureau records the husband's new address, once.")
    change = mocks.tax.record_address_change(
        HUSBAND, region_code="110108", line="海淀区中关村大街27号", effective=date(2026, 6, 1)
    )
    echo(f"   change {change}: pushed to the hub as JSON (camelCase, ISO 8601 with zone)")
    second = _follow(runtime, mocks, "TAX", change, echo)

    third = supervision_scenario(
        runtime, mocks, echo, lambda sender, key: _follow(runtime, mocks, sender, key, echo)
    )

    fourth = behind_node()
    ok = first and second and third and fourth
    echo(
        "\n"
        + (
            "Every leg arrived: entered once, delivered to every department that needs it."
            if ok
            else "Some legs did not arrive; see the states above."
        )
    )
    return ok


def _follow(runtime: HubRuntime, mocks: MockDepartments, sender: str, key: str, echo: Echo) -> bool:
    message_id = wait_for(lambda: runtime.store.find_message_id(sender, key), WAIT_SECONDS)
    if message_id is None:
        echo("   the hub did not receive it (is the port free?)")
        return False
    status = wait_for(lambda: _settled(runtime.store.message_status(message_id)), WAIT_SECONDS)
    status = status or runtime.store.message_status(message_id)
    echo(f"   hub message {message_id} ({status.message_type}): {status.state}")
    for leg in status.deliveries:
        mark = "✓" if leg.state == "delivered" else "✗"
        echo(
            f"   {mark} {leg.department:<18} {leg.state}, {leg.attempts} attempt(s)"
            + (f", last error: {leg.last_error}" if leg.last_error else "")
        )
        record = _received(mocks, leg.department, delivery_key(message_id, leg.department))
        if record:
            echo(f"     it holds, in its own format: {record}")
    return status.state == "delivered"


def _settled(status: MessageStatus) -> MessageStatus | None:
    return status if status.state in ("delivered", "failed") else None


def _received(mocks: MockDepartments, code: str, key: str) -> str | None:
    store = mocks.running[code].department.store
    try:
        record = store.get(key)
    except NotFound:
        return None
    flat = " ".join(record.payload.split())
    excerpt = flat[:EXCERPT_CHARS] + ("…" if len(flat) > EXCERPT_CHARS else "")
    return f"({record.encoding}) {mask_in_text(excerpt)}"


def _wait_for_interrupt() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()

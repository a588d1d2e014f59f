"""Batch intake: 10,000 rows of one workbook checked and sent (`govhub batch submit`, one
process, timed from its start; and SubmitBatch on /soap, one request to the running hub)
against single Submit calls of the same records to `govhub serve` (the baseline, in the
same run, on the same embedded database); and the
memory a check takes for a quarter of the rows and for all of them (read streaming, it
should not grow with the rows). --quick: 500 rows.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from openpyxl import Workbook

from bench import messages
from bench.load import closed_loop
from bench.processes import Fleet
from bench.setups import embedded
from bench.stats import ratio
from hub.batch import check_file, layout_for
from hub.schemas import SchemaRegistry


def run(options: Any) -> dict[str, Any]:
    rows = 500 if options.quick else 10_000
    workbook = write_workbook(options.work / "batch.xlsx", rows, first_serial=rows)
    with Fleet(options.work / "logs" / "batch") as fleet, embedded(options.work) as env:
        _, url = fleet.hub("batch", env, "--no-workers")
        singles = [messages.submit(0, serial) for serial in range(rows)]
        baseline = closed_loop(url, singles, concurrency=options.concurrency, seconds=3600)
        seconds = _submit_batch(workbook, env)
        soap_workbook = write_workbook(options.work / "soap.xlsx", rows, first_serial=2 * rows)
        soap_seconds = _soap_submit_batch(url, soap_workbook, rows)
    per_second, soap_per_second = rows / seconds, rows / soap_seconds
    return {
        "name": "batch",
        "what": f"{rows} rows checked and sent as one batch against single Submits",
        "rows": [
            {"how": "single Submits (baseline)", "records": baseline.ok,
             "per_second": round(baseline.per_second, 1), "ratio": 1.0,
             "failed": baseline.failed, "first_failure": baseline.first_failure[:300]},
            {"how": "govhub batch submit", "records": rows, "per_second": round(per_second, 1),
             "ratio": ratio(per_second, baseline.per_second)},
            {"how": "SubmitBatch on /soap (one request)", "records": rows,
             "per_second": round(soap_per_second, 1),
             "ratio": ratio(soap_per_second, baseline.per_second)},
            *_memory(options.work, rows),
        ],
    }  # fmt: skip


def write_workbook(path: Path, rows: int, first_serial: int = 0) -> Path:
    """A batch of ``rows`` marriages (the benchmark's records), written streaming."""
    layout = layout_for("MarriageRegistered")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("MarriageRegistered")
    sheet.append([c.header("zh") for c in layout.columns])
    for serial in range(first_serial, first_serial + rows):
        sheet.append(_row(serial))
    book.save(path)
    return path


def _row(serial: int) -> list[object]:
    from datetime import date

    return [
        f"J110105-{serial:08d}", date(2026, 5, 20), "110105", messages.HUSBAND, "张伟", "1",
        date(1990, 3, 7), messages.WIFE, "王芳", "2", date(1992, 8, 15), "20",
    ]  # fmt: skip


def _submit_batch(workbook: Path, env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "hub", "batch", "submit", str(workbook)]
    command += ["--sender", "MARRIAGE_REGISTRY", "--actor", "bench"]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "0 already sent" not in done.stdout:
        raise RuntimeError(f"batch submit failed: {done.stdout[-300:]} {done.stderr[-300:]}")
    return seconds


_SUBMIT_BATCH = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:h="urn:govhub:hub:1"><soapenv:Body><h:SubmitBatch><h:sender>MARRIAGE_REGISTRY</h:sender>
<h:fileName>{name}</h:fileName><h:content>{content}</h:content></h:SubmitBatch></soapenv:Body>
</soapenv:Envelope>"""


def _soap_submit_batch(url: str, workbook: Path, rows: int) -> float:
    content = base64.b64encode(workbook.read_bytes()).decode("ascii")
    body = _SUBMIT_BATCH.format(name=workbook.name, content=content).encode()
    started = time.perf_counter()
    answer = requests.post(
        f"{url}/soap", data=body, headers={"Content-Type": "text/xml"}, timeout=3600
    )
    seconds = time.perf_counter() - started
    sent = etree.fromstring(answer.content).findtext(".//{urn:govhub:hub:1}sent")
    if answer.status_code != 200 or sent != str(rows):
        raise RuntimeError(f"SubmitBatch failed: {answer.status_code} {answer.text[:300]}")
    return seconds


def _memory(work: Path, rows: int) -> list[dict[str, Any]]:
    """Peak Python memory of checking a quarter of the rows, then all of them."""
    layout, schemas = layout_for("MarriageRegistered"), SchemaRegistry()
    check_file(write_workbook(work / "warm-up.xlsx", 10), layout, schemas)  # schemas loaded
    measured = []
    for count in (rows // 4, rows):
        path = write_workbook(work / f"memory-{count}.xlsx", count)
        tracemalloc.start()
        report = check_file(path, layout, schemas)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert report.passed == count, report.failures[:3]
        measured.append({"how": f"check, peak memory ({count} rows)", "records": count,
                         "peak_kib": round(peak / 1024)})  # fmt: skip
    measured[1]["ratio"] = ratio(measured[1]["peak_kib"], measured[0]["peak_kib"])
    return measured

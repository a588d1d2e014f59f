"""The Batches page (hub/batch): the batches filed, newest first; a batch's report (every
failing row, column, rule and masked value; its exclusions and commit), downloadable as the
clerk's workbook with failing cells red. With the operate permission: upload a file to check
(held for review, nothing sent) or submit (the passing rows sent), and commit a held batch
less the rows ticked, with a reason. The same code as `govhub batch` (hub/batch/intake.py);
every filing and commit is audited with the account's name."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hub.batch import layout_for, write_report
from hub.batch.audit_trail import record_held
from hub.batch.intake import Filing
from hub.batch.ledger import BatchRecord
from hub.console.http import PREFIX, Answer, Request, redirect
from hub.console.pages import Context, chrome
from hub.console.render import render
from hub.errors import BatchInvalid, ClientError

ROWS = 200
FILE_FIELD = "batch"
EXCLUDE = "exclude-"  # a ticked failing row: exclude-<row number>
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def batches(context: Context, request: Request) -> Answer:
    ledger = context.app.batches().ledger
    newest = [ledger.get(batch_id) for batch_id in reversed(ledger.ids()[-ROWS:])]
    return Answer("200 OK", render("batches.html", batches=newest, **chrome(context)))


def batch(context: Context, request: Request) -> Answer:
    found = context.app.batches().ledger.get(_batch_id(request))
    failing_rows = sorted({f.row for f in found.report.failures})
    body = render("batch.html", b=found, failing_rows=failing_rows, **chrome(context))
    return Answer("200 OK", body)


def report_workbook(context: Context, request: Request) -> Answer:
    found = context.app.batches().ledger.get(_batch_id(request))
    clerks_file = Path(found.file)
    if not clerks_file.is_file():  # the report is drawn on the clerk's file
        raise BatchInvalid(f"the file of batch {found.batch_id} is gone")
    with tempfile.TemporaryDirectory(prefix="govhub-report-") as folder:
        target = Path(folder) / "report.xlsx"
        write_report(clerks_file, layout_for(found.report.message_type), found.report, target)
        data = target.read_bytes()
    name = f"batch-{found.batch_id}-report.xlsx"
    return Answer("200 OK", data, XLSX, [("Content-Disposition", f'attachment; filename="{name}"')])


def upload(context: Context, request: Request) -> Answer:
    """``action=check``: checked and held for a reviewer; ``submit``: the passing rows sent."""
    sent = request.files.get(FILE_FIELD)
    if sent is None or not sent.data:
        raise ClientError("choose a batch file (.xlsx made from the template, or .csv)")
    sender = request.form.get("sender", "").strip()
    if not sender:
        raise ClientError("name the department whose batch it is")
    hold = request.form.get("action") != "submit"
    actor = context.session.username
    filing = Filing(
        sender,
        request.form.get("message_type", "").strip() or None,
        request.form.get("rule_set", "").strip() or None,
        hold,
        actor,
    )
    filed = context.app.batches().upload(sent.filename, sent.data, filing)
    if hold:
        record_held(context.app.store.engine, filed, actor)
    return redirect(f"{PREFIX}/batches/{filed.batch_id}")


def commit(context: Context, request: Request) -> Answer:
    batch_id = _batch_id(request)
    ticked = {name[len(EXCLUDE) :] for name in request.form if name.startswith(EXCLUDE)}
    typed = set(request.form.get("exclude_rows", "").replace(" ", "").split(",")) - {""}
    if not all(row.isdigit() for row in ticked | typed):
        raise ClientError("rows to exclude are numbers as the sheet numbers them, e.g. 7,12")
    excluded = sorted(int(row) for row in ticked | typed)
    reason = request.form.get("reason", "").strip()
    if excluded and not reason:
        raise ClientError("say why the ticked rows are excluded: every exclusion keeps its reason")
    intake = context.app.batches()
    committed: BatchRecord = intake.commit(batch_id, excluded, context.session.username, reason)
    return redirect(f"{PREFIX}/batches/{committed.batch_id}")


def _batch_id(request: Request) -> str:
    return request.path.strip("/").split("/")[1]

"""Batch intake: a spreadsheet (or CSV) of records, each row a canonical record, checked by
the hub's own checks and a versioned rule set before anything is sent.

    layout_for(MESSAGE_TYPE)      the columns of that type's spreadsheet (layouts.toml)
    write_template(TYPE, PATH)    an empty workbook to fill: headers with notes, drop-downs
    check_file(PATH, layout, schemas, rule_set) -> BatchReport
                                  every row checked, nothing sent; failures name row, column,
                                  rule and value
    write_report(PATH, layout, report, TARGET)
                                  the clerk's file, failing cells red with a comment, a summary
    RuleBook(engine)              rule sets, every version kept with who and why
    rule_diff(...)                the rows whose outcome two rule-set versions disagree on
    ledger.BatchLedger(engine)    batches: report, state, exclusions (no rows: the file's)
    sending.submit_batch / commit_batch
                                  passing rows through the hub's Ingress, each once

Modules: layouts (columns), reading (streamed rows and the file's limits), records (a row to
a checked canonical record), rules (rule sets, rule-engine expressions), book (their
versions), check (a file's report), report (the report as a workbook), diff, ledger,
sending, audit_trail (the audit log's entries), tables (migration 0016_batches).
Errors are BatchInvalid (the file as a whole) and RuleSetRefused (hub.errors).
"""

from hub.batch.book import RuleBook, parse_reference
from hub.batch.check import BatchReport, check_file
from hub.batch.diff import rule_diff
from hub.batch.layouts import layout_for
from hub.batch.report import write_report
from hub.batch.template import write_template

__all__ = [
    "BatchReport",
    "RuleBook",
    "check_file",
    "layout_for",
    "parse_reference",
    "rule_diff",
    "write_report",
    "write_template",
]

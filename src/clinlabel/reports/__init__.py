"""Summary reports as pure renderers over `ReportData`, which the store gathers."""

from clinlabel.reports.data import AuditStatus, CaseStats, CommentEntry, ReportData, SessionSpan
from clinlabel.reports.json import render_json_report, write_json_report
from clinlabel.reports.text import render_text_report, write_text_report

__all__ = [
    "AuditStatus",
    "CaseStats",
    "CommentEntry",
    "ReportData",
    "SessionSpan",
    "render_json_report",
    "render_text_report",
    "write_json_report",
    "write_text_report",
]

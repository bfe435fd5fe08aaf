"""The analyst's HTML reports: rendering (:mod:`.render`, templates in ``crawler/templates/``)
and what they show, assembled from the index (:mod:`.views`)."""

from .render import (
    CONTEXT_CHARS,
    DETAIL_VERDICTS,
    VERDICT_ORDER,
    CaptureView,
    ReportEvent,
    write_change_page,
    write_report,
)
from .segments import CONTEXT_LINES
from .views import capture_view, change_event, report_events, report_footer, write_run_pages, write_run_report

__all__ = [
    "CONTEXT_CHARS",
    "CONTEXT_LINES",
    "DETAIL_VERDICTS",
    "VERDICT_ORDER",
    "CaptureView",
    "ReportEvent",
    "capture_view",
    "change_event",
    "report_events",
    "report_footer",
    "write_change_page",
    "write_report",
    "write_run_pages",
    "write_run_report",
]

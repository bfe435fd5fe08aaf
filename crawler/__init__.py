"""lastseen: watch pages that powerful organisations would rather rewrite or delete.

Fetches a watchlist, keeps every capture as WARC evidence, indexes it in
SQLite, diffs the text against the last good capture, gives each target a
verdict, alerts and writes an HTML report.
"""

__version__ = "0.1.0"

"""The index's schema: one migration per step, applied in order (``PRAGMA user_version`` counts them).

A migration only adds: tables, columns, indexes (20 also made ``captures`` a view over the table
``capture_rows``: a later migration that adds a column to it adds it to ``capture_rows`` and creates the view
again with the new column; 21 likewise made ``exchanges`` a view over ``exchange_rows``, and the ``captures``
view read that table: a later migration recreating ``captures`` starts from :func:`captures_view_sql_21`).
Add one at the end of :data:`MIGRATIONS`; never change one that has shipped (nor the column lists migrations
20 and 21 read).
"""

from __future__ import annotations

import sqlite_utils


def _migration_1(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "id": str, "started": str, "finished": str, "status": str, "watchlist": str,
            "watchlist_sha256": str, "targets_due": int, "report": str, "alerts": str, "software": str,
        },
        pk="id",
    )
    db["targets"].create(
        {"name": str, "url": str, "tags": str, "first_seen": str, "updated": str}, pk="name"
    )
    db["captures"].create(
        {
            "id": int, "run_id": str, "target": str, "url": str, "final_url": str, "status": int,
            "status_chain": str, "started": str, "finished": str, "duration_ms": int,
            "error_kind": str, "error": str, "ip": str, "content_type": str,
            "warc_file": str, "warc_offset": int, "warc_length": int, "warc_record_id": str,
            "record_type": str, "refers_to_record_id": str, "refers_to_uri": str, "refers_to_date": str,
            "payload_sha1": str, "payload_sha256": str, "payload_length": int, "truncated": str,
            "kind": str, "charset": str, "extract_key": str, "extract_error": str,
            "text_sha256": str, "fingerprint": str, "title": str, "links": str, "good": int,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("target", "targets", "name")],
    )
    db["texts"].create({"sha256": str, "text": str}, pk="sha256")
    db["exchanges"].create(
        {
            "id": int, "capture_id": int, "seq": int, "url": str, "method": str, "status": int,
            "started": str, "duration_ms": int, "ip": str, "warc_file": str,
            "request_offset": int, "request_length": int, "request_record_id": str,
            "response_offset": int, "response_length": int, "response_record_id": str,
            "record_type": str, "payload_sha1": str, "payload_sha256": str, "payload_length": int,
            "truncated": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["events"].create(
        {
            "id": int, "run_id": str, "target": str, "capture_id": int, "compared_capture_id": int,
            "verdict": str, "reason": str, "alert": int, "summary": str,
            "insertions": int, "deletions": int, "unit": str, "fallback": int, "diff_ops": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"), ("target", "targets", "name"),
            ("capture_id", "captures", "id"), ("compared_capture_id", "captures", "id"),
        ],
    )
    db["captures"].create_index(["target", "id"])
    db["captures"].create_index(["run_id"])
    db["captures"].create_index(["warc_file", "warc_offset"])
    db["exchanges"].create_index(["capture_id"])
    db["exchanges"].create_index(["warc_file"])
    db["events"].create_index(["target", "id"])
    db["events"].create_index(["run_id"])
    db.create_view(
        "capture_texts",
        "select captures.id as capture_id, captures.target, captures.started, captures.title, texts.text "
        "from captures join texts on texts.sha256 = captures.text_sha256",
    )


def _migration_2(db: sqlite_utils.Database) -> None:
    """Capture flags (truncated, disconnected, tls-unverified...) as a JSON list."""
    db["captures"].add_column("flags", str)


def _migration_3(db: sqlite_utils.Database) -> None:
    """TLS verification of the final response (1, 0, or null over plain HTTP) and the robots.txt decision."""
    db["captures"].add_column("tls_verified", int)
    db["captures"].add_column("tls_error", str)
    db["captures"].add_column("robots", str)


def _migration_4(db: sqlite_utils.Database) -> None:
    """events.delivered: 1 once an alerting event was included in a delivered alert (or shown)."""
    db["events"].add_column("delivered", int)


def _migration_5(db: sqlite_utils.Database) -> None:
    """Exchange roles (page, redirect, subresource, resource...), captures' main heading, the record of recoveries."""
    db["exchanges"].add_column("role", str)
    db["captures"].add_column("heading", str)
    db.execute("update exchanges set role = 'page'")
    db.execute(
        "update exchanges set role = 'redirect' where status between 300 and 399 and exists "
        "(select 1 from exchanges later where later.capture_id = exchanges.capture_id and later.seq > exchanges.seq)"
    )
    db["recoveries"].create(
        {
            "id": int, "run_id": str, "at": str, "action": str, "file": str, "cut_at": int,
            "bytes_removed": int, "rows_deleted": int, "aborted_run": str, "moved_to": str, "details": str,
        },
        pk="id",
    )
    db["recoveries"].create_index(["run_id"])


def _migration_6(db: sqlite_utils.Database) -> None:
    """Find an exchange by its response record id (revisits check the record they refer to)."""
    db["exchanges"].create_index(["response_record_id"])


def _migration_7(db: sqlite_utils.Database) -> None:
    """Browser captures: how a capture was fetched, the digest of its rendered DOM; sub-resources found
    by URL and payload (a logo stored once, then revisited)."""
    db["captures"].add_column("fetch", str)
    db["captures"].add_column("rendered_sha256", str)
    db.execute("update captures set fetch = 'http'")
    db["exchanges"].create_index(["url", "payload_sha1"])


def _migration_8(db: sqlite_utils.Database) -> None:
    """Confirmation: what a capture was fetched for (``page``, ``refetch``, ``probe``, ``home``), whether an
    event's state is confirmed (1, 0, null when it needs no confirming) and the evidence it was decided on."""
    db["captures"].add_column("role", str)
    db.execute("update captures set role = 'page'")
    db["events"].add_column("confirmed", int)
    db["events"].add_column("evidence", str)


def _migration_9(db: sqlite_utils.Database) -> None:
    """A change's significance (JSON: score and parts)."""
    db["events"].add_column("significance", str)


def _migration_10(db: sqlite_utils.Database) -> None:
    """Volatile parts: the keys of the blocks each compared capture replaced, and the keys learned per target."""
    db["captures"].add_column("changed_keys", str)
    db["volatile"].create({"target": str, "key": str, "run_id": str, "learned": str}, pk=("target", "key"))


def _migration_11(db: sqlite_utils.Database) -> None:
    """Main content by default: the whole page's text is stored too (``texts``), by its SHA-256."""
    db["captures"].add_column("page_text_sha256", str)


def _migration_12(db: sqlite_utils.Database) -> None:
    """Links' anchor texts (JSON object: link -> text, for links that have one) and the page's description.

    Null for captures extracted before extraction version 3: read again from their WARC record where needed.
    """
    db["captures"].add_column("link_texts", str)
    db["captures"].add_column("description", str)


def _migration_13(db: sqlite_utils.Database) -> None:
    """Listings: the items each listing capture found, in its order (``capped``: past ``max_items``, no key)."""
    db["listing_items"].create({"capture_id": int, "seq": int, "url": str, "key": str, "capped": int},
                               pk=("capture_id", "seq"), foreign_keys=[("capture_id", "captures", "id")])


def _migration_14(db: sqlite_utils.Database) -> None:
    """Watched robots.txt: how a ``robots`` capture differed from its host's previous one (JSON), else null."""
    db["captures"].add_column("robots_changed", str)


def _migration_15(db: sqlite_utils.Database) -> None:
    """Documents (PDF, DOCX, XLSX, ODT, ODS): their format, pages, the line of the text where each page starts,
    and their metadata (JSON, :meth:`crawler.documents.Document.to_json`); null for anything else."""
    db["captures"].add_column("document", str)


def _migration_16(db: sqlite_utils.Database) -> None:
    """The custody log (:mod:`crawler.custody`): one row per entry of the hash chain, ``content`` its canonical
    JSON; the JSONL copy in ``archive/custody/`` holds the same entries."""
    db["custody"].create({"seq": int, "kind": str, "time": str, "prev": str, "content": str, "sha256": str},
                         pk="seq", not_null={"kind", "time", "prev", "content", "sha256"})


def _migration_17(db: sqlite_utils.Database) -> None:
    """Trusted timestamps (:mod:`crawler.timestamps`): one row per attempt to time-stamp a chain head with an
    RFC 3161 authority; ``token`` the DER ``TimeStampResp`` when granted and checked (status ``ok``), else
    ``error`` says why (status ``failed``). ``token_file`` and ``ca_file`` are the copies in
    ``archive/custody/timestamps/``."""
    db["timestamps"].create({"id": int, "run_id": str, "seq": int, "sha256": str, "authority": str,
                             "requested": str, "status": str, "gen_time": str, "serial": str, "token": bytes,
                             "token_file": str, "ca_file": str, "error": str},
                            pk="id", not_null={"seq", "sha256", "status"})
    db["timestamps"].create_index(["seq"])


def _migration_18(db: sqlite_utils.Database) -> None:
    """Indexes so that no statement reads a growing table whole (``tests/test_query_plans.py``, docs/archive.md):
    a capture's event (``status``, ``report --since``), captures by date (``report --since``, ``export``),
    robots.txt captures by URL (watched robots.txt, ``reindex``), runs by status (alerts an interrupted run left
    undelivered), the custody log's ``capture`` entries by WARC file (``export``, ``bundle``) and its ``file``
    entries by file (a run's start finishing a killed run's file): partial indexes on the JSON field, each over
    those entries only."""
    db["events"].create_index(["capture_id"], if_not_exists=True)
    db["captures"].create_index(["started"], if_not_exists=True)
    db["captures"].create_index(["role", "url"], if_not_exists=True)
    db["runs"].create_index(["status"], if_not_exists=True)
    db.execute(
        "create index if not exists idx_custody_capture_warc_file on custody (json_extract(content, '$.warc_file')) "
        "where kind = 'capture'"
    )
    db.execute(
        "create index if not exists idx_custody_file_file on custody (json_extract(content, '$.file')) "
        "where kind = 'file'"
    )


def _migration_19(db: sqlite_utils.Database) -> None:
    """A ``capture`` entry's content kept only in the JSONL copy (#17, :mod:`crawler.store.custody`): appended
    from now on with ``content`` ``{"warc_file": …}`` only (what the partial index of capture entries reads),
    its whole content in ``custody_pending`` until its line is written and fsynced, then the line's byte offset
    in its month's file in ``custody_lines`` (and the pending row deleted). Entries appended before stay whole."""
    db["custody_pending"].create({"seq": int, "content": str}, pk="seq", not_null={"content"})
    db["custody_lines"].create({"seq": int, "offset": int}, pk="seq", not_null={"offset"})


#: The columns of ``captures`` (the view, schema 20), in the order of the table before it (then the view adds
#: ``reused``, ``record_seq`` and ``refers_exchange``).
CAPTURE_COLUMNS = (
    "id", "run_id", "target", "url", "final_url", "status", "status_chain", "started", "finished", "duration_ms",
    "error_kind", "error", "ip", "content_type", "warc_file", "warc_offset", "warc_length", "warc_record_id",
    "record_type", "refers_to_record_id", "refers_to_uri", "refers_to_date", "payload_sha1", "payload_sha256",
    "payload_length", "truncated", "kind", "charset", "extract_key", "extract_error", "text_sha256", "fingerprint",
    "title", "links", "good", "flags", "tls_verified", "tls_error", "robots", "heading", "fetch", "rendered_sha256",
    "role", "changed_keys", "page_text_sha256", "link_texts", "description", "robots_changed", "document",
)
#: What an unchanged recapture shares with the capture whose extraction it reused (the same payload read under
#: the same settings): stored null in its ``capture_rows`` row, read from that capture's (``reused``).
REUSED_COLUMNS = (
    "content_type", "kind", "charset", "extract_key", "text_sha256", "fingerprint", "title", "heading",
    "page_text_sha256", "description", "document",
)
#: What a capture repeats of the exchange whose response (or revisit) record is its record, by the exchange's
#: column: stored null in its ``capture_rows`` row, read from that exchange's (``record_seq``).
RECORD_COLUMNS = {
    "final_url": "url", "ip": "ip", "warc_file": "warc_file", "warc_offset": "response_offset",
    "warc_length": "response_length", "warc_record_id": "response_record_id", "record_type": "record_type",
    "payload_sha1": "payload_sha1", "payload_sha256": "payload_sha256", "payload_length": "payload_length",
    "truncated": "truncated",
}

#: What a revisit's capture repeats of the exchange of the response record its record refers to, by the
#: exchange's column: stored null in its ``capture_rows`` row, read from that exchange's (``refers_exchange``).
REFERS_COLUMNS = {"refers_to_record_id": "response_record_id", "refers_to_uri": "url", "refers_to_date": "started"}


def captures_view_sql() -> str:
    """The ``captures`` view over ``capture_rows``: a row's own columns; a recapture's shared ones
    (:data:`REUSED_COLUMNS`, null in its row) from the row it reused (``reused``: null there when nothing is
    reused, the row then holding its own); those its record's exchange holds (:data:`RECORD_COLUMNS`) from
    that exchange (``record_seq``: likewise); those of the response its revisit record refers to
    (:data:`REFERS_COLUMNS`) from that response's exchange (``refers_exchange``: likewise)."""
    def column(name: str) -> str:
        if name in REUSED_COLUMNS:
            return f"coalesce(own.{name}, reused_from.{name}) as {name}"
        if name in RECORD_COLUMNS:
            return f"coalesce(own.{name}, record_exchange.{RECORD_COLUMNS[name]}) as {name}"
        if name in REFERS_COLUMNS:
            return f"coalesce(own.{name}, refers_exchange.{REFERS_COLUMNS[name]}) as {name}"
        return f"own.{name}"

    # (the aliases name the rows in query plans: tests/test_query_plans.py reads them)
    return (f"create view captures as select {', '.join(map(column, CAPTURE_COLUMNS))}, own.reused, "
            "own.record_seq, own.refers_exchange from capture_rows as own "
            "left join capture_rows as reused_from on reused_from.id = own.reused "
            "left join exchanges as record_exchange on record_exchange.capture_id = own.id "
            "and record_exchange.seq = own.record_seq "
            "left join exchanges as refers_exchange on refers_exchange.id = own.refers_exchange")


def _migration_20(db: sqlite_utils.Database) -> None:
    """#17: ``captures`` becomes a view over the table ``capture_rows``, so that a capture stores only what is
    its own: ``reused`` names the capture whose extraction an unchanged recapture reused, whose row holds the
    columns they share (:data:`REUSED_COLUMNS`, null in the recapture's row); ``record_seq`` the exchange whose
    response or revisit record is the capture's record, whose row holds what the capture repeated of it
    (:data:`RECORD_COLUMNS`); ``refers_exchange`` the exchange of the response record a revisit record refers
    to, whose row holds what the capture repeated of it (:data:`REFERS_COLUMNS`). Rows written before have
    all three null and every column their own. Readers read ``captures``; writers write ``capture_rows``.
    Indexes: the robots.txt captures by URL, of those captures
    only (``role = 'robots'``), not of every capture; captures by WARC file, of the rows that hold their
    record's place themselves only (the others' is found by their exchange's); exchanges by response record
    id, of ``response`` records only (what a revisit refers to), not of revisits."""
    db.execute("drop view capture_texts")
    db.execute("alter table captures rename to capture_rows")
    db.execute("alter table capture_rows add column reused integer")
    db.execute("alter table capture_rows add column record_seq integer")
    db.execute("alter table capture_rows add column refers_exchange integer")
    db.execute("drop index idx_captures_role_url")
    db.execute("drop index idx_captures_warc_file_warc_offset")
    db.execute("create index idx_capture_rows_warc_file_warc_offset on capture_rows (warc_file, warc_offset) "
               "where warc_file is not null")
    db.execute("drop index idx_exchanges_response_record_id")
    db.execute("create index idx_exchanges_response_record_id on exchanges (response_record_id) "
               "where record_type = 'response'")
    db.execute("create index idx_capture_rows_robots_url on capture_rows (url) where role = 'robots'")
    db.execute(captures_view_sql())
    db.execute(
        "create view capture_texts as select captures.id as capture_id, captures.target, captures.started, "
        "captures.title, texts.text from captures join texts on texts.sha256 = captures.text_sha256"
    )


#: The columns of ``exchanges`` (the view, schema 21), in the order of the table before it.
EXCHANGE_COLUMNS = (
    "id", "capture_id", "seq", "url", "method", "status", "started", "duration_ms", "ip", "warc_file",
    "request_offset", "request_length", "request_record_id", "response_offset", "response_length",
    "response_record_id", "record_type", "payload_sha1", "payload_sha256", "payload_length", "truncated", "role",
)
#: What a revisit's exchange repeats of a ``response`` exchange of the same URL and payload: stored null in its
#: ``exchange_rows`` row, read from that exchange's (``refers``).
EXCHANGE_REFERS_COLUMNS = ("url", "payload_sha1", "payload_sha256", "payload_length")


def exchanges_view_sql() -> str:
    """The ``exchanges`` view over ``exchange_rows`` (schema 21): a row's own columns; its WARC file's path from
    ``warc_files`` (``warc_file_id``); what a revisit repeats of a response of the same URL and payload
    (:data:`EXCHANGE_REFERS_COLUMNS`, null in its row) from that response's row (``refers``: null when the row
    holds its own)."""
    def column(name: str) -> str:
        if name == "warc_file":
            return "ex_file.path as warc_file"
        if name in EXCHANGE_REFERS_COLUMNS:
            return f"coalesce(ex_own.{name}, ex_refers.{name}) as {name}"
        return f"ex_own.{name}"

    # (the aliases name the rows in query plans: tests/test_query_plans.py reads them)
    return (f"create view exchanges as select {', '.join(map(column, EXCHANGE_COLUMNS))} "
            "from exchange_rows as ex_own left join warc_files as ex_file on ex_file.id = ex_own.warc_file_id "
            "left join exchange_rows as ex_refers on ex_refers.id = ex_own.refers")


def captures_view_sql_21() -> str:
    """The ``captures`` view of schema 21: :func:`captures_view_sql`'s, reading the exchanges it joins from
    ``exchange_rows`` (their WARC file's path from ``warc_files``; what a revisit's exchange left null from the
    response it names, ``refers``), not through the ``exchanges`` view."""
    def column(name: str) -> str:
        if name in REUSED_COLUMNS:
            return f"coalesce(own.{name}, reused_from.{name}) as {name}"
        if name == "warc_file":
            return "coalesce(own.warc_file, record_file.path) as warc_file"
        if name in RECORD_COLUMNS:
            held = RECORD_COLUMNS[name]
            if held in EXCHANGE_REFERS_COLUMNS:
                return f"coalesce(own.{name}, record_exchange.{held}, record_refers.{held}) as {name}"
            return f"coalesce(own.{name}, record_exchange.{held}) as {name}"
        if name in REFERS_COLUMNS:
            return f"coalesce(own.{name}, refers_exchange.{REFERS_COLUMNS[name]}) as {name}"
        return f"own.{name}"

    return (f"create view captures as select {', '.join(map(column, CAPTURE_COLUMNS))}, own.reused, "
            "own.record_seq, own.refers_exchange from capture_rows as own "
            "left join capture_rows as reused_from on reused_from.id = own.reused "
            "left join exchange_rows as record_exchange on record_exchange.capture_id = own.id "
            "and record_exchange.seq = own.record_seq "
            "left join warc_files as record_file on record_file.id = record_exchange.warc_file_id "
            "left join exchange_rows as record_refers on record_refers.id = record_exchange.refers "
            "left join exchange_rows as refers_exchange on refers_exchange.id = own.refers_exchange")


#: The columns of ``events`` (the view, schema 21), in the order of the table before it.
EVENT_COLUMNS = (
    "id", "run_id", "target", "capture_id", "compared_capture_id", "verdict", "reason", "alert", "summary",
    "insertions", "deletions", "unit", "fallback", "diff_ops", "delivered", "confirmed", "evidence", "significance",
)
#: What an event repeats of its target's previous event (an unchanged verdict's ``no change`` and its evidence,
#: run after run): stored null in its ``event_rows`` row, read from that event's (``same_as``).
EVENT_SAME_COLUMNS = ("summary", "evidence")


def events_view_sql() -> str:
    """The ``events`` view over ``event_rows`` (schema 21): a row's own columns; what it repeats of its target's
    previous event (:data:`EVENT_SAME_COLUMNS`, null in its row) from the row ``same_as`` names (null when the
    row holds its own)."""
    columns = [f"coalesce(ev_own.{c}, ev_same.{c}) as {c}" if c in EVENT_SAME_COLUMNS else f"ev_own.{c}"
               for c in EVENT_COLUMNS]
    # (the aliases name the rows in query plans: tests/test_query_plans.py reads them)
    return (f"create view events as select {', '.join(columns)} from event_rows as ev_own "
            "left join event_rows as ev_same on ev_same.id = ev_own.same_as")


def _migration_21(db: sqlite_utils.Database) -> None:
    """#17: ``exchanges`` becomes a view over the table ``exchange_rows``, so that an exchange stores only what
    is its own: its WARC file as the id of a ``warc_files`` row (``warc_file_id``: a path is stored once, not
    once an exchange); a revisit's URL and payload digests and length, when they are those of an earlier
    ``response`` exchange, as that exchange's id (``refers``, :data:`EXCHANGE_REFERS_COLUMNS`). Rows written
    before keep their URL and digests (``refers`` null). The index of exchanges by URL and payload is partial:
    ``response`` records only (what a revisit or a reused extraction looks for), not revisits. Readers read
    ``exchanges``; writers write ``exchange_rows``. And ``events`` a view over the table ``event_rows``
    (renamed), whose rows leave what they repeat of their target's previous event (:data:`EVENT_SAME_COLUMNS`)
    null, ``same_as`` naming the event that holds it; rows written before hold their own."""
    db.execute("drop view capture_texts")
    db.execute("drop view captures")
    db.execute("create table warc_files (id integer primary key, path text not null unique)")
    db.execute("insert into warc_files (path) select warc_file from exchanges where warc_file is not null "
               "group by warc_file order by min(id)")
    db.execute(
        'create table exchange_rows ("id" INTEGER PRIMARY KEY, "capture_id" INTEGER REFERENCES "capture_rows"("id"), '
        '"seq" INTEGER, "url" TEXT, "method" TEXT, "status" INTEGER, "started" TEXT, "duration_ms" INTEGER, '
        '"ip" TEXT, "warc_file_id" INTEGER REFERENCES "warc_files"("id"), "request_offset" INTEGER, '
        '"request_length" INTEGER, "request_record_id" TEXT, "response_offset" INTEGER, "response_length" INTEGER, '
        '"response_record_id" TEXT, "record_type" TEXT, "payload_sha1" TEXT, "payload_sha256" TEXT, '
        '"payload_length" INTEGER, "truncated" TEXT, "role" TEXT, "refers" INTEGER)')
    own = [c for c in EXCHANGE_COLUMNS if c != "warc_file"]
    db.execute(f"insert into exchange_rows ({', '.join(own)}, warc_file_id) select {', '.join(own)}, "
               "(select f.id from warc_files f where f.path = exchanges.warc_file) from exchanges order by id")
    db.execute("drop table exchanges")
    db.execute("create index idx_exchange_rows_capture_id on exchange_rows (capture_id)")
    db.execute("create index idx_exchange_rows_warc_file_id on exchange_rows (warc_file_id)")
    db.execute("create index idx_exchange_rows_response_record_id on exchange_rows (response_record_id) "
               "where record_type = 'response'")
    db.execute("create index idx_exchange_rows_url_payload_sha1 on exchange_rows (url, payload_sha1) "
               "where record_type = 'response'")
    db.execute(exchanges_view_sql())
    db.execute("alter table events rename to event_rows")
    db.execute("alter table event_rows add column same_as integer")
    db.execute(events_view_sql())
    db.execute(captures_view_sql_21())
    db.execute(
        "create view capture_texts as select captures.id as capture_id, captures.target, captures.started, "
        "captures.title, texts.text from captures join texts on texts.sha256 = captures.text_sha256"
    )


#: A capture of the target's own (not a probe of its host or its home page), as SQL over a ``capture_rows`` row
_OWN = "coalesce({row}.role, 'page') in ('page', 'refetch')"
#: ``target_stats``'s row of one target (or every target), summed up from its captures and events
_STATS = ("select p.target, max(case when " + _OWN.format(row="p") + " then p.id end), "
          "max(case when p.good = 1 then p.started end), coalesce(sum(" + _OWN.format(row="p") + "), 0), "
          "max(r.started), (select max(e.id) from event_rows e where e.target = p.target) "
          "from capture_rows p left join runs r on r.id = p.run_id ")


def _migration_22(db: sqlite_utils.Database) -> None:
    """#17: ``target_stats``, one row per target summing up what `lastseen status` shows of it: its last own
    capture (``last_own``), the start of its last good capture (``last_good``), how many own captures it has
    (``own_captures``), the start of the last run that captured it (``last_run``) and its last event
    (``last_event``). Triggers keep it: a capture's or an event's insert updates its target's row, a delete
    (rare: recovery forgetting the captures of a WARC file's torn tail) sums that target up again. `status`
    reads a row a target, not every capture and event of the archive (a year of daily runs of 1,000 targets:
    370,603 captures)."""
    db.execute("create table target_stats (target text primary key, last_own integer, last_good text, "
               "own_captures integer not null default 0, last_run text, last_event integer)")
    db.execute("insert into target_stats (target, last_own, last_good, own_captures, last_run, last_event) "
               + _STATS + "group by p.target")
    own = _OWN.format(row="new")
    run = "(select started from runs where id = new.run_id)"
    db.execute(
        "create trigger target_stats_capture after insert on capture_rows begin "
        "insert or ignore into target_stats (target) values (new.target); "
        f"update target_stats set last_own = case when {own} and (last_own is null or new.id > last_own) "
        "then new.id else last_own end, "
        "last_good = case when new.good = 1 and (last_good is null or new.started > last_good) "
        "then new.started else last_good end, "
        f"own_captures = own_captures + ({own}), "
        f"last_run = coalesce(max(last_run, {run}), last_run, {run}) where target = new.target; end")
    db.execute(
        "create trigger target_stats_capture_gone after delete on capture_rows begin "
        "delete from target_stats where target = old.target; "
        "insert into target_stats (target, last_own, last_good, own_captures, last_run, last_event) "
        + _STATS + "where p.target = old.target group by p.target; end")
    db.execute(
        "create trigger target_stats_event after insert on event_rows begin "
        "insert or ignore into target_stats (target) values (new.target); "
        "update target_stats set last_event = case when last_event is null or new.id > last_event "
        "then new.id else last_event end where target = new.target; end")
    db.execute(
        "create trigger target_stats_event_gone after delete on event_rows begin "
        "update target_stats set last_event = (select max(id) from event_rows where target = old.target) "
        "where target = old.target; end")


MIGRATIONS = [_migration_1, _migration_2, _migration_3, _migration_4, _migration_5, _migration_6, _migration_7,
              _migration_8, _migration_9, _migration_10, _migration_11, _migration_12, _migration_13,
              _migration_14, _migration_15, _migration_16, _migration_17, _migration_18,
              _migration_19, _migration_20, _migration_21, _migration_22]

"""``lastseen verify``: the archive checked against its custody log (docs/evidence.md, "lastseen verify").

A run of checks over one :class:`Context` (the index's entries read in one snapshot, the JSONL copy read
just before it, the WARC files as they are): each check is a function ``(ctx) -> Iterable[Problem]`` in
:data:`CHECKS`, and another (trusted timestamps) is added with one ``CHECKS.append(check)``. A check may
count what it checked in ``ctx.checked``. The checks:

- :func:`~crawler.verifylog.check_chain`: each entry hashes to its ``sha256`` and links to the one before; an index holding
  captures but no entry at all is an archive without its chain (``chain-missing``).
- :func:`~crawler.verifylog.check_copy`: each line of ``archive/custody/*.jsonl`` is exactly its index entry, in ``seq``
  order, in the file of its month; index entries after the copy's last line are ``pending``.
- :func:`~crawler.verifylog.check_index`: every record an index row points at is listed by a ``capture`` entry.
- :func:`check_timestamps`: every trusted timestamp token stamps its head and verifies (:mod:`crawler.timestamps`).
- :func:`check_files`: every closed WARC file has its ``file`` entry (SHA-256, size), every record an entry
  lists is where it says with the bytes it says, and every record of a file is listed by some entry
  (:mod:`crawler.verifyfiles`). ``.open`` files are skipped and listed in ``open_files``.

Only reads: the index is opened read-only (no lock), nothing is written. Problems are named by
:data:`KINDS`, the one table the human lines, the JSON Schema (:mod:`crawler.verifyjson`) and the docs use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from .custody import CAPTURES_VERSION, entry_captures
from .verifyexports import check_exports
from .verifyfiles import compare_file, read_file
from .verifylog import check_chain, check_copy, check_index, read_entries, read_lines
from .verifyproblems import COUNTS, KINDS, Context, Problem
from .warcfiles import OPEN_SUFFIX, lastseen_warc_files

__all__ = [
    "CHECKS",
    "COUNTS",
    "KINDS",
    "Context",
    "Problem",
    "Verified",
    "run_checks",
    "verify",
]

WARC_DIR = "warcs"


def _files(ctx: Context) -> dict[str, dict]:
    """Per WARC file (archive-relative): its ``file`` entry, the recovery's cut, and its entries' records."""
    files: dict[str, dict] = {}

    def of(name: str) -> dict:
        return files.setdefault(
            name, {"entry": None, "cut_at": None, "records": [], "scope": set()}
        )

    for entry in ctx.entries:
        content = entry["content"]
        if entry["kind"] == "file":
            facts = of(content["file"])
            earlier, now = facts["entry"], (content["sha256"], content["size"])
            # closed again with other bytes: no crash does that
            if earlier is not None and (earlier["sha256"], earlier["size"]) != now:
                facts["closed_before"] = earlier
            facts["entry"] = {**content, "seq": entry["seq"]}
        elif entry["kind"] == "recovery":
            facts = of(content["file"])
            facts["cut_at"] = content["cut_at"]
            # records a recovery cut off were removed, not lost: their entries stay (docs/evidence.md)
            facts["records"] = [
                r for r in facts["records"] if r["offset"] < content["cut_at"]
            ]
        elif entry["kind"] == "capture":
            facts = of(content["warc_file"])
            many = content.get("v") == CAPTURES_VERSION   # a commit's captures: each record names its own
            for capture in entry_captures(content):
                scoped = ctx.in_scope({**entry, "content": {**capture, "target": capture["target"] or ""}})
                named = {"capture": capture["capture_id"]} if many and capture["capture_id"] is not None else {}
                for record in capture["records"]:
                    facts["records"].append({**record, "seq": entry["seq"], **named})
                    if scoped:
                        facts["scope"].add(record["offset"])
    return files


def _read_and_compare(path: str, name: str, starts, records, scope, entry):
    try:
        facts = read_file(Path(path), name, starts)
    except OSError as exc:  # gone or unreadable since it was listed
        problem = Problem(
            "file-missing", name, message=f"cannot be read: {exc.strerror or exc}"
        )
        return None, 0, [asdict(problem)], 0, 0
    vouched = entry is not None and (facts.sha256, facts.size) == (
        entry["sha256"],
        entry["size"],
    )
    problems, checked, unlisted = (
        compare_file(facts, records, scope=scope, vouched=vouched)
        if starts is not None
        else ([], 0, 0)
    )
    return facts.sha256, facts.size, problems, checked, unlisted


def check_files(ctx: Context) -> Iterable[Problem]:
    warcs = ctx.root / WARC_DIR
    files = _files(ctx)
    on_disk = {f"{WARC_DIR}/{p.name}" for p in lastseen_warc_files(warcs)}
    jobs = []
    for name in sorted(set(files) | on_disk):
        facts = files.get(name) or {
            "entry": None,
            "cut_at": None,
            "records": [],
            "scope": set(),
        }
        before = facts.get("closed_before")
        if before is not None:
            yield Problem(
                "file-altered",
                name,
                seq=facts["entry"]["seq"],
                expected=before["sha256"],
                found=facts["entry"]["sha256"],
                message=f"entry #{facts['entry']['seq']} records other bytes ({facts['entry']['size']}) than "
                f"its file entry #{before['seq']} ({before['size']}): changed after it was closed",
            )
        path = ctx.root / name
        # renamed from .open to its name at any moment by a run: one of the two exists at every instant
        if not path.exists() and Path(f"{path}{OPEN_SUFFIX}").exists():
            ctx.open_files.append(
                {"file": f"{name}{OPEN_SUFFIX}", "why": _open_why(ctx)}
            )
            continue
        if not path.exists():
            if facts["entry"] is None and not facts["records"] and facts["cut_at"] == 0:
                continue  # a recovery that found no whole record deleted it
            yield Problem(
                "file-missing",
                name,
                seq=(facts["entry"] or {}).get("seq"),
                expected=(facts["entry"] or {}).get("sha256"),
                found=None,
                message=f"not in the archive ({len(facts['records'])} records of it are listed)",
            )
            continue
        if facts["entry"] is None and facts["records"] and ctx.closed_later(name):
            # closed by a run after the index was read: its file entry is not in the snapshot
            ctx.open_files.append(
                {"file": name, "why": "closed by a run after the index was read"}
            )
            continue
        scope = None if ctx.whole else facts["scope"]
        # every file a file entry records (its records all accounted for), and any file entries list records
        # of; with --since/--only only files holding records in scope
        read_records = (facts["entry"] is not None or bool(facts["records"])) and (
            scope is None or bool(scope)
        )
        starts = (
            {r["offset"]: r["length"] for r in facts["records"]}
            if read_records
            else None
        )
        jobs.append((str(path), name, starts, facts["records"], scope, facts["entry"]))
    for (path, name, starts, records, scope, entry), (
        sha256,
        size,
        problems,
        checked,
        unlisted,
    ) in zip(jobs, _run(ctx, jobs)):
        if sha256 is None:  # not read: its problem says why
            yield from (Problem(**p) for p in problems)
            continue
        ctx.checked["files"] += 1
        ctx.checked["bytes"] += size
        ctx.checked["records"] += checked
        ctx.checked["unlisted_records"] += unlisted
        if entry is None:
            yield Problem(
                "file-unrecorded",
                name,
                expected="a file entry",
                found=sha256,
                message=f"a closed WARC file ({size} bytes) no custody entry records",
            )
        elif (sha256, size) != (entry["sha256"], entry["size"]):
            cut = (
                f"{size} bytes, not {entry['size']}"
                if size != entry["size"]
                else "its bytes differ (its size is its entry's)"
            )
            yield Problem(
                "file-altered",
                name,
                seq=entry["seq"],
                expected=entry["sha256"],
                found=sha256,
                message=cut,
            )
        for p in problems:
            yield Problem(**p)
    listed = {f["file"] for f in ctx.open_files}
    for path in lastseen_warc_files(warcs, unfinished=True):
        name = f"{WARC_DIR}/{path.name}"
        if name.endswith(OPEN_SUFFIX) and name not in listed:
            ctx.open_files.append({"file": name, "why": _open_why(ctx)})


def _open_why(ctx: Context) -> str:
    return (
        "being written by the run going on"
        if ctx.running
        else "left by a run that did not finish; the next `lastseen run` recovers it"
    )


#: Files are read by ``Context.workers`` processes when there are several and together they hold more than this.
PARALLEL_BYTES = 8 << 20


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _run(ctx: Context, jobs: list) -> list:
    args = [
        (path, name, starts, records, scope, entry)
        for path, name, starts, records, scope, entry in jobs
    ]
    size = sum(_size(a[0]) for a in args)
    if ctx.workers > 1 and len(args) > 1 and size > PARALLEL_BYTES:
        import multiprocessing

        with ProcessPoolExecutor(
            min(ctx.workers, len(args)), mp_context=multiprocessing.get_context("fork")
        ) as pool:
            return list(pool.map(_read_and_compare, *zip(*args)))
    return [_read_and_compare(*a) for a in args]


#: The checks ``lastseen verify`` runs, in order: each ``(ctx) -> Iterable[Problem]``.
def check_timestamps(ctx: Context) -> Iterable[Problem]:
    """Every RFC 3161 token the index holds stamps the custody entry at its ``seq`` and ``openssl ts -verify``
    accepts it with the archive's copy of the authority's certificates; its ``.tsr`` file is the index's token
    (:func:`crawler.timestamps.check_tokens`)."""
    from .store.timestamps import granted_tokens
    from .timestamps import check_tokens

    ctx.checked["timestamps"] += len(granted_tokens(ctx.store.conn))
    for found in check_tokens(ctx.store, ctx.root):
        yield Problem(**found)


CHECKS: list[Callable[[Context], Iterable[Problem]]] = [
    check_chain,
    check_copy,
    check_index,
    check_files,
    check_timestamps,
    check_exports,
]


@dataclass
class Verified:
    """What ``lastseen verify`` found: ``ok`` when no check found a problem."""

    chain_head: dict | None
    checked: dict
    pending: list[dict]
    open_files: list[dict]
    problems: list[Problem]
    scope: dict

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        """The ``--json`` object (docs/verify.schema.json)."""
        return {
            "ok": self.ok,
            "chain_head": self.chain_head,
            "checked": self.checked,
            "scope": self.scope,
            "pending": self.pending,
            "open_files": self.open_files,
            "problems": [asdict(p) for p in self.problems],
        }

    def summary(self) -> str:
        """The last line: what held or how many problems, what was checked, the chain head."""
        from .formatting import plural

        c = self.checked
        said = (
            f"{plural(c['entries'], 'custody entry')}, {plural(c['lines'], 'line')} of the copy, "
            f"{plural(c['files'], 'WARC file')} ({plural(c['bytes'], 'byte')}), {plural(c['records'], 'record')}, "
            f"{plural(c['index_rows'], 'index row')} checked"
        ).replace("entrys", "entries")
        head = (
            f"chain head #{self.chain_head['seq']} {self.chain_head['sha256']}"
            if self.chain_head
            else "no chain head"
        )
        extra = (
            [
                f"{plural(len(self.pending), 'entry')} pending in the copy".replace(
                    "entrys", "entries"
                )
            ]
            if self.pending
            else []
        )
        if c["unlisted_records"]:
            extra.append(
                f"{plural(c['unlisted_records'], 'record')} no entry lists, vouched for by their file's entry "
                f"(written, never committed)"
            )
        extra += (
            [f"{plural(len(self.open_files), 'open file')} skipped"]
            if self.open_files
            else []
        )
        verdict = (
            "everything holds" if self.ok else plural(len(self.problems), "problem")
        )
        return f"{verdict}: {said}; {head}" + "".join(f"; {x}" for x in extra)


def run_checks(
    ctx: Context,
    checks: Iterable[Callable[[Context], Iterable[Problem]]] | None = None,
    scope: dict | None = None,
) -> Verified:
    problems: list[Problem] = []
    for check in CHECKS if checks is None else checks:
        problems.extend(check(ctx))
    counts = {k: ctx.checked.get(k, 0) for k in COUNTS}
    last = ctx.entries[-1] if ctx.entries else None
    head = {"seq": last["seq"], "sha256": last["sha256"]} if last else None
    return Verified(
        head,
        counts,
        ctx.pending,
        ctx.open_files,
        problems,
        scope or {"since": None, "only": []},
    )


def verify(
    root: Path,
    store,
    *,
    since=None,
    only: tuple[str, ...] = (),
    running: bool = False,
    workers: int = 2,
) -> Verified:
    """Check the archive at ``root`` whose index is ``store`` (opened read-only). ``since`` (a datetime):
    re-read only the records of capture entries appended since; ``only``: of these targets (names, tags,
    ``LISTING/KEY``). The chain, the copy, the index rows and every closed file's SHA-256 are always checked
    whole. The copy is read before the index (whose entries are committed before their lines are written),
    and the index in one read transaction, so a run writing meanwhile shows as pending lines and open files."""
    from .archive import LOCK_NAME, lock_held
    from .formatting import iso, parse_iso
    from .report.window import read_scope

    lines = read_lines(root)
    with store.snapshot():
        entries, copy_only = read_entries(store, root, lines)
        scope = read_scope(None, only, True, store) if only else None

        def in_scope(entry: dict) -> bool:
            content = entry["content"]
            if since is not None and (parse_iso(entry["time"]) or since) < since:
                return False
            return scope is None or scope.keeps(
                content.get("target", ""), scope.known.get(content.get("target"), [])
            )

        def closed_later(name: str) -> bool:
            """Whether a run holds the lock, or the index has the file's entry now (a run closed it since)."""
            if lock_held(Path(root) / LOCK_NAME):
                return True
            fresh = type(store).open_readonly(store.path)
            try:
                return name in fresh.closed_files_in_custody()
            finally:
                fresh.close()

        ctx = Context(
            Path(root),
            store,
            entries,
            lines,
            in_scope,
            running,
            whole=since is None and not only,
            workers=workers,
            closed_later=closed_later,
            copy_only=copy_only,
        )
        return run_checks(
            ctx,
            scope={
                "since": iso(since) if since is not None else None,
                "only": list(only),
            },
        )

"""Signal report: how well lastseen tells real changes from noise, on the labelled corpus.

Run with ``make signal-report`` (``.venv/bin/python bench/signal_report.py``); see docs/signal.md.

The pairs of ``tests/corpus/pairs.yaml`` (real pages, each with one documented edit, labelled
"change" or "noise") are served from a local HTTP server on 127.0.0.1 (port 0). For each mode,
a watchlist with one target per pair is run twice with the real command line
(``python -m crawler run --json --force``, its own archive): once on the *before* pages, once
on the *after* pages. A pair "alerts" when its second event has ``alert: true``. Then, per mode:

- true positives: "change" pairs that alert; false negatives: "change" pairs that do not;
- false positives: "noise" pairs that alert; true negatives: "noise" pairs that do not;
- precision = TP / (TP + FP), recall = TP / (TP + FN); the same per kind; every wrong pair.

Modes, each named with its settings in the output:

- ``page``: ``select: page`` on every target: the whole page's text is compared (today's behaviour);
- ``default``: no ``select``: whatever lastseen does by default.

Target keys of the table that the installed watchlist schema does not know (read from
``crawler.watchlist.TARGET_FIELDS``) are left out, and the output says which. When the installed
lastseen reads ``select: page`` as a CSS selector (a probe run flags ``select-empty`` on a page
that has text), the ``page`` mode leaves ``select`` out, which is the same whole-page comparison,
and says so.

Exit status: 0 when the report is valid, whatever the figures; 1 when a run failed or a pair's
*before* was not captured as ``new`` (then the figures would mean nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out" / "signal"
sys.path.insert(0, str(REPO))

import yaml

from tests.corpus.pairs import ALERT_VERDICTS, LABELS, TABLE, build, load_corpus, split_keys
from tests.site import Site

SETTINGS = {"concurrency": 16, "per_host_concurrency": 16, "per_host_delay": "0s", "timeout": "10s",
            "retries": 0}
PROBE_PAGE = b"<!DOCTYPE html><html><head><title>probe</title></head><body><main><h1>Probe</h1>" \
             b"<p>A page with text, to see what select: page keeps of it.</p></main></body></html>"


@dataclass
class Mode:
    name: str
    settings: str                       # how the output names it
    select: str | None                  # the target's select, or None to leave it out
    notes: list[str] = field(default_factory=list)
    events: dict = field(default_factory=dict)      # pair id -> (before event, after event)
    seconds: float = 0.0


def _known_target_keys() -> set[str]:
    from crawler.watchlist import TARGET_FIELDS

    return {f.name for f in TARGET_FIELDS}


def _env() -> dict:
    """The environment of the runs: this checkout's ``crawler`` first, whatever the venv has installed."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def _measured() -> str:
    """Which lastseen the report measures: the checkout, its commit, whether crawler/ has local changes."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "crawler"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{REPO / 'crawler'} (not a git checkout)"
    return f"{REPO / 'crawler'} at {head}" + (" with local changes in crawler/" if dirty else "")


def _run(workdir: Path, watchlist: Path, archive: Path) -> dict:
    """One ``lastseen run --json --force`` as a real process; its JSON document."""
    cmd = [sys.executable, "-m", "crawler", "run", "--json", "--force", "--watchlist", str(watchlist),
           "--archive", str(archive), "--reports", str(workdir / "reports")]
    proc = subprocess.run(cmd, cwd=workdir, env=_env(), capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"signal report invalid: `{' '.join(cmd[1:])}` exited {proc.returncode}:\n"
                         f"{proc.stderr.strip()}")
    return json.loads(proc.stdout)


def _write_watchlist(path: Path, targets: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"settings": SETTINGS, "targets": targets}, sort_keys=False,
                                   allow_unicode=True), encoding="utf-8")
    return path


def _probe_select_page(site: Site, workdir: Path) -> bool:
    """Does the installed lastseen know ``select: page``? (False: it reads it as a CSS selector.)"""
    site.set("/probe", PROBE_PAGE)
    wl = _write_watchlist(workdir / "probe.yaml", [{"name": "probe", "url": site.url("/probe"), "select": "page"}])
    (event,) = _run(workdir, wl, workdir / "probe-archive")["events"]
    return "select-empty" not in event["flags"]


def _run_mode(mode: Mode, corpus, built: dict, keys: dict, site: Site, workdir: Path) -> None:
    targets = []
    for pair in corpus.pairs:
        target = {"name": pair.id, "url": site.url(f"/pairs/{pair.id}")}
        if mode.select is not None:
            target["select"] = mode.select
        targets.append({**target, **keys[pair.id]})
    wl = _write_watchlist(workdir / f"watchlist-{mode.name}.yaml", targets)
    started = time.monotonic()
    runs = []
    for phase in ("before", "after"):
        for pair in corpus.pairs:
            b = built[pair.id]
            site.set(f"/pairs/{pair.id}", getattr(b, phase), content_type=f"text/html; charset={b.charset}")
        doc = _run(workdir, wl, workdir / f"archive-{mode.name}")
        runs.append({e["target"]: e for e in doc["events"]})
    mode.seconds = time.monotonic() - started
    missing = [p.id for p in corpus.pairs if p.id not in runs[0] or p.id not in runs[1]]
    if missing:
        raise SystemExit(f"signal report invalid: mode {mode.name}: no event for {missing}")
    not_new = {pid: e["verdict"] for pid, e in runs[0].items() if e["verdict"] != "new"}
    if not_new:
        raise SystemExit(f"signal report invalid: mode {mode.name}: a before page must be captured as new: {not_new}")
    mode.events = {p.id: (runs[0][p.id], runs[1][p.id]) for p in corpus.pairs}


def alerted(event: dict) -> bool:
    return bool(event["alert"])


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "—"


def score(mode: Mode, pairs) -> dict:
    tp = sum(p.label == "change" and alerted(mode.events[p.id][1]) for p in pairs)
    fn = sum(p.label == "change" and not alerted(mode.events[p.id][1]) for p in pairs)
    fp = sum(p.label == "noise" and alerted(mode.events[p.id][1]) for p in pairs)
    tn = sum(p.label == "noise" and not alerted(mode.events[p.id][1]) for p in pairs)
    return {"tp": tp, "fn": fn, "fp": fp, "tn": tn, "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None}


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def report(corpus, modes: list[Mode], dropped: dict, took: float) -> str:
    n = {label: sum(p.label == label for p in corpus.pairs) for label in LABELS}
    head = (f"signal report: {len(corpus.pairs)} pairs ({n['change']} change, {n['noise']} noise) "
            f"from {TABLE.relative_to(REPO)}")
    lines = [head, f"lastseen: {_measured()}", "", "modes:"]
    for m in modes:
        lines.append(f"  {m.name:<8} {m.settings}")
        lines += [f"           note: {note}" for note in m.notes]
    if dropped:
        lines += ["", "target keys left out (the installed watchlist schema does not know them):"]
        lines += [f"  {key}: {len(ids)} pairs ({', '.join(ids)})" for key, ids in sorted(dropped.items())]
    lines += ["", "A pair alerts when its second capture's event has alert: true.",
              ("TP: change pairs that alert; FN: change pairs that do not; "
               "FP: noise pairs that alert; TN: noise pairs that do not."), ""]
    rows = [["mode", "TP", "FN", "FP", "TN", "precision", "recall", "seconds"]]
    for m in modes:
        s = score(m, corpus.pairs)
        rows.append([m.name, str(s["tp"]), str(s["fn"]), str(s["fp"]), str(s["tn"]),
                     _ratio(s["tp"], s["tp"] + s["fp"]), _ratio(s["tp"], s["tp"] + s["fn"]), f"{m.seconds:.1f}"])
    lines += _table(rows)
    lines += ["", "per kind: pairs that alert, of the kind's pairs (a change kind wants all, a noise kind none)", ""]
    rows = [["kind", "label", "pairs", *[m.name for m in modes]]]
    for kind in corpus.kinds.values():
        pairs = [p for p in corpus.pairs if p.kind == kind.name]
        rows.append([kind.name, kind.label, str(len(pairs)),
                     *[str(sum(alerted(m.events[p.id][1]) for p in pairs)) for m in modes]])
    lines += _table(rows)
    for m in modes:
        wrong = [p for p in corpus.pairs if (p.label == "change") != alerted(m.events[p.id][1])]
        lines += ["", f"wrong in mode {m.name} ({len(wrong)}):"]
        rows = [["", "pair", "kind", "verdict", "summary"]]
        for p in wrong:
            e = m.events[p.id][1]
            verdict = e["verdict"] + (f"/{e['reason']}" if e["reason"] else "")
            rows.append(["FN" if p.label == "change" else "FP", p.id, p.kind, verdict, e["summary"] or ""])
        lines += ["  " + line for line in _table(rows)] if wrong else ["  none"]
        odd = [p.id for p in corpus.pairs if m.events[p.id][1]["verdict"] not in ("unchanged", *ALERT_VERDICTS)]
        if odd:
            lines.append(f"  unexpected verdicts: {', '.join(odd)}")
    lines += ["", f"took {took:.1f} s"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help=f"keep the work directory ({OUT / 'work'})")
    ap.add_argument("--only", choices=("page", "default"), action="append",
                    help="run one mode (repeatable); default: both")
    args = ap.parse_args(argv)
    started = time.monotonic()
    corpus = load_corpus()
    built = {p.id: build(p) for p in corpus.pairs}
    known = _known_target_keys()
    keys, dropped = {}, {}
    for p in corpus.pairs:
        keys[p.id], unknown = split_keys(p.keys, known)
        for key in unknown:
            dropped.setdefault(key, []).append(p.id)

    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    site = Site()
    try:
        modes = []
        if not args.only or "page" in args.only:
            page = Mode("page", "every target has `select: page` (today's behaviour: the whole page's text "
                                "is compared)", "page")
            if not _probe_select_page(site, work):
                page.select = None
                page.notes.append("the installed lastseen reads `select: page` as a CSS selector (no <page> "
                                  "element: select-empty), so this mode leaves `select` out: the same whole-page "
                                  "comparison")
            modes.append(page)
        if not args.only or "default" in args.only:
            modes.append(Mode("default", "no `select` on any target (the default)", None))
        for mode in modes:
            _run_mode(mode, corpus, built, keys, site, work)
    finally:
        site.close()
    text = report(corpus, modes, dropped, time.monotonic() - started)
    print(text)
    results = {"pairs": len(corpus.pairs), "lastseen": _measured(),
               "dropped_keys": dropped,
               "modes": {m.name: {"settings": m.settings, "select": m.select, "notes": m.notes,
                                  "seconds": round(m.seconds, 2), **score(m, corpus.pairs),
                                  "events": {pid: {"label": corpus.pair(pid).label, "kind": corpus.pair(pid).kind,
                                                   "verdict": after["verdict"], "reason": after["reason"],
                                                   "alert": after["alert"], "summary": after["summary"]}
                                             for pid, (_before, after) in m.events.items()}}
                         for m in modes}}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

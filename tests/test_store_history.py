"""A target's history as a run reads it (``CaptureStore.history``): its state and its failures in a row.

The state is the verdict of its last event not awaiting confirmation, the failures the unreachable or blocked
events in a row, newest first, both looked for up to ``STATE_HORIZON`` events back. The run reads its last
few events first and further back only when they do not show both (#17: a year of daily captures read 100
events a target a run): the answers are those of the whole horizon, far back or near.
"""

from __future__ import annotations

import hashlib

import pytest

from crawler.store import CaptureStore
from crawler.store.records import RECENT_VERDICTS, STATE_HORIZON

URL = "https://procurement.example/notice"


def _store(tmp_path, events: list[tuple[str, int | None]]) -> CaptureStore:
    """An index whose one target has ``events`` ((verdict, confirmed), oldest first), one capture each."""
    store = CaptureStore(tmp_path / "lastseen.db")
    text = "Notice 12/2026: tender for city surveillance cameras."
    sha = hashlib.sha256(text.encode()).hexdigest()
    store.upsert_targets([{"name": "notice", "url": URL, "tags": "[]", "first_seen": "2026-01-01T00:00:00Z",
                           "updated": "2026-01-01T00:00:00Z"}])
    for i, (verdict, confirmed) in enumerate(events):
        run, at = f"run-{i:04d}", f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
        store.begin_run({"id": run, "started": at})
        ok = verdict not in ("unreachable", "blocked", "vanished")
        capture = {"run_id": run, "target": "notice", "url": URL, "final_url": URL if ok else None,
                   "status": 200 if ok else None, "status_chain": "[200]" if ok else "[]", "started": at,
                   "text_sha256": sha if ok else None, "good": int(ok),
                   "error_kind": None if ok else "timeout"}
        with store.transaction():
            store.insert_capture(capture, [], (sha, text) if ok else None,
                                 {"run_id": run, "target": "notice", "verdict": verdict, "reason": None, "alert": 0,
                                  "confirmed": confirmed})
    return store


CASES = {
    "quiet": [("new", None)] + [("unchanged", None)] * 30,
    "failing longer than the last few": [("new", None), ("changed", None)] + [("unreachable", None)] * 15,
    "awaiting confirmation longer than the last few": [("new", None), ("changed", 1)] + [("vanished", 0)] * 12,
    "failing past the horizon": [("new", None)] + [("blocked", None)] * (STATE_HORIZON + 5),
    "fewer than the last few": [("new", None), ("unreachable", None), ("unreachable", None)],
}


@pytest.mark.parametrize("name", list(CASES))
def test_state_and_failures_are_those_of_the_whole_horizon(tmp_path, name):
    events = CASES[name]
    assert len(events) > RECENT_VERDICTS or name == "fewer than the last few"
    store = _store(tmp_path, events)
    try:
        history = store.history("notice")
    finally:
        store.close()
    window = list(reversed(events))[:STATE_HORIZON]  # newest first, as far back as the horizon
    state = next((v for v, confirmed in window if confirmed != 0), None)
    failures = next((i for i, (v, _) in enumerate(window) if v not in ("unreachable", "blocked")), len(window))
    assert (history.state, history.failures) == (state, failures)
    assert history.recent_verdicts == tuple(v for v, _ in window[:RECENT_VERDICTS])
    expected = {"quiet": ("unchanged", 0), "failing longer than the last few": ("unreachable", 15),
                "awaiting confirmation longer than the last few": ("changed", 0),
                "failing past the horizon": ("blocked", STATE_HORIZON),
                "fewer than the last few": ("unreachable", 2)}[name]
    assert (history.state, history.failures) == expected

"""Terminal injection from archived text (#7, defect 2): what a page or a watchlist says is shown as text.

A page title ``[/]`` once crashed the run's table (rich ``MarkupError``), ``[link=…]`` became a
clickable link, and escape sequences from a page reached the terminal. Here ``lastseen run`` and
``lastseen status`` run as real processes on a pseudo-terminal (:func:`on_a_terminal`), so rich
really draws the progress bar and the tables, and everything they wrote is read back. rich's own
styling escapes are allowed; the page's exact sequences are not, while their visible ``\\uXXXX``
forms are. ``--json`` and the WARC keep the exact text.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
import unicodedata
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from crawler.cli import _print_problems
from crawler.formatting import BIDI_CONTROLS, one_line, printable

from .helpers import lastseen, record_at, write_watchlist

#: A page title that is rich markup, escape sequences (clear screen, an OSC window title ended by
#: BEL, an 8-bit CSI) and a right-to-left override.
HOSTILE_TITLE = "[/] \x1b[2J \x1b]0;pwned\x07 [link=https://evil.example/]click[/link] \x9b31m \u202egnp.exe"
SHOWN_TITLE = "[/] \\u001b[2J \\u001b]0;pwned\\u0007 [link=https://evil.example/]click[/link] \\u009b31m \\u202egnp.exe"
HOSTILE_PAGE = f"<html><head><title>{HOSTILE_TITLE}</title></head><body><p>{HOSTILE_TITLE}</p></body></html>"
#: Target names that are rich markup (control characters are refused by the watchlist).
MARKUP_NAMES = ("[/]", "[link=https://evil.example/]watch[/link]")
#: Byte sequences from the page that must never reach the terminal.
RAW_SEQUENCES = (b"\x1b[2J", b"\x1b]0;pwned", b"pwned\x07", "\x9b".encode(), "\u202e".encode())


def on_a_terminal(cwd, *args: str, columns: int = 240, timeout: float = 120.0) -> tuple[int, bytes]:
    """Run ``python -m crawler ARGS`` with stdin, stdout and stderr on a pseudo-terminal.

    Returns its exit status and every byte it wrote to the terminal (read until the last
    writer closed it). ``columns`` is the terminal's width, wide enough that nothing folds.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    try:
        proc = subprocess.Popen([sys.executable, "-m", "crawler", *args], cwd=cwd, env=env,
                                stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    finally:
        os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"lastseen {' '.join(args)} still running after {timeout}s; wrote {bytes(out)!r}"
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError as exc:
                if exc.errno != errno.EIO:  # EIO: every process holding the terminal closed it
                    raise
                break
            if not chunk:
                break
            out += chunk
        return proc.wait(timeout=max(1.0, deadline - time.monotonic())), bytes(out)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _assert_shown_as_text(out: bytes) -> None:
    assert b"Traceback" not in out and b"MarkupError" not in out, out.decode(errors="replace")
    for raw in RAW_SEQUENCES:
        assert raw not in out, (raw, out)
    assert b"\x1b]8;" not in out  # no hyperlink at all, let alone to https://evil.example


def _watchlist(tmp_path, site):
    site.set("/hostile", HOSTILE_PAGE)
    site.set("/plain", "<html><head><title>plain</title></head><body><p>plain page</p></body></html>")
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": MARKUP_NAMES[0], "url": site.url("/hostile")},
        {"name": MARKUP_NAMES[1], "url": site.url("/plain")},
    ])


def test_terminal_injection_from_archived_text_run_table_and_progress_bar(tmp_path, site):
    _watchlist(tmp_path, site)
    status, out = on_a_terminal(tmp_path, "run", "--summary")
    assert status == 0, out.decode(errors="replace")
    _assert_shown_as_text(out)
    assert b"\x1b[" in out  # rich did draw (and style) on a terminal: its own escapes are fine
    text = out.decode()
    assert SHOWN_TITLE in text  # the title in the table's summary cell, literally
    for name in MARKUP_NAMES:
        assert name in text  # in the table
    # The progress bar was drawn with the last target's name (whichever came last), as text.
    assert any(f"{name}: new" in text for name in MARKUP_NAMES)
    assert "lastseen run " in text and "2 new" in text  # the --summary line


def test_terminal_injection_from_archived_text_status_table(tmp_path, site):
    _watchlist(tmp_path, site)
    assert lastseen(tmp_path, "run", "--json").exit_code == 0
    status, out = on_a_terminal(tmp_path, "status")
    assert status == 0, out.decode(errors="replace")
    _assert_shown_as_text(out)
    text = out.decode()
    for name in MARKUP_NAMES:
        assert name in text


def test_status_table_fits_the_terminal_and_a_pipe_gets_a_row_a_line(tmp_path, site):
    """On a terminal the table is as wide as the terminal (cells wrapped); piped, each row is one line (#17)."""
    _watchlist(tmp_path, site)
    assert lastseen(tmp_path, "run", "--json").exit_code == 0
    status, out = on_a_terminal(tmp_path, "status", columns=60)
    assert status == 0, out.decode(errors="replace")
    lines = out.decode().replace("\r\n", "\n").splitlines()[1:]  # below the title
    assert {cell_len(line) for line in lines} == {60} and len(lines) > 4 + len(MARKUP_NAMES)  # wrapped rows
    piped = subprocess.run([sys.executable, "-m", "crawler", "status"], cwd=tmp_path, capture_output=True,
                           env={k: v for k, v in os.environ.items() if k != "COLUMNS"}, check=True)
    lines = piped.stdout.decode().splitlines()[1:]
    assert len(lines) == 4 + len(MARKUP_NAMES) and len({cell_len(line) for line in lines}) == 1
    assert all(any(line.startswith(f"│ {name} ") for line in lines) for name in MARKUP_NAMES)


def test_terminal_injection_json_and_warc_keep_the_exact_text(tmp_path, site):
    _watchlist(tmp_path, site)
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 0
    event = ran.event("[/]")
    assert event["summary"] == f"first capture: {HOSTILE_TITLE}"  # exactly, controls and all
    assert ran.event(MARKUP_NAMES[1])["target"] == MARKUP_NAMES[1]
    rec_type, _headers, _http, payload = record_at(tmp_path / event["warc"]["file"], event["warc"]["offset"])
    assert rec_type == "response" and payload == site.sent("/hostile") == HOSTILE_PAGE.encode()


def test_terminal_injection_cron_mail_lines_show_controls_as_text(capsys):
    """The stderr lines cron mails (no sink configured, or every sink failed) are one line per alert."""
    hostile = "[/]\x1b]0;pwned\x07\n\x1b[2J\u202eevil\x85"
    event = SimpleNamespace(target=hostile, verdict="changed", reason="x\x1b[2J", summary=hostile,
                            url="https://x.example/\u202e", alert=True,
                            robots_changed={"added": [f"User-agent: {hostile} / Disallow: /"], "removed": []})
    result = SimpleNamespace(
        run_id="r1", events=[event], report=None,
        carried=[{"run": "r0\x1b[2J", "target": hostile, "verdict": "vanished", "reason": None,
                  "summary": hostile, "url": "https://y.example/"}],
        carried_robots=[{"run": "r0\x1b[2J", "url": "https://y.example/robots.txt", "added": [hostile],
                         "removed": []}],
        alerts=[SimpleNamespace(ok=False, sink="json://127.0.0.1/…", error="refused \x1b]0;pwned\x07")],
    )
    _print_problems(result, SimpleNamespace(alerts=["json://127.0.0.1/"]), interactive=False)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 6  # the failure, the heading, one line per alert (carried and robots.txt included)
    assert lines[0] == "lastseen: alert to json://127.0.0.1/… failed: refused \\u001b]0;pwned\\u0007"
    assert "every alert sink failed" in lines[1]
    shown = "[/]\\u001b]0;pwned\\u0007 \\u001b[2J\\u202eevil"
    assert lines[2] == f"  {shown}: changed (x\\u001b[2J): {shown} <https://x.example/\\u202e>"
    assert lines[3] == f"  [earlier run r0\\u001b[2J, not finished] {shown}: vanished: {shown} <https://y.example/>"
    assert lines[4] == (f"  https://x.example/robots.txt now shuts archive crawlers out of watched paths: "
                        f"added User-agent: {shown} / Disallow: /")
    assert lines[5] == ("  [earlier run r0\\u001b[2J, not finished] https://y.example/robots.txt now shuts archive "
                        f"crawlers out of watched paths: added {shown}")
    for raw in ("\x1b", "\x07", "\u202e", "\x85"):
        assert raw not in captured.err


# -- printable: every class of code point -------------------------------------------------------------

C0_SHOWN = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069"]
SURROGATES = [chr(0xD800), chr(0xDFFF)]  # lone: no terminal encoding can write them


@pytest.mark.parametrize("char", [*C0_SHOWN, "\x7f", *C1, *BIDI, *SURROGATES],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_terminal_injection_printable_shows_each_control_as_its_code(char):
    assert printable(f"a{char}b") == f"a\\u{ord(char):04x}b"


def test_terminal_injection_printable_table_is_the_issues_list():
    assert sorted(BIDI_CONTROLS) == BIDI
    assert all(unicodedata.category(c) == "Cf" for c in BIDI)
    assert printable("\x1b") == "\\u001b"  # the issue's example, lower-case hex


@pytest.mark.parametrize("text", [
    "tab\tand\nnewline stay", "plain ASCII [bold]markup[/] is text here", "العربية עברית 中文 émoji 🙂",
    "\u00a0no-break space, \u00ad soft hyphen, \u200b zero-width space, \u2028 line separator",
    "a literal \\u001b is left alone",
])
def test_terminal_injection_printable_keeps_everything_else(text):
    assert printable(text) == text


@settings(max_examples=300)
@given(st.text(st.sampled_from(" \t\n\r\x0b\x1b\x7f\x85\u00a0\u2028\u202e\ud800aZ-[/]") | st.characters()))
def test_one_line_is_printable_of_the_text_flattened(text):
    """Whatever the text, :func:`one_line` is :func:`printable` of it with whitespace runs one space, stripped
    (its shortcut for text already one printable ASCII line included, #17)."""
    assert one_line(text) == printable(re.sub(r"\s+", " ", text).strip())


def test_terminal_injection_one_line_flattens_then_shows_controls():
    assert one_line("  a\r\n\tb\x0bc\x0c d\u2028e\x85f  ") == "a b c d e f"  # whitespace runs, as before
    assert one_line("x\x1b[2J\ny\x07") == "x\\u001b[2J y\\u0007"
    assert one_line(42) == "42"

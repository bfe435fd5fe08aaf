"""RFC 3161 time-stamping with the ``openssl ts`` command: a query, its HTTP POST, the reply checked.

lastseen builds a ``TimeStampReq`` over a SHA-256 it is given (``openssl ts -query -digest HEX -sha256
-cert``: a random 64-bit nonce, certReq true), POSTs it to a time-stamping authority (TSA) as
``application/timestamp-query`` with bounded time and size, and checks the ``TimeStampResp`` that comes
back with ``openssl ts -verify -queryfile``: status granted, the message imprint and nonce those of the
query, the signature made by a certificate for time-stamping that chains to the TSA's certificates
(``settings.timestamp_ca``). These are the commands a third party runs to check a token
(docs/evidence.md, "Trusted timestamps"), so lastseen trusts nothing the third party could not check.
``openssl`` is on every Debian and Ubuntu; each call is bounded (:data:`OPENSSL_TIMEOUT`).

Every failure (no ``openssl``, the TSA unreachable, an HTTP error, a reply that does not verify) raises
:class:`TimestampError`, whose message says what happened; the caller records it (:mod:`crawler.timestamps`).
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "MAX_REPLY",
    "OPENSSL_TIMEOUT",
    "QUERY_TYPE",
    "TimestampError",
    "Token",
    "display_url",
    "read_token",
    "stamp",
    "verify_token",
]

#: Seconds one ``openssl`` call may take (they take a few milliseconds).
OPENSSL_TIMEOUT = 30.0
#: Largest reply read from a TSA (a token with its certificates is a few kilobytes).
MAX_REPLY = 2**20
QUERY_TYPE = "application/timestamp-query"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "Jan",
            "Feb",
            "Mar",
            "Apr",
            "May",
            "Jun",
            "Jul",
            "Aug",
            "Sep",
            "Oct",
            "Nov",
            "Dec",
        ),
        1,
    )
}
# openssl prints genTime as "Nov 28 03:30:08 2026 GMT" (with ".123" after the seconds when the TSA gives them)
_GEN_TIME = re.compile(
    r"^Time stamp: (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)? (\d{4}) GMT$",
    re.MULTILINE,
)


class TimestampError(Exception):
    """Time-stamping failed: the message says what happened (recorded, never raised out of a run)."""


@dataclass(frozen=True)
class Token:
    """A checked reply: the DER ``TimeStampResp`` as received, and what its ``TSTInfo`` says."""

    reply: bytes
    gen_time: str | None  # ISO 8601 UTC, as the TSA wrote it (fractions kept)
    serial: str | None  # the token's serial number, as openssl prints it (0x…)
    tsa: str | None  # the TSA's name in the token, if it gives one


def display_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``: the form stored, shown and said in errors."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(
        parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1])
    )


def _openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        raise TimestampError(
            "the openssl command is not installed (Debian/Ubuntu: apt install openssl); "
            "it builds and checks the time-stamp"
        )
    return found


def _run(args: list[str], what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [_openssl(), "ts", *args],
            capture_output=True,
            timeout=OPENSSL_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TimestampError(
            f"openssl ts {what} took longer than {OPENSSL_TIMEOUT:g} s"
        ) from None
    except OSError as exc:
        raise TimestampError(
            f"openssl ts {what} could not run ({exc.strerror or exc})"
        ) from exc


def _last_error(proc: subprocess.CompletedProcess) -> str:
    """openssl's own words: its last line that is not a banner."""
    lines = [
        ln.strip()
        for ln in (proc.stderr + proc.stdout).decode("utf-8", "replace").splitlines()
    ]
    lines = [ln for ln in lines if ln and not ln.startswith("Using configuration from")]
    return lines[-1][:300] if lines else f"exit status {proc.returncode}"


def _query(digest: str, directory: Path) -> Path:
    path = directory / "query.tsq"
    proc = _run(
        ["-query", "-digest", digest, "-sha256", "-cert", "-out", str(path)], "-query"
    )
    if proc.returncode != 0 or not path.is_file():
        raise TimestampError(f"openssl ts -query failed: {_last_error(proc)}")
    return path


def _post(url: str, query: bytes, *, timeout: float, cafile: str | None) -> bytes:
    """POST the query; the reply's bytes. Redirects are not followed; each socket operation waits at most
    ``timeout``, and the body's reading stops once ``timeout`` has passed since the request was sent."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None

    context = ssl.create_default_context()
    if cafile:
        context.load_verify_locations(cafile)
    opener = urllib.request.build_opener(
        _NoRedirect, urllib.request.HTTPSHandler(context=context)
    )
    request = urllib.request.Request(
        url,
        data=query,
        method="POST",
        headers={
            "Content-Type": QUERY_TYPE,
            "Accept": "application/timestamp-reply",
            "User-Agent": "lastseen",
        },
    )
    deadline, shown = time.monotonic() + timeout, display_url(url)
    try:
        with opener.open(request, timeout=timeout) as response:
            chunks, size = [], 0
            while chunk := response.read1(65536):
                size += len(chunk)
                if size > MAX_REPLY:
                    raise TimestampError(
                        f"the reply of {shown} is larger than {MAX_REPLY // 1024} KiB"
                    )
                if time.monotonic() > deadline:
                    raise TimestampError(
                        f"the reply of {shown} took longer than {timeout:g} s"
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        exc.close()  # its response, and the connection under it
        raise TimestampError(f"{shown} answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise TimestampError(f"cannot reach {shown}: {exc.reason}") from None
    except (
        OSError,
        ValueError,
    ) as exc:  # timeouts, resets, a malformed answer (http.client)
        raise TimestampError(
            f"cannot reach {shown}: {exc or type(exc).__name__}"
        ) from None


def read_token(reply: bytes) -> Token:
    """What a ``TimeStampResp`` says (``openssl ts -reply -in FILE -text``), unchecked; raises
    :class:`TimestampError` when it is no reply, or when its status is not granted."""
    with tempfile.TemporaryDirectory(prefix="lastseen-ts-") as tmp:
        path = Path(tmp) / "reply.tsr"
        path.write_bytes(reply)
        proc = _run(["-reply", "-in", str(path), "-text"], "-reply -text")
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise TimestampError(
            f"the reply is not an RFC 3161 time-stamp response ({_last_error(proc)})"
        )
    status = re.search(r"^Status: (.*)$", text, re.MULTILINE)
    if status is None or not status.group(1).startswith("Granted"):
        said = status.group(1).rstrip(".") if status else "none"
        why = re.search(r"^Status description: (.*)$", text, re.MULTILINE)
        failure = re.search(r"^Failure info: (.*)$", text, re.MULTILINE)
        detail = ", ".join(
            m.group(1) for m in (why, failure) if m and m.group(1) != "unspecified"
        )
        raise TimestampError(
            f"the authority did not grant the time-stamp: status {said}"
            + (f" ({detail})" if detail else "")
        )
    gen = _GEN_TIME.search(text)
    gen_time = None
    if gen:
        mon, day, hh, mm, ss, frac, year = gen.groups()
        stamp_ = datetime(
            int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=UTC
        )
        gen_time = stamp_.strftime("%Y-%m-%dT%H:%M:%S") + (frac or "") + "Z"
    serial = re.search(r"^Serial number: (.*)$", text, re.MULTILINE)
    tsa = re.search(r"^TSA: (.*)$", text, re.MULTILINE)
    return Token(
        reply,
        gen_time,
        serial.group(1) if serial else None,
        tsa.group(1) if tsa and tsa.group(1) != "unspecified" else None,
    )


def verify_token(reply: bytes, *, digest: str, ca_file: str | Path) -> str | None:
    """None when ``reply`` is a granted token over ``digest`` (SHA-256, hex) whose signature verifies against
    the certificates of ``ca_file`` (``openssl ts -verify -digest HEX -in FILE -CAfile CA``); else why not."""
    if not _HEX64.match(digest):
        return f"{digest!r} is not a SHA-256 in hex"
    with tempfile.TemporaryDirectory(prefix="lastseen-ts-") as tmp:
        path = Path(tmp) / "reply.tsr"
        path.write_bytes(reply)
        proc = _run(
            ["-verify", "-digest", digest, "-in", str(path), "-CAfile", str(ca_file)],
            "-verify",
        )
    return None if proc.returncode == 0 else f"openssl ts -verify: {_last_error(proc)}"


def stamp(
    url: str,
    digest: str,
    *,
    ca_file: str | Path,
    timeout: float,
    https_ca: str | None = None,
) -> Token:
    """Time-stamp ``digest`` (SHA-256, hex: the message imprint) at the TSA ``url``; the checked token.

    The reply must be granted, carry the query's imprint and nonce, and be signed by a time-stamping
    certificate chaining to ``ca_file`` (``openssl ts -verify -queryfile``). ``https_ca``: extra CAs to trust
    for an https ``url`` (``settings.ca_certs``). Raises :class:`TimestampError`."""
    if not _HEX64.match(digest):
        raise TimestampError(f"{digest!r} is not a SHA-256 in hex")
    with tempfile.TemporaryDirectory(prefix="lastseen-ts-") as tmp:
        query = _query(digest, Path(tmp))
        reply = _post(url, query.read_bytes(), timeout=timeout, cafile=https_ca)
        token = read_token(reply)
        path = Path(tmp) / "reply.tsr"
        path.write_bytes(reply)
        proc = _run(
            [
                "-verify",
                "-queryfile",
                str(query),
                "-in",
                str(path),
                "-CAfile",
                str(ca_file),
            ],
            "-verify",
        )
        if proc.returncode != 0:
            raise TimestampError(
                f"the reply of {display_url(url)} does not verify against timestamp_ca "
                f"(openssl ts -verify: {_last_error(proc)})"
            )
    return token

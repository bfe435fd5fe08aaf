"""The README.txt of an evidence bundle (:mod:`crawler.bundle`): what the bundle is and how to check it with
third-party tools only. Pure: facts in, text out.

Every name or URL from the archive or the watchlist is shown on one line with its controls made visible
(:func:`~crawler.formatting.one_line`): the file is plain text, its URLs are text, never links to follow.
Each command is a line of its own starting with ``  $ `` (:data:`PROMPT`), runnable as written by ``bash``
in the unzipped bundle's folder; each exits 0 when what it checks holds (tests/test_bundle.py runs them).
"""

from __future__ import annotations

from dataclasses import dataclass

from .formatting import one_line

__all__ = ["PROMPT", "ReadmeFacts", "chain_command", "commands", "readme_text"]

#: How a command line starts in README.txt.
PROMPT = "  $ "

WACZ = "captures.wacz"
CHANGE_PAGE = "change.html"
CUSTODY = "custody.jsonl"
TOKEN = "timestamp.tsr"
TSA_CA = "tsa-ca.pem"
PUBLIC_KEY = "signing-key.pub.pem"
MANIFEST = "MANIFEST.sha256"
SIGNATURE = "MANIFEST.sha256.sig"
README = "README.txt"
UNZIPPED = "captures.unzipped"


@dataclass(frozen=True)
class ReadmeFacts:
    event: str
    target: str
    url: str
    before: str  # "capture 12, fetched 2026-05-01T09:00:00Z, HTTP 200"
    after: str
    verdict: str
    made: str  # ISO 8601 UTC
    software: str
    first_seq: int
    head: dict  # {"seq", "sha256"}
    token_seq: int | None = None
    fingerprint: str | None = None


def chain_command() -> str:
    """One bash line, in a subshell, that recomputes custody.jsonl's chain with ``jq`` and ``sha256sum``:
    consecutive ``seq``, each ``prev`` the ``sha256`` of the line before, each ``sha256`` the SHA-256 of the
    entry's other fields as ``jq -cS`` prints them; exit 1 naming the first entry that does not hold."""
    return (
        f"( n=$(head -n 1 {CUSTODY} | jq -r .seq); prev=$(head -n 1 {CUSTODY} | jq -r .prev); first=$n; "
        f'while IFS= read -r line; do sha=$(jq -r .sha256 <<<"$line"); '
        f'[ "$(jq -r .seq <<<"$line")" = "$n" ] && [ "$(jq -r .prev <<<"$line")" = "$prev" ] && '
        f'[ "$(jq -cS \'del(.sha256)\' <<<"$line" | tr -d \'\\n\' | sha256sum | cut -c1-64)" = "$sha" ] '
        f'|| {{ echo "{CUSTODY}: entry $n does not hold"; exit 1; }}; prev=$sha; n=$((n + 1)); '
        f'done < {CUSTODY}; echo "chain holds: entries $first to $((n - 1)), head $prev" )'
    )


def commands(facts: ReadmeFacts) -> list[tuple[str, str]]:
    """``(what it checks, the command)`` in the order README.txt gives them."""
    out = [
        (
            "every file is the one the manifest lists (prints OK for each)",
            f"sha256sum --strict -c {MANIFEST}",
        )
    ]
    if facts.fingerprint:
        out += [
            (
                (
                    "the manifest is signed by the key in signing-key.pub.pem (prints Signature Verified "
                    "Successfully)"
                ),
                f"openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in {MANIFEST} -sigfile {SIGNATURE}",
            ),
            (
                "that key's fingerprint: compare it with the one you were given (lastseen's reports show it)",
                f"openssl pkey -pubin -in {PUBLIC_KEY} -outform DER | sha256sum",
            ),
        ]
    out += [
        (
            "the WACZ: its layout and the SHA-256 of every file in it (py-wacz)",
            f"wacz validate --file {WACZ}",
        ),
        (
            "every WARC record's digests (warcio), in the WACZ's WARC files",
            f"unzip -o -q {WACZ} -d {UNZIPPED} && warcio check -v {UNZIPPED}/archive/*.warc.gz",
        ),
        (
            "the custody entries chain: each holds the SHA-256 of the one before, up to the head",
            chain_command(),
        ),
    ]
    if facts.token_seq is not None:
        out.append(
            (
                (
                    f"an RFC 3161 time-stamping authority signed entry #{facts.token_seq}'s hash (prints "
                    f"Verification: OK); {TSA_CA} is the authority's certificate as the archive kept it: "
                    f"better, get it from the authority"
                ),
                (
                    f"openssl ts -verify -digest \"$(jq -r 'select(.seq == {facts.token_seq}) | .sha256' {CUSTODY})\" "
                    f"-in {TOKEN} -CAfile {TSA_CA}"
                ),
            )
        )
    return out


def readme_text(facts: ReadmeFacts, files: list[tuple[str, str]]) -> str:
    """README.txt: ``files`` is ``(name, what it holds)`` of every file of the bundle."""
    lines = [
        "lastseen evidence bundle",
        "========================",
        "",
        "One change that lastseen (a monitor that archives web pages and compares them) saw on a web page,",
        "with what anyone needs to check it without lastseen, using standard tools only.",
        "",
        f"  Event:       {one_line(facts.event)}",
        f"  Target:      {one_line(facts.target)}",
        f"  URL (text):  {one_line(facts.url)}",
        f"  Verdict:     {one_line(facts.verdict)}",
        f"  Before:      {one_line(facts.before)}",
        f"  After:       {one_line(facts.after)}",
        f"  Bundled:     {facts.made} by {one_line(facts.software)}",
        (
            f"  Custody:     entries #{facts.first_seq} to #{facts.head['seq']} (the chain head then: "
            f"{facts.head['sha256']})"
        ),
    ]
    if facts.token_seq is not None:
        lines.append(
            f"  Time-stamp:  entry #{facts.token_seq}, by an RFC 3161 authority ({TOKEN})"
        )
    if facts.fingerprint:
        lines.append(
            f"  Signed by:   the Ed25519 key of fingerprint {facts.fingerprint}"
        )
    lines += ["", "Files", "-----", ""]
    width = max(len(n) for n, _ in files) + 2
    lines += [f"  {name.ljust(width)}{what}" for name, what in files]
    lines += [
        "",
        "How to check it",
        "---------------",
        "",
        "In this folder, with bash, coreutils (sha256sum), OpenSSL 3, jq, unzip, warcio",
        "(pip install warcio) and py-wacz (pip install wacz). Each command exits 0 when what it",
        "checks holds; change any byte of any file here and one of them fails.",
        "",
    ]
    for i, (what, command) in enumerate(commands(facts), 1):
        lines += [f"{i}. {what}:", f"{PROMPT}{command}", ""]
    lines += [
        "What this proves, and what it does not",
        "--------------------------------------",
        "",
        "The records in captures.wacz are byte for byte those lastseen wrote when it fetched the page; the",
        "custody entries list each record's SHA-256 and chain up to a head that was published (report",
        "footers, alerts) or time-stamped: nothing here was changed after that. It does not prove that the",
        "server told the truth, only what it sent.",
        "",
    ]
    return "\n".join(lines)

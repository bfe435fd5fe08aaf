"""robots.txt compared between runs: rules added that shut archive crawlers out of watched paths (pure).

A site about to take pages down often first asks archive crawlers to stay away. With
``settings.watch_robots`` each host's robots.txt is fetched once per run (:mod:`crawler.judge`) and
compared here with the last one archived for that host. Decisions are Protego's (the parser Scrapy
itself uses, already installed with it): RFC 9309 longest-match, ``*`` and ``$`` in paths, and agent
groups matched as crawlers match them, which the stdlib ``urllib.robotparser`` does not do (it takes
the first matching rule and knows no wildcards, so it would misjudge the very rules sites write).
The rules named in ``added`` / ``removed`` are read line by line from the groups of archive crawlers.
"""

from __future__ import annotations

import re

from protego import Protego

__all__ = ["ARCHIVE_AGENTS", "compare_robots", "robots_text"]

#: Crawlers whose exclusion means "do not archive": the Internet Archive's two, and every crawler.
ARCHIVE_AGENTS = ("ia_archiver", "archive.org_bot", "*")

_LINE = re.compile(r"^\s*(user-agent|allow|disallow)\s*:\s*([^#]*)", re.IGNORECASE)
MAX_ROBOTS = 500 * 1024  # RFC 9309 §2.5: a crawler parses at least 500 KiB


def robots_text(status: int | None, body: bytes | None) -> str | None:
    """What a robots.txt answer says: its text for a 2xx, ``""`` (no rules) for a 4xx, None when unknown
    (a 5xx or no answer: RFC 9309 says assume complete disallow, so it is not compared)."""
    if status is None:
        return None
    if 200 <= status < 300:
        return None if body is None else body[:MAX_ROBOTS].decode("utf-8", "replace")
    if 400 <= status < 500:
        return ""
    return None


def _archive_rules(text: str) -> list[str]:
    """The archive crawlers' rules, each as ``User-agent: <agent> / Disallow: <path>``, in file order."""
    rules: list[str] = []
    agents: list[str] = []
    in_rules = False
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        field, value = m.group(1).lower(), m.group(2).strip()
        if field == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
            continue
        in_rules = True
        for agent in agents:
            if agent in ARCHIVE_AGENTS:
                rule = f"User-agent: {agent} / {field.capitalize()}: {value}"
                if rule not in rules:
                    rules.append(rule)
    return rules


def _shut_out(text: str, urls: list[str]) -> set[tuple[str, str]]:
    parser = Protego.parse(text)
    return {
        (agent, url)
        for agent in ARCHIVE_AGENTS
        for url in urls
        if not parser.can_fetch(url, agent)
    }


def compare_robots(old: str | None, new: str | None, urls: list[str]) -> dict | None:
    """How ``new`` differs from ``old`` (None: nothing to compare: a first robots.txt is the baseline).

    ``{"added": [...], "removed": [...], "alert": bool, "shut_out": [...]}``: the archive crawlers' rules
    added and removed, whether some archive crawler is now shut out of one of ``urls`` (the host's
    watched pages) that it could fetch before, and those URLs. None when either is unknown or they are equal.
    """
    if old is None or new is None or old == new:
        return None
    before, after = _archive_rules(old), _archive_rules(new)
    newly = _shut_out(new, urls) - _shut_out(old, urls)
    return {
        "added": [r for r in after if r not in before],
        "removed": [r for r in before if r not in after],
        "alert": bool(newly),
        "shut_out": sorted({url for _, url in newly}),
    }

"""Which addresses are private: a watched public page must not lead the monitor into a private network.

A redirect from a page served from a public address to a loopback, private,
link-local (``169.254.169.254``: cloud metadata) or otherwise non-global one
would make the monitor fetch an internal service and archive its answer, which
then lands in reports that analysts forward. :class:`AddressPolicy` says which
addresses count as private, judged by the IP address itself (never by the host
name, which anyone can point anywhere).

Tests on 127.0.0.1 need a "public" server: ``LASTSEEN_PUBLIC_ADDRESSES`` (a
comma-separated list of ``ip`` or ``ip:port``, ``[v6]:port`` for IPv6) declares
those addresses public. It is for tests; a real deployment has no reason to set it.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

__all__ = ["ENV_PUBLIC", "AddressPolicy"]

ENV_PUBLIC = "LASTSEEN_PUBLIC_ADDRESSES"


def _parse_public(value: str) -> frozenset[tuple[str, int | None]]:
    out = set()
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        host, port = item, None
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
        elif item.count(":") == 1:
            host, _, p = item.partition(":")
            port = int(p)
        out.add((str(ipaddress.ip_address(host)), port))
    return frozenset(out)


@dataclass(frozen=True)
class AddressPolicy:
    """Classifies IP addresses as public or private; ``public`` lists exceptions (ip, port or None)."""

    public: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)

    @classmethod
    def from_environment(cls) -> "AddressPolicy":
        return cls(_parse_public(os.environ.get(ENV_PUBLIC, "")))

    def is_private(self, ip: str | None, port: int | None = None) -> bool:
        """True for loopback, private, link-local, shared (CGNAT), reserved and other non-global addresses."""
        if not ip:
            return False
        try:
            addr = ipaddress.ip_address(ip.strip("[]").split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if (str(addr), port) in self.public or (str(addr), None) in self.public:
            return False
        return not addr.is_global

    def describe(self, ip: str) -> str:
        """``loopback``, ``link-local``, ``private``... for messages."""
        try:
            addr = ipaddress.ip_address(ip.strip("[]").split("%", 1)[0])
        except ValueError:
            return "unknown"
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
            if getattr(addr, f"is_{name}"):
                return name.replace("_", "-")
        return "not global"

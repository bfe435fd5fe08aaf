"""TLS that never refuses a capture but always says whether the certificate verified.

An investigator archives what a site served, valid certificate or not: a
self-signed, expired or mismatched certificate must not stop the capture. But
the evidence has to say so. :class:`RecordingTLSPolicy` is the Twisted
``IPolicyForHTTPS`` the download handler connects with. Each connection gets
``set_verify(VERIFY_PEER, callback)`` on one shared OpenSSL context that trusts
the system's CA store (plus ``settings.ca_certs``); the callback never refuses
(it returns True) but notes every chain error OpenSSL reports and checks the
host name against the leaf certificate with ``service_identity`` (RFC 6125,
as Twisted itself does). The result is filed in :class:`VerificationLog` under
``(host, port, SHA-256 of the leaf certificate)`` when the handshake presents
the leaf; the handler then looks it up from ``response.certificate``, the leaf
Scrapy attaches to every HTTPS response. Keying by the certificate itself
means a result can only ever describe the certificate the response came with.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import Encoding
from OpenSSL import SSL
from service_identity import CertificateError, VerificationError
from service_identity.hazmat import DNS_ID, IPAddress_ID, verify_service_identity
from service_identity.pyopenssl import extract_patterns
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.internet.ssl import CertificateOptions
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

#: Where distributions keep the system's CA bundle (Debian/Ubuntu, Fedora/RHEL, Alpine/macOS-like).
SYSTEM_CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)

_OP_LEGACY_SERVER_CONNECT = 0x4  # old servers without secure renegotiation (Scrapy sets it too)

# OpenSSL's own words for the X509_V_ERR_* codes a capture is likely to meet
# (X509_verify_cert_error_string); other codes are spelled from their names.
_MESSAGES = {
    2: "unable to get issuer certificate",
    4: "unable to decode issuer public key",
    7: "certificate signature failure",
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "unable to get local issuer certificate",
    21: "unable to verify the first certificate",
    22: "certificate chain too long",
    23: "certificate revoked",
    24: "invalid CA certificate",
    26: "unsupported certificate purpose",
    27: "certificate not trusted",
    28: "certificate rejected",
}
_CODE_NAMES = {
    value: name for name, value in vars(SSL.X509VerificationCodes).items()
    if name.startswith("ERR_") and isinstance(value, int)
}


def verify_message(code: int) -> str:
    """A readable message for an OpenSSL certificate verification error code."""
    if code in _MESSAGES:
        return _MESSAGES[code]
    name = _CODE_NAMES.get(code)
    if name:
        return name[4:].replace("_", " ").lower()
    return f"certificate verification error {code}"


def default_ca_bundle() -> str:
    """The system's CA bundle, or certifi's when the system has none where expected."""
    for path in SYSTEM_CA_BUNDLES:
        if os.path.isfile(path):
            return path
    import certifi

    return certifi.where()


def leaf_key(host: str, port: int, der: bytes) -> tuple[str, int, str]:
    return host.lower(), int(port), hashlib.sha256(der).hexdigest()


@dataclass
class Verification:
    """What a TLS handshake established about the server's certificate."""

    verified: bool | None
    error: str | None = None


class _Check:
    """The verification of one connection: filled in by OpenSSL's callbacks during the handshake."""

    __slots__ = ("host", "port", "log", "errors", "host_error", "leaf_seen")

    def __init__(self, host: str, port: int, log: "VerificationLog"):
        self.host = host
        self.port = port
        self.log = log
        self.errors: list[str] = []
        self.host_error: str | None = None
        self.leaf_seen = False

    def callback(self, conn, cert, errno: int, depth: int, ok: int) -> bool:
        # Never raise (pyOpenSSL would re-raise it and break the handshake) and never refuse.
        try:
            if not ok:
                message = verify_message(errno)
                if message not in self.errors:
                    self.errors.append(message)
            if depth == 0 and not self.leaf_seen:
                self.leaf_seen = True
                self.host_error = _check_host(cert, self.host)
                der = cert.to_cryptography().public_bytes(Encoding.DER)
                self.log.file(leaf_key(self.host, self.port, der), self)
        except Exception as exc:  # noqa: BLE001 - a certificate too broken to examine is a finding
            note = f"certificate could not be examined: {exc}"
            if note not in self.errors:
                self.errors.append(note)
        return True

    def result(self) -> Verification:
        problems = [*self.errors, *([self.host_error] if self.host_error else [])]
        if not problems:
            return Verification(True, None)
        return Verification(False, "; ".join(problems)[:500])


def _check_host(cert, host: str) -> str | None:
    """None when ``cert`` is valid for ``host`` (a DNS name or an IP address), else why not."""
    try:
        try:
            ipaddress.ip_address(host)
            service_id = IPAddress_ID(host)
        except ValueError:
            service_id = DNS_ID(host)
        patterns = extract_patterns(cert)
        verify_service_identity(patterns, [service_id], [])
    except (VerificationError, CertificateError) as exc:
        names = ", ".join(_pattern_text(p) for p in extract_patterns(cert)[:5]) or "no names"
        detail = "" if isinstance(exc, VerificationError) else f" ({exc})"
        return f"hostname mismatch: the certificate is for {names}, not {host}{detail}"
    except ValueError as exc:
        return f"host name {host!r} cannot be checked against the certificate: {exc}"
    return None


def _pattern_text(pattern) -> str:
    value = getattr(pattern, "pattern", None)
    if value is None:
        value = getattr(pattern, "ip", None)
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return str(value)


class VerificationLog:
    """Handshake results by (host, port, leaf SHA-256); one per fetcher process."""

    def __init__(self):
        self._checks: dict[tuple[str, int, str], _Check] = {}

    def file(self, key: tuple[str, int, str], check: _Check) -> None:
        self._checks[key] = check

    def lookup(self, host: str, port: int, certificate) -> Verification:
        """The verification of the connection that presented ``certificate`` (Twisted's, from the response)."""
        if certificate is None:
            return Verification(False, "the server presented no certificate")
        check = self._checks.get(leaf_key(host, port, certificate.dump()))
        if check is None:
            return Verification(None, "the certificate was not examined during the handshake")
        return check.result()


@implementer(IOpenSSLClientConnectionCreator)
class _ConnectionCreator:
    def __init__(self, policy: "RecordingTLSPolicy", host: str, port: int):
        self.policy = policy
        self.host = host
        self.port = port
        try:
            ipaddress.ip_address(host)
            self.server_name = None  # no SNI for IP addresses (RFC 6066)
        except ValueError:
            self.server_name = host.encode("ascii")

    def clientConnectionForTLS(self, tlsProtocol) -> SSL.Connection:
        conn = SSL.Connection(self.policy.context())
        if self.server_name:
            conn.set_tlsext_host_name(self.server_name)
        check = _Check(self.host, self.port, self.policy.log)
        conn.set_verify(SSL.VERIFY_PEER, check.callback)
        return conn


@implementer(IPolicyForHTTPS)
class RecordingTLSPolicy:
    """Connects to anything, verifies everything, refuses nothing; results go to ``log``."""

    def __init__(self, ca_certs: str | None = None):
        self.ca_certs = ca_certs
        self.log = VerificationLog()
        self._context: SSL.Context | None = None

    def context(self) -> SSL.Context:
        """One OpenSSL context for every connection, built at the first HTTPS request."""
        if self._context is None:
            ctx = CertificateOptions(fixBrokenPeers=True).getContext()
            ctx.set_options(_OP_LEGACY_SERVER_CONNECT)
            ctx.load_verify_locations(default_ca_bundle())
            if self.ca_certs:
                ctx.load_verify_locations(self.ca_certs)
            self._context = ctx
        return self._context

    def creatorForNetloc(self, hostname: bytes, port: int) -> _ConnectionCreator:
        host = hostname.decode("ascii") if isinstance(hostname, bytes) else hostname
        return _ConnectionCreator(self, host.strip("[]"), port)

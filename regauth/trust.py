"""The system's CA certificates, as OpenSSL's default paths name them, read no more than needed.

OpenSSL 3 parses a CA bundle at some 0.1 ms a certificate: `ssl.create_default_context()` spends 15–20 ms on the
~150 of a distribution bundle, at every start, before the first byte is sent — a tenth of a whole single-image
check. A hashed CA directory (`c_rehash`, `openssl rehash`) is read lazily instead: OpenSSL opens only the files
named after the subject hash of an issuer a handshake asks for.

Debian, Ubuntu and Alpine (the `ca-certificates` package, `update-ca-certificates`) keep both: the bundle
`ca-certificates.crt` and, in the same directory, one hash link per certificate in it. There the directory alone
is the same trust store, so it is used alone — when the counts agree. Anything else (a bundle elsewhere, e.g.
Fedora's; a bundle with certificates appended by hand; SSL_CERT_FILE pointing at another file) is loaded whole,
as `load_default_certs` does. The counts are the check: a directory edited by hand so that it holds as many
links as the bundle has certificates, but not the same ones, would go unnoticed.
"""

from __future__ import annotations

import os
import re
import ssl
import sys

DEBIAN_BUNDLE = "ca-certificates.crt"
_HASH_LINK = re.compile(r"[0-9a-f]{8}\.[0-9]+")
_PEM_BEGINS = (b"-----BEGIN CERTIFICATE-----", b"-----BEGIN TRUSTED CERTIFICATE-----")  # OpenSSL loads both


def default_context() -> ssl.SSLContext:
    """`ssl.create_default_context()` (verified, host names checked, TLS 1.2 minimum, SSLKEYLOGFILE honoured) with
    the system CAs read as `trust_system_cas` reads them."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:  # as the standard library does
        ctx.keylog_filename = keylog
    trust_system_cas(ctx)
    return ctx


def trust_system_cas(ctx: ssl.SSLContext) -> None:
    """Make `ctx` trust the system CAs: from the hashed directory alone where it is the same store, else as
    `load_default_certs` does."""
    paths = ssl.get_default_verify_paths()  # SSL_CERT_FILE and SSL_CERT_DIR already applied
    if paths.cafile and paths.capath and same_store(paths.cafile, paths.capath):
        ctx.load_verify_locations(capath=paths.capath)
    else:
        ctx.load_default_certs()


def same_store(cafile: str, capath: str) -> bool:
    """Whether the hashed directory `capath` holds every certificate of the bundle `cafile`: the bundle is the
    ca-certificates one inside that directory, and it has as many certificates as the directory has hash links."""
    try:
        bundle = os.path.realpath(cafile)  # Debian's OpenSSL default /usr/lib/ssl/cert.pem links to it
        if os.path.basename(bundle) != DEBIAN_BUNDLE or os.path.dirname(bundle) != os.path.realpath(capath):
            return False
        with open(bundle, "rb") as f:
            pem = f.read()
        in_bundle = sum(pem.count(begin) for begin in _PEM_BEGINS)
        links = sum(1 for name in os.listdir(capath) if _HASH_LINK.fullmatch(name))
    except OSError:
        return False
    return in_bundle > 0 and in_bundle == links

"""The system's CA certificates, as OpenSSL's default paths name them, read no more than needed.

OpenSSL 3 parses a CA bundle at some 0.1 ms a certificate: `ssl.create_default_context()` spends 15–20 ms on the
~150 of a distribution bundle, at every start, before the first byte is sent — a tenth of a whole single-image
check. A hashed CA directory (`c_rehash`, `openssl rehash`) is read lazily instead: OpenSSL opens only the files
named after the subject hash of an issuer a handshake asks for.

Debian, Ubuntu and Alpine (the `ca-certificates` package, `update-ca-certificates`) keep both: the bundle
`ca-certificates.crt` and, in the same directory, one hash link per certificate in it. Where every certificate of
the bundle can be read through the directory's hash links, the directory alone is the same trust store and is
used alone. Comparing the texts (no parsing: ~2 ms for 150 files) catches what would make it trust less: links
that dangle (an `/etc/ssl/certs` copied into a container without the files it links to), unreadable files, a
certificate appended to the bundle by hand. Anything else — a bundle elsewhere (Fedora's), SSL_CERT_FILE naming
another file — is loaded whole, as `ssl.create_default_context()` does.
"""

from __future__ import annotations

import os
import re
import ssl

DEBIAN_BUNDLE = "ca-certificates.crt"
_HASH_LINK = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def default_context() -> ssl.SSLContext:
    """`ssl.create_default_context()` — every default of the running Python — with the system CAs read from the
    hashed directory alone where it holds the same store as the bundle."""
    paths = ssl.get_default_verify_paths()  # SSL_CERT_FILE and SSL_CERT_DIR already applied
    if paths.cafile and paths.capath and same_store(paths.cafile, paths.capath):
        return ssl.create_default_context(capath=paths.capath)
    return ssl.create_default_context()


def same_store(cafile: str, capath: str) -> bool:
    """Whether the hashed directory `capath` serves every certificate of the bundle `cafile`: the bundle is the
    ca-certificates one inside that directory, and each of its certificates is the text of a readable hash link."""
    try:
        bundle = os.path.realpath(cafile)  # Debian's OpenSSL default /usr/lib/ssl/cert.pem links to it
        if os.path.basename(bundle) != DEBIAN_BUNDLE or os.path.dirname(bundle) != os.path.realpath(capath):
            return False
        with open(bundle, "rb") as f:
            wanted = _certificates(f.read())
        names = [name for name in os.listdir(capath) if _HASH_LINK.fullmatch(name)]
    except OSError:
        return False
    served: set[bytes] = set()
    for name in names:
        try:
            with open(os.path.join(capath, name), "rb") as f:
                served |= _certificates(f.read())
        except OSError:  # dangling or unreadable: OpenSSL cannot read it either
            continue
    return bool(wanted) and wanted <= served


def _certificates(pem: bytes) -> set[bytes]:
    """The PEM blocks of `pem` with their BEGIN line, whitespace removed: a TRUSTED CERTIFICATE or a CRL (which
    OpenSSL also loads from a bundle, and rehash never links as a certificate) stays apart from a certificate."""
    blocks = set()
    for chunk in pem.split(b"-----END ")[:-1]:  # each piece ends where a block's END line starts
        start = chunk.rfind(b"-----BEGIN ")
        if start >= 0:
            blocks.add(b"".join(chunk[start:].split()))
    return blocks

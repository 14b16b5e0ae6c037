"""Test PKI: a CA, server certificates (good and broken) and the token-signing key.

Everything is generated with ``cryptography`` (EC P-256 keys: fast to make,
accepted by Go's TLS stack and by OpenSSL) and written as PEM files into a
directory; the functions return paths. Certificates follow what Go >= 1.15
and Python's ``VERIFY_X509_STRICT`` expect: SANs (the CN is ignored), SKI/AKI,
``serverAuth`` EKU, CA basic constraints marked critical.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Names every good server certificate is valid for.
SERVER_IPS = ("127.0.0.1",)
SERVER_DNS = ("localhost",)


# --------------------------------------------------------------------------- key IDs


def libtrust_kid(public_key) -> str:
    """Key ID as docker/libtrust computes it (distribution v2.8 ``kid``, specs §5.5).

    SHA-256 over the DER SubjectPublicKeyInfo, first 30 bytes, RFC 4648 base32,
    groups of four characters joined with ``:`` (12 groups).
    """
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_thumbprint(public_key) -> str:
    """RFC 7638 thumbprint of an EC P-256 key (distribution v3 ``kid``), spec-exact.

    Coordinates are fixed-length (32 bytes); distribution drops leading zero
    bytes, so for ~1/256 keys its kid differs (specs §5.5 caveat).
    """
    nums = public_key.public_numbers()
    canonical = json.dumps(
        {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64url(nums.x.to_bytes(32, "big")),
            "y": _b64url(nums.y.to_bytes(32, "big")),
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def ec_public_key_from_jwk(x: str, y: str):
    """Build a P-256 public key from base64url JWK coordinates (for test vectors)."""

    def num(s: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")

    return ec.EllipticCurvePublicNumbers(num(x), num(y), ec.SECP256R1()).public_key()


# --------------------------------------------------------------------------- primitives


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "regauth test tier"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_ca(cn: str = "regauth test CA"):
    """Return ``(certificate, private_key)`` of a self-signed CA valid for 30 days."""
    key = new_key()
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_server_cert(
    ca_cert,
    ca_key,
    *,
    dns_names=SERVER_DNS,
    ip_addresses=SERVER_IPS,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    cn: str | None = None,
):
    """Return ``(certificate, private_key)`` of a TLS server certificate signed by the CA."""
    key = new_key()
    now = _now()
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn or (list(dns_names) + list(ip_addresses) + ["server"])[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                key_cert_sign=False,
                crl_sign=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def make_signing_cert(key, cn: str = "regauth-test-issuer"):
    """Self-signed certificate carrying the token-signing public key (``rootcertbundle``).

    It is marked as a CA so that it can also serve as a root for ``x5c`` chains
    in later tiers; v2.8 only uses its public key (matched by libtrust kid).
    """
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def cert_pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key) -> bytes:
    """PKCS#8 PEM (``BEGIN PRIVATE KEY``), readable by Go and OpenSSL."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class CertPair:
    """PEM files of a server certificate, its key, and the CA that signed it."""

    cert: Path
    key: Path
    ca: Path

    @property
    def cert_dir(self) -> Path:
        """Directory holding only ``ca.crt`` (``skopeo --cert-dir`` / certs.d style)."""
        return self.ca.parent


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def _write_ca_dir(directory: Path, ca_cert) -> Path:
    """Write ``<directory>/ca.crt`` alone in its directory and return its path."""
    return _write(directory / "ca.crt", cert_pem(ca_cert))


@dataclass
class PKI:
    """All key material of one test session, as objects and as PEM files."""

    dir: Path
    ca_cert: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    ca_file: Path  # <dir>/ca/ca.crt, alone in its directory
    server: CertPair  # 127.0.0.1 + localhost, signed by the CA
    signing_key: ec.EllipticCurvePrivateKey  # ES256 token-signing key
    signing_key_file: Path
    signing_cert_file: Path  # self-signed, the registry's rootcertbundle
    kid: str  # libtrust kid of signing_key
    untrusted_signing_key: ec.EllipticCurvePrivateKey  # not in any rootcertbundle
    _counter: int = field(default=0, repr=False)

    @property
    def cert_dir(self) -> Path:
        """Directory containing only the CA as ``ca.crt`` (for ``skopeo --cert-dir``)."""
        return self.ca_file.parent

    def _new_dir(self, label: str) -> Path:
        self._counter += 1
        return self.dir / f"{self._counter:02d}-{label}"

    def _server_pair(self, label: str, ca_cert, ca_key, ca_file: Path, **kw) -> CertPair:
        cert, key = make_server_cert(ca_cert, ca_key, **kw)
        d = self._new_dir(label)
        return CertPair(
            cert=_write(d / "server.crt", cert_pem(cert)),
            key=_write(d / "server.key", key_pem(key), 0o600),
            ca=ca_file,
        )

    def expired_server(self) -> CertPair:
        """A certificate for the right names, signed by the CA, expired yesterday."""
        now = _now()
        return self._server_pair(
            "expired",
            self.ca_cert,
            self.ca_key,
            self.ca_file,
            not_before=now - dt.timedelta(days=30),
            not_after=now - dt.timedelta(days=1),
        )

    def wrong_name_server(self, name: str = "wrong.example") -> CertPair:
        """A valid certificate from the CA, but only for ``name`` (no 127.0.0.1 / localhost)."""
        return self._server_pair(
            "wrong-name", self.ca_cert, self.ca_key, self.ca_file, dns_names=(name,), ip_addresses=()
        )

    def other_ca_server(self) -> CertPair:
        """A certificate for the right names signed by a different, untrusted CA.

        ``.ca`` points at that other CA (so a test can trust it on purpose);
        verifying against :attr:`ca_file` fails with "unknown authority".
        """
        other_cert, other_key = make_ca("regauth other CA")
        d = self._new_dir("other-ca")
        other_ca_file = _write_ca_dir(d / "ca", other_cert)
        return self._server_pair("other-ca-server", other_cert, other_key, other_ca_file)


def create_pki(directory: Path) -> PKI:
    """Generate the session PKI under ``directory`` (created if needed)."""
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)

    ca_cert, ca_key = make_ca()
    ca_file = _write_ca_dir(directory / "ca", ca_cert)
    cert, key = make_server_cert(ca_cert, ca_key)
    server = CertPair(
        cert=_write(directory / "server" / "server.crt", cert_pem(cert)),
        key=_write(directory / "server" / "server.key", key_pem(key), 0o600),
        ca=ca_file,
    )

    signing_key = new_key()
    signing_cert = make_signing_cert(signing_key)
    return PKI(
        dir=directory,
        ca_cert=ca_cert,
        ca_key=ca_key,
        ca_file=ca_file,
        server=server,
        signing_key=signing_key,
        signing_key_file=_write(directory / "token" / "signing.key", key_pem(signing_key), 0o600),
        signing_cert_file=_write(directory / "token" / "signing.crt", cert_pem(signing_cert)),
        kid=libtrust_kid(signing_key.public_key()),
        untrusted_signing_key=new_key(),
    )

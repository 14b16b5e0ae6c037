"""System CA trust read lazily from a hashed directory only where it is the same store as the bundle."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from regauth import trust
from tests.support.pki import cert_pem, make_ca


@pytest.fixture(scope="module")
def cas() -> list[bytes]:
    return [cert_pem(make_ca(f"trust test CA {i}")[0]) for i in range(3)]


def store(root: Path, bundle: list[bytes], links: int, name: str = trust.DEBIAN_BUNDLE) -> Path:
    """A CA directory: the bundle `name` and `links` files named like subject-hash links, holding the bundle's
    certificates in turn (the names are not real subject hashes: `same_store` compares texts; the real-registry
    tests use `openssl rehash`)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(b"".join(bundle))
    for i in range(links):
        (root / f"{i:08x}.0").write_bytes(bundle[i % len(bundle)] if bundle else b"")
    (root / "README").write_text("not a link\n")
    return root


def test_the_ca_certificates_layout_is_the_same_store(tmp_path, cas):
    d = store(tmp_path / "certs", cas, links=3)
    assert trust.same_store(str(d / trust.DEBIAN_BUNDLE), str(d))


def test_a_link_to_the_bundle_counts_as_the_bundle(tmp_path, cas):
    """Debian's OpenSSL default cafile /usr/lib/ssl/cert.pem is a symlink to /etc/ssl/certs/ca-certificates.crt."""
    d = store(tmp_path / "certs", cas, links=3)
    (tmp_path / "cert.pem").symlink_to(d / trust.DEBIAN_BUNDLE)
    (tmp_path / "certs-link").symlink_to(d)
    assert trust.same_store(str(tmp_path / "cert.pem"), str(tmp_path / "certs-link"))


def test_trusted_certificate_blocks_count_too(tmp_path, cas):
    """OpenSSL loads `TRUSTED CERTIFICATE` blocks from a bundle: one the directory lacks is a difference."""
    d = store(tmp_path / "certs", cas, links=3)
    trusted = cas[0].replace(b"BEGIN CERTIFICATE", b"BEGIN TRUSTED CERTIFICATE") \
        .replace(b"END CERTIFICATE", b"END TRUSTED CERTIFICATE")
    (d / trust.DEBIAN_BUNDLE).write_bytes(b"".join(cas) + trusted)
    assert not trust.same_store(str(d / trust.DEBIAN_BUNDLE), str(d))


def test_dangling_links_are_not_the_store(tmp_path, cas):
    """/etc/ssl/certs copied into a container without /usr/share/ca-certificates: links to nothing."""
    shared = tmp_path / "share"
    shared.mkdir()
    d = tmp_path / "certs"
    d.mkdir()
    for i, pem in enumerate(cas):
        (shared / f"c{i}.crt").write_bytes(pem)
        (d / f"{i:08x}.0").symlink_to(shared / f"c{i}.crt")
    (d / trust.DEBIAN_BUNDLE).write_bytes(b"".join(cas))
    assert trust.same_store(str(d / trust.DEBIAN_BUNDLE), str(d))
    (shared / "c1.crt").unlink()
    assert not trust.same_store(str(d / trust.DEBIAN_BUNDLE), str(d))


def test_as_many_links_but_other_certificates_are_not_the_store(tmp_path, cas):
    """A CA appended to the bundle by hand and an unrelated one rehashed into the directory: equal counts."""
    d = store(tmp_path / "certs", cas[:2], links=2)
    (d / "0000ffff.0").write_bytes(cert_pem(make_ca("unrelated CA")[0]))
    (d / trust.DEBIAN_BUNDLE).write_bytes(b"".join(cas))
    assert not trust.same_store(str(d / trust.DEBIAN_BUNDLE), str(d))


def test_the_context_has_every_default_of_this_python(tmp_path, cas, monkeypatch):
    """Built by ssl.create_default_context itself (Python 3.13 adds strict and partial-chain verify flags)."""
    same = store(tmp_path / "same", cas, links=3)
    monkeypatch.setenv("SSL_CERT_FILE", str(same / trust.DEBIAN_BUNDLE))
    monkeypatch.setenv("SSL_CERT_DIR", str(same))
    lazy, default = trust.default_context(), ssl.create_default_context()
    assert lazy.cert_store_stats()["x509_ca"] == 0 and default.cert_store_stats()["x509_ca"] == 3
    for attribute in ("verify_flags", "verify_mode", "check_hostname", "minimum_version", "options"):
        assert getattr(lazy, attribute) == getattr(default, attribute), attribute


@pytest.mark.parametrize("case", ["appended by hand", "missing link", "other name", "elsewhere", "empty", "absent"])
def test_anything_else_is_not(tmp_path, cas, case):
    d = tmp_path / "certs"
    if case == "appended by hand":  # a certificate added to the bundle, the directory not rehashed
        store(d, cas, links=2)
    elif case == "missing link":
        store(d, cas[:2], links=1)
    elif case == "other name":  # e.g. Fedora's tls-ca-bundle.pem
        store(d, cas, links=3, name="tls-ca-bundle.pem")
    elif case == "elsewhere":
        store(d, cas, links=3)
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / trust.DEBIAN_BUNDLE).write_bytes(b"".join(cas))
        assert not trust.same_store(str(tmp_path / "other" / trust.DEBIAN_BUNDLE), str(d))
        return
    elif case == "empty":
        store(d, [], links=0)
    else:
        d.mkdir()
    name = "tls-ca-bundle.pem" if case == "other name" else trust.DEBIAN_BUNDLE
    assert not trust.same_store(str(d / name), str(d))


def test_same_store_reads_the_directory_lazily_and_anything_else_whole(tmp_path, cas, monkeypatch):
    """What a context holds before any handshake: nothing from a hashed directory, the whole bundle otherwise."""
    same = store(tmp_path / "same", cas, links=3)
    monkeypatch.setenv("SSL_CERT_FILE", str(same / trust.DEBIAN_BUNDLE))
    monkeypatch.setenv("SSL_CERT_DIR", str(same))
    lazy = trust.default_context()
    assert lazy.cert_store_stats()["x509_ca"] == 0
    assert (lazy.verify_mode, lazy.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert lazy.minimum_version == ssl.create_default_context().minimum_version

    appended = store(tmp_path / "appended", cas, links=2)
    monkeypatch.setenv("SSL_CERT_FILE", str(appended / trust.DEBIAN_BUNDLE))
    monkeypatch.setenv("SSL_CERT_DIR", str(appended))
    assert trust.default_context().cert_store_stats()["x509_ca"] == 3


def test_keylog_file_is_honoured_as_by_the_standard_library(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))
    assert trust.default_context().keylog_filename == str(tmp_path / "keys.log")


def test_a_crl_in_the_bundle_is_not_served_by_certificate_links(tmp_path, cas):
    """OpenSSL loads CRLs from a bundle; rehash links them as .r0, never as a certificate: the bundle is loaded."""
    d = store(tmp_path / "certs", cas, links=3)
    crl = b"-----BEGIN X509 CRL-----\nMIIBAAAA\n-----END X509 CRL-----\n"
    (d / trust.DEBIAN_BUNDLE).write_bytes(b"".join(cas) + crl)
    assert not trust.same_store(str(d / trust.DEBIAN_BUNDLE), str(d))


def test_comments_and_line_wrapping_between_blocks_do_not_matter(tmp_path, cas):
    d = store(tmp_path / "certs", cas, links=3)
    rewrapped = [b"# Issuer: CN=test\n" + pem.replace(b"\n", b"\r\n") for pem in cas]
    (d / trust.DEBIAN_BUNDLE).write_bytes(b"\n".join(rewrapped))
    assert trust.same_store(str(d / trust.DEBIAN_BUNDLE), str(d))

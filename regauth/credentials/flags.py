"""Credentials given on the command line: --username with --password-stdin / --password-file, or an identity token."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TextIO

from regauth.credentials.model import Credential, CredentialOptions
from regauth.errors import InputError
from regauth.secret import Secret


def from_flags(options: CredentialOptions) -> Credential | None:
    """The credential the flags spell out; None when they do not make a whole one."""
    if options.identity_token:
        return Credential(username=options.username, identity_token=options.identity_token, source="flags",
                          origin="command line")
    if options.username and options.password:
        return Credential(username=options.username, password=options.password, source="flags",
                          origin="command line")
    return None


def validate_flags(options: CredentialOptions) -> None:
    """InputError when only half a credential was given (for the CLI to call before any check runs)."""
    if options.identity_token:
        return
    if options.password and not options.username:
        raise InputError("a password was given without --username")
    if options.username and not options.password:
        raise InputError(f"--username {options.username} was given without a password "
                         "(use --password-stdin or --password-file)")


def password_from_text(text: str, origin: str) -> Secret:
    """Strip one trailing newline (CRLF too), like `docker login --password-stdin`; empty → InputError."""
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise InputError(f"the password from {origin} is empty")
    return Secret(value)


def password_from_stream(stream: TextIO) -> Secret:
    return password_from_text(stream.read(), "stdin")


def password_from_file(path: Path) -> Secret:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise InputError(f"cannot read password file {path}: {reason}") from exc
    return password_from_text(text, f"password file {path}")


def options_with_password_file(options: CredentialOptions, path: Path) -> CredentialOptions:
    """A copy of `options` whose password is read from `path` (--password-file)."""
    return replace(options, password=password_from_file(path))

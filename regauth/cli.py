"""The command line: parse options, call the engine, render the report, pick the exit code. Nothing else."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from regauth.errors import InputError

if TYPE_CHECKING:
    from regauth.context import RunOptions
    from regauth.report import Report

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Replays the container registry login and pull handshake step by step and explains "
                       "exactly where and why it fails.")

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3


class Output(str, Enum):
    text = "text"
    json = "json"


# --- common options ------------------------------------------------------------------------------------------
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="text (default) or json")]
UserOpt = Annotated[Optional[str], typer.Option("--username", "-u", help="registry username")]
PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")]
PasswordFileOpt = Annotated[Optional[Path], typer.Option("--password-file", help="read the password from a file")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="docker config dir (default $DOCKER_CONFIG "
                                                                    "or ~/.docker)")]
AuthfileOpt = Annotated[Optional[Path], typer.Option("--authfile", help="containers auth.json to read")]
CaOpt = Annotated[Optional[Path], typer.Option("--ca-file", help="extra CA certificates (PEM) to trust")]
CertsDirOpt = Annotated[Optional[Path], typer.Option("--certs-dir", help="docker-style certs.d directory "
                                                                         "(default /etc/docker/certs.d)")]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="skip TLS verification")]
PlainOpt = Annotated[bool, typer.Option("--plain-http", help="talk plain HTTP to the registry")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="seconds per connection and read")]
TraceOpt = Annotated[bool, typer.Option("--trace", help="print every HTTP exchange (secrets redacted) to stderr")]
ShowOpt = Annotated[bool, typer.Option("--show-secrets", help="do not redact secrets (never the default)")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="no colours (NO_COLOR is honoured too)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="only the verdict and errors")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="show every HTTP exchange under its step")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="warnings fail the check (exit 1)")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="show tracebacks of internal errors")]
IdentityTokenOpt = Annotated[Optional[str], typer.Option("--identity-token", metavar="FILE|-",
                                                         help="an OAuth2 refresh (identity) token, from a file or -"
                                                              " for stdin")]
PlatformOpt = Annotated[str, typer.Option("--platform", help="os/arch[/variant] to pick from an index")]


def _read_secret(stdin: bool, file: Path | None, what: str) -> str | None:
    """A password or token from stdin or a file (never from the command line, which shells keep in history)."""
    from regauth.credentials.flags import password_from_file, password_from_stream

    if stdin and file:
        raise InputError(f"use either stdin or a file for the {what}, not both")
    if stdin:
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError(f"the {what} should come from stdin, but stdin is a terminal: pipe it in")
        return password_from_stream(sys.stdin).reveal()
    if file:
        return password_from_file(file).reveal()
    return None


def _options(username, password_stdin, password_file, config, authfile, ca_file, certs_dir, insecure, plain_http,
             timeout, show_secrets, platform="linux/amd64", identity_token: str | None = None) -> RunOptions:
    from regauth.context import RunOptions
    from regauth.credentials.model import CredentialOptions
    from regauth.http import DEFAULT_CERTS_DIRS, TransportConfig
    from regauth.secret import Secret

    from regauth.credentials.flags import validate_flags

    if identity_token == "-" and password_stdin:
        raise InputError("stdin cannot carry both the password and the identity token")
    password = _read_secret(password_stdin, password_file, "password")
    token = _read_secret(identity_token == "-", Path(identity_token) if identity_token not in (None, "-") else None,
                         "identity token")
    if ca_file is not None and not ca_file.is_file():
        raise InputError(f"--ca-file {ca_file}: no such file")
    if config is not None and config.exists() and not config.is_dir():
        raise InputError(f"--config {config} is not a directory (it names docker's config dir, not the file)")
    if len(platform.split("/")) not in (2, 3) or not all(platform.split("/")):
        raise InputError(f"--platform {platform!r} is not os/arch[/variant]")
    transport = TransportConfig(plain_http=plain_http, insecure=insecure, ca_file=ca_file,
                                certs_dirs=(certs_dir,) if certs_dir else DEFAULT_CERTS_DIRS, timeout=timeout,
                                show_secrets=show_secrets)
    creds = CredentialOptions(username=username, password=Secret(password) if password is not None else None,
                              identity_token=Secret(token) if token else None, config_dir=config, authfile=authfile)
    validate_flags(creds)
    return RunOptions(transport=transport, credentials=creds, platform=platform)


def _console(no_color: bool, stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, no_color=no_color or bool(os.environ.get("NO_COLOR")), highlight=False,
                   soft_wrap=True)


def _exit_code(report: Report, strict: bool) -> int:
    if any(r.failed_step == "reference" for r in report.results):
        return EXIT_INPUT
    if not report.ok:
        return EXIT_FAILED
    if strict and any(r.has_warnings for r in report.results):
        return EXIT_FAILED
    return EXIT_OK


def _emit(report: Report, output: Output, no_color: bool, quiet: bool, verbose: bool = False) -> None:
    if output == Output.json:
        from regauth.render.json import render

        sys.stdout.write(render(report) + "\n")
        return
    from regauth.render.text import render

    render(report, _console(no_color), verbose=verbose, quiet=quiet)


def _tracer(show: bool, no_color: bool):
    from regauth.render.trace import TracePrinter

    return TracePrinter(_console(no_color, stderr=True))


def _run(fn, debug: bool) -> None:
    """Input errors: one line, exit 2. Bugs: one line asking for a report, exit 3 (traceback with --debug)."""
    try:
        code = fn()
    except InputError as e:
        typer.echo(f"regauth: {e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001 - the last line of defence
        if debug:
            import traceback

            traceback.print_exc()
        typer.echo(f"regauth: internal error ({type(e).__name__}: {e}); please report it with --debug output",
                   err=True)
        raise typer.Exit(EXIT_BUG) from None
    raise typer.Exit(code)


def _read_images(images: list[str], file: Path | None, password_stdin: bool) -> list[str]:
    out: list[str] = []
    lines: list[str] = []
    if file is not None:
        try:
            lines += file.read_text().splitlines()
        except OSError as e:
            raise InputError(f"cannot read --file {file}: {e.strerror}") from None
    for image in images:
        if image == "-":
            if password_stdin:
                raise InputError("stdin cannot carry both the password and the image list")
            lines += sys.stdin.read().splitlines()
        else:
            out.append(image)
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    if not out:
        raise InputError("no image given: pass IMAGE arguments, --file F, or - for stdin")
    return out


@app.command("pull-check")
def pull_check(
    images: Annotated[Optional[list[str]], typer.Argument(help="IMAGE[:TAG|@DIGEST] ... ('-' reads stdin)")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="references, one a line, # comments")] = None,
    output: OutputOpt = Output.text, username: UserOpt = None, password_stdin: PasswordStdinOpt = False,
    password_file: PasswordFileOpt = None, identity_token: IdentityTokenOpt = None, config: ConfigOpt = None,
    authfile: AuthfileOpt = None, ca_file: CaOpt = None, certs_dir: CertsDirOpt = None, insecure: InsecureOpt = False,
    plain_http: PlainOpt = False, platform: PlatformOpt = "linux/amd64", timeout: TimeoutOpt = 15.0, trace: TraceOpt = False,
    show_secrets: ShowOpt = False, no_color: NoColorOpt = False, quiet: QuietOpt = False, verbose: VerboseOpt = False,
    strict: StrictOpt = False, debug: DebugOpt = False,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=64, help="checks in parallel")] = 8,
    pull_secret: Annotated[Optional[list[Path]], typer.Option(
        "--pull-secret", help="use a Kubernetes pull secret's entries like kubelet does (repeatable)")] = None,
) -> None:
    """Replay the pull handshake for each image and say which step fails, why, and what to do."""

    def go() -> int:
        from regauth.context import Shared
        from regauth.engine import pull_check_many
        from regauth.http import Http
        from regauth.report import Report

        texts = _read_images(images or [], file, password_stdin or identity_token == "-")
        options = _options(username, password_stdin, password_file, config, authfile, ca_file, certs_dir, insecure,
                           plain_http, timeout, show_secrets, platform, identity_token)
        secrets = _load_pull_secrets(pull_secret or [])
        http = Http(options.transport, on_exchange=_tracer(show_secrets, no_color) if trace else None)
        try:
            if secrets is not None:
                from regauth.kube.live import pull_check_with_secrets

                results = pull_check_with_secrets(texts, secrets, options, Shared(http))
            else:
                results = pull_check_many(texts, options, Shared(http), concurrency)
        finally:
            http.close()
        report = Report("pull-check", results)
        _emit(report, output, no_color, quiet, verbose)
        return _exit_code(report, strict)

    _run(go, debug)


def _load_pull_secrets(paths: list[Path]):
    """The pull secrets given with --pull-secret, or None when there are none."""
    if not paths:
        return None
    from regauth.kube.secrets import load_secrets

    secrets = []
    for path in paths:
        secrets += load_secrets(_read_source(str(path)), str(path))
    return secrets


@app.command("kube-check")
def kube_check(
    files: Annotated[list[str], typer.Argument(help="manifests: files, directories, or - for stdin")],
    output: OutputOpt = Output.text, ca_file: CaOpt = None, certs_dir: CertsDirOpt = None,
    insecure: InsecureOpt = False, plain_http: PlainOpt = False, platform: PlatformOpt = "linux/amd64",
    timeout: TimeoutOpt = 15.0, trace: TraceOpt = False, show_secrets: ShowOpt = False, no_color: NoColorOpt = False,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, strict: StrictOpt = False, debug: DebugOpt = False,
) -> None:
    """Check every container image of the workloads with the pull secrets kubelet would use."""

    def go() -> int:
        from regauth.context import Shared
        from regauth.http import Http
        from regauth.kube.live import kube_check as run_kube_check
        from regauth.kube.workloads import load_objects, parse_objects
        from regauth.report import Report

        objects = []
        for f in files:
            objects += parse_objects(_read_source("-"), "stdin") if f == "-" else load_objects([f])
        options = _options(None, False, None, None, None, ca_file, certs_dir, insecure, plain_http, timeout,
                           show_secrets, platform)
        http = Http(options.transport, on_exchange=_tracer(show_secrets, no_color) if trace else None)
        try:
            results = run_kube_check(objects, options, Shared(http))
        finally:
            http.close()
        if not results:
            raise InputError("no workload with container images found in the input")
        report = Report("kube-check", results)
        _emit(report, output, no_color, quiet, verbose)
        return _exit_code(report, strict)

    _run(go, debug)


@app.command("login")
def login(
    registry: Annotated[str, typer.Argument(help="registry host[:port] (docker.io for Docker Hub)")],
    repo: Annotated[Optional[str], typer.Option("--repo", help="also prove pull access to this repository")] = None,
    push: Annotated[bool, typer.Option("--push", help="with --repo: prove push access too")] = False,
    save: Annotated[bool, typer.Option("--save", help="store the credentials where docker would")] = False,
    allow_plaintext: Annotated[bool, typer.Option("--allow-plaintext",
                                                  help="with --save: write config.json even though a credsStore "
                                                       "is configured")] = False,
    output: OutputOpt = Output.text, username: UserOpt = None, password_stdin: PasswordStdinOpt = False,
    password_file: PasswordFileOpt = None, identity_token: IdentityTokenOpt = None, config: ConfigOpt = None,
    authfile: AuthfileOpt = None, ca_file: CaOpt = None, certs_dir: CertsDirOpt = None, insecure: InsecureOpt = False,
    plain_http: PlainOpt = False, timeout: TimeoutOpt = 15.0, trace: TraceOpt = False, show_secrets: ShowOpt = False, no_color: NoColorOpt = False,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, strict: StrictOpt = False, debug: DebugOpt = False,
) -> None:
    """Replay `docker login`; with --repo, prove the credentials can really pull (and push)."""

    def go() -> int:
        from regauth.context import Shared
        from regauth.http import Http
        from regauth.login import LoginRequest, login as run_login
        from regauth.report import Report

        if push and not repo:
            raise InputError("--push needs --repo")
        options = _options(username, password_stdin, password_file, config, authfile, ca_file, certs_dir, insecure,
                           plain_http, timeout, show_secrets, identity_token=identity_token)
        http = Http(options.transport, on_exchange=_tracer(show_secrets, no_color) if trace else None)
        try:
            result = run_login(LoginRequest(registry, repo, push, save, allow_plaintext), options, Shared(http))
        finally:
            http.close()
        report = Report("login", [result])
        _emit(report, output, no_color, quiet, verbose)
        return _exit_code(report, strict)

    _run(go, debug)


@app.command("decode-secret")
def decode_secret(
    source: Annotated[str, typer.Argument(help="Secret YAML/JSON file, or - for stdin")] = "-",
    image: Annotated[Optional[str], typer.Option("--image", help="say which entry kubelet would use for IMAGE")] = None,
    output: OutputOpt = Output.text, no_color: NoColorOpt = False, strict: StrictOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Decode and lint Kubernetes image pull secrets, offline."""

    def go() -> int:
        from regauth.kube.secrets import decode_secret_report

        text = _read_source(source)
        report = decode_secret_report(text, source, image)
        if output == Output.json:
            from regauth.render.json import render

            sys.stdout.write(render(report) + "\n")
        else:
            from regauth.render.secret_text import render_secret_report

            render_secret_report(report, _console(no_color))
        return _exit_code(report, strict)

    _run(go, debug)


@app.command("decode-token")
def decode_token(
    token: Annotated[str, typer.Argument(help="a registry bearer token (JWT), or - for stdin")],
    output: OutputOpt = Output.text, no_color: NoColorOpt = False, show_secrets: ShowOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Decode a registry bearer token (JWT) and explain its claims."""

    def go() -> int:
        from regauth.tokeninfo import explain_token

        text = _read_source(token) if token == "-" else token
        report = explain_token(text.strip(), show_secrets)
        _emit(report, output, no_color, quiet=False)
        return _exit_code(report, False)

    _run(go, debug)


def _read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text()
    except OSError as e:
        raise InputError(f"cannot read {source}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{source} is not a text file") from None


def main() -> None:
    app(prog_name="regauth")

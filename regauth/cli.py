"""The command line: parse options, call the engine, render the report, pick the exit code. Nothing else.

No `from __future__ import annotations` here: typer reads every command's signature on every run, and string
annotations are compiled and evaluated each time (about 3 ms of each invocation); evaluated once at import, they
are not. Only names imported for type checking are quoted."""

import contextlib
import math
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TextIO

import typer

from regauth import typer_fast
from regauth.errors import InputError, unreadable

if TYPE_CHECKING:
    from regauth.context import RunOptions
    from regauth.report import Report

typer_fast.install()  # option values without importing pydantic (see regauth/typer_fast.py)
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Replays the container registry login and pull handshake step by step and explains "
                       "exactly where and why it fails.")

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class Output(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def _version(value: bool) -> None:
    if value:
        from regauth import __version__

        typer.echo(f"regauth {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="print regauth's version and exit")] = False) -> None:
    pass


# --- common options ------------------------------------------------------------------------------------------
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="text (default), json, or github (GitHub "
                                                                 "Actions annotations)")]
UserOpt = Annotated[Optional[str], typer.Option("--username", "-u", help="registry username")]
PasswordStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")]
# Paths are taken as str and checked by _path: typer turns "" into Path("."), which would hide an empty argument
PasswordFileOpt = Annotated[Optional[str], typer.Option("--password-file", metavar="FILE",
                                                        help="read the password from a file")]
ConfigOpt = Annotated[Optional[str], typer.Option("--config", metavar="DIR", help="docker config dir (default "
                                                                                  "$DOCKER_CONFIG or ~/.docker)")]
AuthfileOpt = Annotated[Optional[str], typer.Option("--authfile", metavar="FILE", help="containers auth.json to read")]
CaOpt = Annotated[Optional[str], typer.Option("--ca-file", metavar="FILE", help="extra CA certificates (PEM) to trust")]
CertsDirOpt = Annotated[Optional[str], typer.Option("--certs-dir", metavar="DIR", help="docker-style certs.d directory "
                                                                                       "(default /etc/docker/certs.d)")]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="skip TLS verification")]
PlainOpt = Annotated[bool, typer.Option("--plain-http", help="talk plain HTTP to the registry")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="seconds per connection and read")]
TraceOpt = Annotated[bool, typer.Option("--trace", help="print every HTTP exchange (secrets redacted) to stderr")]
TraceFileOpt = Annotated[Optional[str], typer.Option("--trace-file", metavar="FILE",
                                                      help="write every HTTP exchange (secrets redacted) to FILE as "
                                                           "HAR 1.2, for browsers' dev tools")]
DeadlineOpt = Annotated[Optional[float], typer.Option("--deadline", metavar="SECONDS",
                                                      help="give up on a check after this long (default: 4 × "
                                                           "--timeout)")]
ShowOpt = Annotated[bool, typer.Option("--show-secrets", help="do not redact secrets (never the default)")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="no colours (NO_COLOR is honoured too)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="only the verdict and errors")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="show every HTTP exchange under its step and, "
                                                                 "in a batch, the steps of every check")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="warnings fail the check (exit 1)")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="show tracebacks of internal errors")]
IdentityTokenOpt = Annotated[Optional[str], typer.Option("--identity-token", metavar="FILE|-",
                                                         help="an OAuth2 refresh (identity) token, from a file or -"
                                                              " for stdin")]
PlatformOpt = Annotated[str, typer.Option("--platform", help="os/arch[/variant] to pick from an index")]


def _path(value: str | None, option: str) -> Path | None:
    """A path option's value; an empty one is an error (not the current directory)."""
    if value is None:
        return None
    if not value:
        raise InputError(f"{option} is empty: give a path")
    return Path(value)


def _kind(path: Path, option: str) -> str:
    """"dir", "file" (anything else that exists) or "missing"; a path that cannot even be looked at (too long, no
    permission on a parent, …) is an input error, not an OSError from is_dir()."""
    import stat

    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as e:
        raise InputError(f"{option} {path}: {unreadable(e)}") from None
    return "dir" if stat.S_ISDIR(mode) else "file"


def _input_file(path: Path, option: str) -> Path:
    """An existing regular file given with `option`: say what is wrong with it otherwise."""
    kind = _kind(path, option)
    if kind == "dir":
        raise InputError(f"{option} {path} is a directory, not a file")
    if kind == "missing":
        raise InputError(f"{option} {path}: no such file")
    return path


def _stdin() -> TextIO:
    """sys.stdin, when there is one: a process started with stdin closed (`<&-`) has None."""
    if sys.stdin is None:
        raise InputError("stdin is closed: pipe the input in, or give a file")
    return sys.stdin


def _read_secret(stdin: bool, file: Path | None, what: str, option: str) -> str | None:
    """A password or token from stdin or a file (never from the command line, which shells keep in history)."""
    from regauth.credentials.flags import password_from_text

    if stdin and file:
        raise InputError(f"use either stdin or a file for the {what}, not both")
    if stdin:
        if sys.stdin is None:
            raise InputError(f"the {what} should come from stdin, but stdin is closed: pipe it in")
        if sys.stdin.isatty():
            raise InputError(f"the {what} should come from stdin, but stdin is a terminal: pipe it in")
        text, origin = _read_stdin(), "stdin"
    elif file:
        try:
            text = _input_file(file, option).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read the {what} from {option} {file}: {unreadable(e)}") from None
        origin = f"{option} {file}"
    else:
        return None
    if what == "password":
        return password_from_text(text, origin).reveal()
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise InputError(f"the {what} from {origin} is empty")
    return value


MAX_SECONDS = 3600.0  # --timeout and --deadline: an hour is already far more than any registry needs


def _seconds(value: float | None, option: str) -> None:
    """--timeout / --deadline: a finite number of seconds, more than 0 and at most MAX_SECONDS."""
    if value is None:
        return
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{option} {value:g}: must be a number of seconds more than 0 and at most {MAX_SECONDS:g}")
    if value > MAX_SECONDS:
        raise InputError(f"{option} {value:g} is too long: at most {MAX_SECONDS:g} seconds")


def _options(username, password_stdin, password_file, config, authfile, ca_file, certs_dir, insecure, plain_http,
             timeout, show_secrets, platform="linux/amd64", identity_token: str | None = None,
             deadline: float | None = None) -> "RunOptions":
    from regauth.context import RunOptions
    from regauth.credentials.model import CredentialOptions
    from regauth.deadline import DEFAULT_FACTOR
    from regauth.http import DEFAULT_CERTS_DIRS, TransportConfig
    from regauth.secret import Secret

    from regauth.credentials.flags import validate_flags

    _seconds(timeout, "--timeout")
    _seconds(deadline, "--deadline")
    password_file, config, authfile = (_path(password_file, "--password-file"), _path(config, "--config"),
                                       _path(authfile, "--authfile"))
    ca_file, certs_dir = _path(ca_file, "--ca-file"), _path(certs_dir, "--certs-dir")
    if identity_token == "-" and password_stdin:
        raise InputError("stdin cannot carry both the password and the identity token")
    password = _read_secret(password_stdin, password_file, "password", "--password-file")
    token = _read_secret(identity_token == "-", _path(identity_token, "--identity-token")
                         if identity_token != "-" else None, "identity token", "--identity-token")
    if ca_file is not None:
        _check_ca_file(_input_file(ca_file, "--ca-file"))
    if certs_dir is not None and (kind := _kind(certs_dir, "--certs-dir")) != "dir":
        raise InputError(f"--certs-dir {certs_dir} " + ("is not a directory" if kind == "file" else "does not exist")
                         + " (it names a docker-style certs.d directory)")
    if config is not None and _kind(config, "--config") == "file":
        raise InputError(f"--config {config} is not a directory (it names docker's config dir, not the file)")
    if len(platform.split("/")) not in (2, 3) or not all(platform.split("/")):
        raise InputError(f"--platform {platform!r} is not os/arch[/variant]")
    transport = TransportConfig(plain_http=plain_http, insecure=insecure, ca_file=ca_file,
                                certs_dirs=(certs_dir,) if certs_dir else DEFAULT_CERTS_DIRS, timeout=timeout,
                                show_secrets=show_secrets, deadline=deadline if deadline is not None else
                                timeout * DEFAULT_FACTOR)
    creds = CredentialOptions(username=username, password=Secret(password) if password is not None else None,
                              identity_token=Secret(token) if token else None, config_dir=config, authfile=authfile)
    validate_flags(creds)
    return RunOptions(transport=transport, credentials=creds, platform=platform)


def _check_ca_file(path: Path) -> None:
    """--ca-file must hold PEM certificates: say so now, in one line, rather than at the first TLS handshake."""
    import ssl

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=str(path))  # not the system store
    except (ssl.SSLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or "unreadable"
        raise InputError(f"--ca-file {path} holds no usable PEM CA certificate ({reason})") from None


def _console(no_color: bool, stderr: bool = False):
    from rich.console import Console

    # emoji=False: text from registries is printed as sent (":x:" stays ":x:"), and rich's emoji table not loaded
    # CI logs are not 80 columns wide: off a terminal, tables get room instead of folding references
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream is not None and stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, no_color=no_color or bool(os.environ.get("NO_COLOR")), highlight=False,
                   soft_wrap=True, emoji=False, width=width)


def _exit_code(report: "Report", strict: bool) -> int:
    if any(r.failed_step == "reference" for r in report.results):
        return EXIT_INPUT
    if not report.ok:
        return EXIT_FAILED
    if strict and any(r.has_warnings for r in report.results):
        return EXIT_FAILED
    return EXIT_OK


def _emit(report: "Report", output: Output, no_color: bool, quiet: bool, verbose: bool = False,
          show: bool = False) -> None:
    # the last line of defence: no known secret reaches any output format
    from regauth.redact import scrub_obj, scrubbed_json

    if output == Output.json:
        from regauth.render.json import INDENT, encode, write

        # scrubbed as JSON, one result at a time: the report object itself stays as it is
        write(report, sys.stdout, encode if show else lambda value: scrubbed_json(value, INDENT))
        return
    if not show:
        scrub_obj(report)
    if output == Output.github:
        from regauth.render.github import render

        sys.stdout.write(render(report))
        return
    from regauth.render.text import render

    render(report, _console(no_color), verbose=verbose, quiet=quiet)


def _tracer(show: bool, no_color: bool):
    from regauth.render.trace import TracePrinter

    return TracePrinter(_console(no_color, stderr=True), show)


def _recorders(trace: bool, trace_file: Path | None, show: bool, no_color: bool):
    """(on_exchange callback or None, HAR recorder or None) for --trace and --trace-file."""
    if not trace and trace_file is None:
        return None, None
    from regauth.render.har import HarRecorder

    _check_output_file(trace_file, "--trace-file", replaced=True)
    har = HarRecorder(trace_file, show) if trace_file is not None else None
    callbacks = [c for c in (_tracer(show, no_color) if trace else None, har) if c is not None]
    if not callbacks:
        return None, None
    if len(callbacks) == 1:
        return callbacks[0], har

    def both(exchange) -> None:
        for callback in callbacks:
            callback(exchange)

    return both, har


def _write_har(har) -> None:
    if har is None:
        return
    try:
        har.write()
    except OSError as e:
        raise InputError(f"cannot write --trace-file {har.path}: {unreadable(e)}") from None


def _run(fn, debug: bool) -> None:
    """Input errors: one line, exit 2. Bugs: one line asking for a report, exit 3 (traceback with --debug)."""
    try:
        code = fn()
    except InputError as e:  # clip_words: a path or value of megabytes is not echoed whole
        from regauth.shorten import clip_words

        typer.echo(f"regauth: {clip_words(_one_line(str(e)))}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    except KeyboardInterrupt:  # Ctrl-C: the checks still running are abandoned (main leaves without joining them)
        typer.echo("regauth: interrupted", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # noqa: BLE001 - the last line of defence
        if debug:
            import traceback

            traceback.print_exc()
        typer.echo(f"regauth: internal error ({type(e).__name__}: {_one_line(str(e))}); please report it with --debug "
                   "output", err=True)
        raise typer.Exit(EXIT_BUG) from None
    raise typer.Exit(code)


def _one_line(message: str) -> str:
    """An error message as one safe line: secrets redacted, no newlines."""
    from regauth.redact import scrub, text

    return " ".join(scrub(text(message)).split())


def _reference_lines(text: str) -> list[str]:
    """References from a file or stdin: one a line; blank lines and `#` comments (whole or trailing) ignored."""
    return [line for line in (raw.split("#", 1)[0].strip() for raw in text.splitlines()) if line]


def _read_images(images: list[str], file: Path | None, password_stdin: bool) -> list[str]:
    """Every reference in input order: the arguments (a `-` among them replaced by stdin's lines), then --file's."""
    out: list[str] = []
    if images.count("-") > 1:
        raise InputError("'-' (read references from stdin) can be given only once")
    for image in images:
        if image == "-":
            if password_stdin:
                raise InputError("stdin cannot carry both the password and the image list")
            out += _reference_lines(_read_stdin())
        else:
            out.append(image)
    if file is not None:
        try:
            out += _reference_lines(_input_file(file, "--file").read_text(encoding="utf-8"))
        except OSError as e:
            raise InputError(f"cannot read --file {file}: {unreadable(e)}") from None
        except UnicodeDecodeError:
            raise InputError(f"--file {file} is not a text file (not UTF-8)") from None
    if not out:
        raise InputError("no image given: pass IMAGE arguments, --file F, or - for stdin")
    return out


@app.command("pull-check")
def pull_check(
    images: Annotated[Optional[list[str]], typer.Argument(help="IMAGE[:TAG|@DIGEST] ... ('-' reads stdin)")] = None,
    file: Annotated[Optional[str], typer.Option("--file", "-f", metavar="FILE",
                                                help="references, one a line, # comments")] = None,
    output: OutputOpt = Output.text, username: UserOpt = None, password_stdin: PasswordStdinOpt = False,
    password_file: PasswordFileOpt = None, identity_token: IdentityTokenOpt = None, config: ConfigOpt = None,
    authfile: AuthfileOpt = None, ca_file: CaOpt = None, certs_dir: CertsDirOpt = None, insecure: InsecureOpt = False,
    plain_http: PlainOpt = False, platform: PlatformOpt = "linux/amd64", timeout: TimeoutOpt = 15.0, trace: TraceOpt = False,
    show_secrets: ShowOpt = False, no_color: NoColorOpt = False, quiet: QuietOpt = False, verbose: VerboseOpt = False,
    strict: StrictOpt = False, debug: DebugOpt = False, trace_file: TraceFileOpt = None, deadline: DeadlineOpt = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=64, help="checks in parallel")] = 8,
    pull_secret: Annotated[Optional[list[str]], typer.Option(
        "--pull-secret", metavar="FILE",
        help="use a Kubernetes pull secret's entries like kubelet does (repeatable)")] = None,
    junit: Annotated[Optional[str], typer.Option("--junit", metavar="FILE",
                                                 help="also write a JUnit XML report (one test case per image) "
                                                      "to FILE")] = None,
) -> None:
    """Replay the pull handshake for each image and say which step fails, why, and what to do."""

    def go() -> int:
        from regauth.context import Shared
        from regauth.engine import pull_check_many
        from regauth.http import Http
        from regauth.report import Report

        junit_path, trace_path = _path(junit, "--junit"), _path(trace_file, "--trace-file")
        texts = _read_images(images or [], _path(file, "--file"), password_stdin or identity_token == "-")
        options = _options(username, password_stdin, password_file, config, authfile, ca_file, certs_dir, insecure,
                           plain_http, timeout, show_secrets, platform, identity_token, deadline)
        secrets = _load_pull_secrets([_path(p, "--pull-secret") for p in pull_secret or []])
        _check_output_file(junit_path, "--junit")
        on_exchange, har = _recorders(trace, trace_path, show_secrets, no_color)
        http = Http(options.transport, on_exchange=on_exchange)
        try:
            if secrets is not None:
                from regauth.kube.live import pull_check_with_secrets

                results = pull_check_with_secrets(texts, secrets, options, Shared(http))
            else:
                with _progress(len(texts), enabled=not trace) as advance:
                    results = pull_check_many(texts, options, Shared(http), concurrency, progress=advance)
        finally:
            http.close()
            _write_har(har)
        report = Report("pull-check", results)
        _emit(report, output, no_color, quiet, verbose, show_secrets)
        _write_junit(junit_path, report, strict, show_secrets, scrubbed=output != Output.json)
        return _exit_code(report, strict)

    _run(go, debug)


PROGRESS_MIN = 5  # images: fewer finish before a bar would be worth drawing


@contextlib.contextmanager
def _progress(total: int, enabled: bool = True):
    """A progress bar on stderr while many images are checked — only when stderr is a terminal (never in CI logs
    or pipes). Yields the per-result callback for the engine (None without a bar)."""
    if not enabled or total < PROGRESS_MIN or sys.stderr is None or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=_console(False, stderr=True), transient=True)
    task = bar.add_task("checking", total=total)
    with bar:
        yield lambda _result: bar.advance(task)


def _check_output_file(path: Path | None, option: str, replaced: bool = False) -> None:
    """Refuse an output file that cannot be written before any check runs, not after. An existing file must be
    writable; else (or when it is `replaced` through a temporary file, as --trace-file is) a temporary file is
    created and removed next to it."""
    if path is None:
        return
    import tempfile

    parent = path.parent if str(path.parent) else Path(".")
    kind, folder = _kind(path, option), _kind(parent, option)
    if kind == "dir":
        raise InputError(f"{option} {path} is a directory")
    if folder != "dir":
        raise InputError(f"{option} {path}: " + (f"{parent} is not a directory" if folder == "file" else
                                                  f"the directory {parent} does not exist"))
    if kind == "file" and not os.access(path, os.W_OK):
        raise InputError(f"cannot write {option} {path}: permission denied")
    if kind == "file" and not replaced:
        return
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(f"cannot write {option} {path}: {unreadable(e)}") from None


def _write_junit(path: Path | None, report: "Report", strict: bool, show: bool, scrubbed: bool = False) -> None:
    """`scrubbed`: `_emit` already scrubbed the report in place (every output but JSON)."""
    if path is None:
        return
    from regauth.render.junit import render

    if not show and not scrubbed:  # as _emit: no known secret in any output
        from regauth.redact import scrub_obj

        scrub_obj(report)
    try:
        path.write_text(render(report, strict), encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write --junit {path}: {unreadable(e)}") from None


def _load_pull_secrets(paths: list[Path]):
    """The pull secrets given with --pull-secret, or None when there are none."""
    if not paths:
        return None
    from regauth.kube.secrets import load_secrets

    secrets = []
    for path in paths:
        secrets += load_secrets(_read_source(str(path), "--pull-secret"), str(path))
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
            if f == "-":
                objects += parse_objects(_read_source("-"), "stdin")
            elif f and _kind(Path(f), "kube-check") == "dir":
                objects += load_objects([f])
            else:  # a file: read here, so that what is wrong with it is said in plain words
                objects += parse_objects(_read_source(f, "kube-check FILE"), f)
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
    trace_file: TraceFileOpt = None, deadline: DeadlineOpt = None,
) -> None:
    """Replay `docker login`; with --repo, prove the credentials can really pull (and push)."""

    def go() -> int:
        from regauth.context import Shared
        from regauth.http import Http
        from regauth.login import LoginRequest, login as run_login
        from regauth.report import Report

        if not registry.strip():
            raise InputError("the REGISTRY argument is empty: give a host[:port], or docker.io for Docker Hub")
        if push and not repo:
            raise InputError("--push needs --repo")
        options = _options(username, password_stdin, password_file, config, authfile, ca_file, certs_dir, insecure,
                           plain_http, timeout, show_secrets, identity_token=identity_token, deadline=deadline)
        on_exchange, har = _recorders(trace, _path(trace_file, "--trace-file"), show_secrets, no_color)
        http = Http(options.transport, on_exchange=on_exchange)
        try:
            result = run_login(LoginRequest(registry, repo, push, save, allow_plaintext), options, Shared(http))
        finally:
            http.close()
            _write_har(har)
        report = Report("login", [result])
        _emit(report, output, no_color, quiet, verbose, show_secrets)
        return _exit_code(report, strict)

    _run(go, debug)


@app.command("decode-secret")
def decode_secret(
    source: Annotated[Optional[str], typer.Argument(help="Secret YAML/JSON file, or - for stdin")] = None,
    image: Annotated[Optional[str], typer.Option("--image", help="say which entry kubelet would use for IMAGE")] = None,
    output: OutputOpt = Output.text, no_color: NoColorOpt = False, strict: StrictOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Decode and lint Kubernetes image pull secrets, offline."""

    def go() -> int:
        from regauth.kube.secrets import decode_secret_report

        from regauth.redact import scrub_obj

        if source is None and sys.stdin is not None and sys.stdin.isatty():
            raise InputError("give a FILE or pipe the secret in (-)")
        text = _read_source(source if source is not None else "-", "decode-secret FILE")
        label = "stdin" if source in (None, "-") else source  # what errors and the report call the input
        report = scrub_obj(decode_secret_report(text, label, image))
        if output != Output.text:  # json and github as for every command (the report is scrubbed already)
            _emit(report, output, no_color, quiet=False, show=True)
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
        _emit(report, output, no_color, quiet=False, show=show_secrets)
        return _exit_code(report, False)

    _run(go, debug)


def _read_stdin() -> str:
    try:
        return _stdin().read()
    except UnicodeDecodeError:
        raise InputError("stdin is not text (it does not decode as UTF-8)") from None


def _read_source(source: str, what: str = "FILE") -> str:
    """The text of `source`: stdin for "-", else a file (`what` names the argument in messages)."""
    if source == "-":
        return _read_stdin()
    if not source:
        raise InputError(f"the {what} argument is empty: give a file, or - for stdin")
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read {source}: {unreadable(e)}") from None
    except UnicodeDecodeError:
        raise InputError(f"{source} is not a text file (not UTF-8)") from None


def main() -> None:
    """The console script. Once the output is flushed it leaves without the interpreter's tear-down, which only
    frees memory the OS reclaims anyway (30–50 ms, a sixth of a single check) — unless a tracer or profiler
    (coverage, cProfile) is active, which writes its data at exit."""
    try:
        app(prog_name="regauth")
        code: object = 0
    except SystemExit as e:
        code = e.code
    traced = sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules
    if traced and code != EXIT_INTERRUPTED:  # interrupted: checks may still be running, and exit would join them
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # SystemExit("message"): print it, exit 1, as the interpreter would
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`regauth … | head`): nothing more to say
            pass
    os._exit(code)

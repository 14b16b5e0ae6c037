"""The command line against awkward input and situations: out-of-range numbers, a closed or interactive stdin, empty
and wrong-kind paths, unwritable report files, huge references, references with a scheme, Ctrl-C in a batch.

Bad input ends in one line on stderr and exit 2 (never a traceback, never exit 3); Ctrl-C ends in exit 130.
"""

from __future__ import annotations

import base64
import json
import os
import pty
import signal
import socket
import subprocess
import time

import pytest

from regauth import __version__
from tests.support.cli import REGAUTH, Run, isolated_env, regauth
from tests.support.users import BOB

REFUSED = "127.0.0.1:1/team/app:1.0"  # nothing listens on port 1
POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: apps}\n"
       "spec:\n  containers:\n  - {name: web, image: '127.0.0.1:1/team/app:1.0'}\n")
INTERNALS = ("Error)", "Error:", "Traceback", "internal error", "NoneType")


def assert_input_error(run, *words: str) -> str:
    assert run.code == 2, f"exit {run.code}\n{run.stdout[:2000]}\n{run.stderr[:2000]}"
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regauth: "), run.stderr[:2000]
    for bad in INTERNALS:
        assert bad not in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def run_with(argv: list[str], **popen) -> Run:
    """`regauth(...)` with other stdin/cwd: the installed command, in the same isolated environment."""
    proc = subprocess.run(argv if argv[0] == "/bin/sh" else [REGAUTH, *argv], capture_output=True, text=True,
                          timeout=60, env=isolated_env(), **popen)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def pod(tmp_path):
    path = tmp_path / "pod.yaml"
    path.write_text(POD)
    return str(path)


@pytest.fixture
def silent_server():
    """A TCP listener that never accepts: it tells whether anyone connected (backlog), and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server
    server.close()


def connected(server: socket.socket) -> bool:
    server.setblocking(False)
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


# --- 1. --timeout / --deadline ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "1e10", "1e12", "nan", "0", "-1", "3601"])
@pytest.mark.parametrize("command", ["pull-check", "login", "kube-check"])
def test_timeout_out_of_range(command, value, pod):
    target = {"pull-check": REFUSED, "login": "127.0.0.1:1", "kube-check": pod}[command]
    assert_input_error(regauth(command, target, "--timeout", value), "--timeout")


@pytest.mark.parametrize("value", ["inf", "1e12", "0"])
@pytest.mark.parametrize("command", ["pull-check", "login"])
def test_deadline_out_of_range(command, value):
    target = REFUSED if command == "pull-check" else "127.0.0.1:1"
    assert_input_error(regauth(command, target, "--deadline", value), "--deadline")


def test_largest_timeout_is_accepted():
    run = regauth("pull-check", REFUSED, "--timeout", "3600", "--deadline", "3600", "-o", "json")
    assert run.code == 1 and "ping.refused" in run.codes, run.stderr


# --- 2. stdin closed, or a terminal ---------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["pull-check", "-"], ["decode-secret"], ["decode-secret", "-"], ["decode-token", "-"], ["kube-check", "-"],
    ["pull-check", REFUSED, "-u", "alice", "--password-stdin"], ["pull-check", REFUSED, "--identity-token", "-"],
    ["login", "127.0.0.1:1", "-u", "alice", "--password-stdin"],
], ids=["pull-check", "decode-secret", "decode-secret-dash", "decode-token", "kube-check", "password-stdin",
        "identity-token", "login-password-stdin"])
def test_closed_stdin(argv):
    line = assert_input_error(run_with(["/bin/sh", "-c", 'exec "$0" "$@" <&-', REGAUTH, *argv]), "stdin is closed")
    assert "terminal" not in line


def test_decode_secret_without_file_on_a_terminal_does_not_wait():
    controller, terminal = pty.openpty()
    try:
        run = run_with(["decode-secret"], stdin=terminal)  # would block reading the terminal without the check
    finally:
        os.close(terminal)
        os.close(controller)
    assert_input_error(run, "give a FILE or pipe the secret in (-)")


# --- 3. Ctrl-C ------------------------------------------------------------------------------------------------------

def test_ctrl_c_stops_a_batch_at_once(silent_server):
    """Two checks hang on a server that never answers (--timeout 40): SIGINT ends the run with 130 right away."""
    port = silent_server.getsockname()[1]
    proc = subprocess.Popen([REGAUTH, "pull-check", "--plain-http", "--timeout", "40", f"127.0.0.1:{port}/a/one:1",
                             f"127.0.0.1:{port}/a/two:1"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=isolated_env())
    try:
        time.sleep(1.0)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)  # a liveness bound for the suite, not a timing assertion
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert err.strip() == "regauth: interrupted", err


# --- 4. --junit / --trace-file that cannot be written ------------------------------------------------------------

@pytest.mark.parametrize("option", ["--junit", "--trace-file"])
@pytest.mark.parametrize("where", ["missing-dir", "unwritable-dir", "dir-is-a-file"])
def test_unwritable_report_fails_before_any_check(option, where, tmp_path, silent_server):
    path = {"missing-dir": str(tmp_path / "nope" / "report.xml"),
            "unwritable-dir": "/proc/regauth-report.xml",  # nobody, not even root, creates files in /proc
            "dir-is-a-file": str(tmp_path / "file" / "report.xml")}[where]
    (tmp_path / "file").write_text("")
    port = silent_server.getsockname()[1]
    run = regauth("pull-check", "--plain-http", "--timeout", "40", f"127.0.0.1:{port}/a/one:1",
                  f"127.0.0.1:{port}/a/two:1", option, path, timeout=30)
    assert_input_error(run, option)
    assert run.stdout == ""
    assert not connected(silent_server), "a check ran before the report file was found unwritable"


def test_junit_still_written(tmp_path):
    path = tmp_path / "junit.xml"
    run = regauth("pull-check", REFUSED, "Bad/Ref", "--junit", str(path))
    assert run.code == 2 and path.read_text().startswith("<?xml")
    assert not [p for p in tmp_path.iterdir() if p.name != "junit.xml"]  # the probe file is gone


# --- 5. empty arguments, paths of the wrong kind ------------------------------------------------------------------

@pytest.mark.parametrize("argv,words", [
    (["kube-check", ""], ["empty"]),
    (["decode-secret", ""], ["empty"]),
    (["login", ""], ["REGISTRY", "empty"]),
    (["pull-check", REFUSED, "--ca-file", ""], ["--ca-file", "empty"]),
    (["pull-check", REFUSED, "--certs-dir", ""], ["--certs-dir", "empty"]),
    (["pull-check", REFUSED, "--config", ""], ["--config", "empty"]),
    (["pull-check", REFUSED, "--authfile", ""], ["--authfile", "empty"]),
    (["pull-check", REFUSED, "-u", "alice", "--password-file", ""], ["--password-file", "empty"]),
    (["pull-check", REFUSED, "--identity-token", ""], ["--identity-token", "empty"]),
    (["pull-check", "--file", ""], ["--file", "empty"]),
    (["pull-check", REFUSED, "--pull-secret", ""], ["--pull-secret", "empty"]),
    (["pull-check", REFUSED, "--junit", ""], ["--junit", "empty"]),
    (["pull-check", REFUSED, "--trace-file", ""], ["--trace-file", "empty"]),
    (["login", "127.0.0.1:1", "--trace-file", ""], ["--trace-file", "empty"]),
], ids=["kube-check", "decode-secret", "login", "ca-file", "certs-dir", "config", "authfile", "password-file",
        "identity-token", "file", "pull-secret", "junit", "trace-file", "login-trace-file"])
def test_empty_argument(argv, words):
    line = assert_input_error(regauth(*argv), *words)
    assert ": ." not in line and " . " not in line  # not taken as the current directory


def test_empty_login_registry_is_not_docker_hub():
    run = regauth("login", "", "-u", "alice", "--password-stdin", input="secret\n")
    assert_input_error(run, "REGISTRY", "empty")
    assert run.stdout == ""


def test_empty_kube_check_argument_does_not_scan_the_current_directory(tmp_path):
    (tmp_path / "pod.yaml").write_text(POD)
    assert_input_error(run_with(["kube-check", "", "-o", "json"], cwd=tmp_path, stdin=subprocess.DEVNULL), "empty")


def test_ca_file_that_is_a_directory(tmp_path):
    assert_input_error(regauth("pull-check", REFUSED, "--ca-file", str(tmp_path)), "is a directory, not a file")


def test_identity_token_that_is_a_directory(tmp_path):
    line = assert_input_error(regauth("pull-check", REFUSED, "--identity-token", str(tmp_path)), "--identity-token",
                              "is a directory")
    assert "password" not in line


def test_empty_identity_token_file(tmp_path):
    (tmp_path / "token").write_text("\n")
    line = assert_input_error(regauth("pull-check", REFUSED, "--identity-token", str(tmp_path / "token")),
                              "identity token", "empty")
    assert "password" not in line


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_certs_dir_that_is_not_a_directory(kind, tmp_path):
    path = tmp_path / "certs"
    if kind == "file":
        path.write_text("")
    assert_input_error(regauth("pull-check", REFUSED, "--certs-dir", str(path)), "--certs-dir",
                       "not a directory" if kind == "file" else "does not exist")


@pytest.mark.parametrize("option", ["--ca-file", "--certs-dir", "--config", "--junit", "--trace-file", "--file",
                                    "--password-file"])
def test_path_too_long(option, tmp_path):
    extra = ["-u", "alice"] if option == "--password-file" else []
    line = assert_input_error(regauth("pull-check", REFUSED, *extra, option, "x" * 5000), "too long")
    assert len(line) < 1000


# --- 6. messages in plain words -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,words", [("missing", "no such file"), ("binary", "not UTF-8"),
                                        ("directory-named-yaml", None)])
def test_kube_check_file_problems_in_plain_words(kind, words, tmp_path):
    path = tmp_path / "pod.yaml"
    if kind == "binary":
        path.write_bytes(b"\xff\xfe\x00kind: Pod\n")
    elif kind == "directory-named-yaml":
        path.mkdir()
        (path / "pod.yaml").write_text(POD)
        run = regauth("kube-check", str(path), "-o", "json", "--timeout", "2")
        assert run.code == 1 and run.result["failed_step"] == "ping"  # a directory is scanned
        return
    assert_input_error(regauth("kube-check", str(path)), words)


@pytest.mark.parametrize("command", ["decode-secret", "kube-check"])
def test_unreadable_file_in_plain_words(command, tmp_path):
    path = tmp_path / "secret.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01")
    assert_input_error(regauth(command, str(path)), "not UTF-8")


# --- 7. --quiet with several images -------------------------------------------------------------------------------

def test_quiet_batch_prints_the_errors_and_the_summary():
    run = regauth("pull-check", "-q", REFUSED, "127.0.0.1:1/team/other:2", "Bad/Ref")
    assert run.code == 2, run.stderr
    lines = run.stdout.splitlines()
    assert f"✘ {REFUSED}: ping.refused: " in run.stdout
    assert "✘ 127.0.0.1:1/team/other:2: ping.refused: " in run.stdout
    assert "✘ Bad/Ref: reference.invalid: " in run.stdout
    assert sum(line.strip().startswith("fix: ") for line in lines) == 3
    assert "Summary" in run.stdout and run.stdout.rstrip().endswith("0 passed, 3 failed")
    assert "skipped" not in run.stdout and "docs:" not in run.stdout  # no per-step detail


# --- 8. huge references -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reference", ["a" * 5_000_000, "A" * 5_000_000, "a" * 5_000_000 + ".example/team/app:1",
                                       "team/app:1" + "!" * 5_000_000],
                         ids=["long-name", "long-upper-case", "long-host", "long-tag"])
def test_huge_reference_is_not_echoed_whole(reference):
    run = regauth("pull-check", "-", input=reference + "\n")
    assert run.code == 2, run.stderr[:2000]
    assert "internal error" not in run.stderr
    assert len(run.stdout) < 5000 and "…" in run.stdout
    run = regauth("pull-check", "-", "-o", "json", input=reference + "\n")
    assert run.result["input"] == reference  # JSON keeps the input whole
    d = run.diagnosis("reference.invalid")
    assert len(d["message"]) < 2000 and len(json.dumps(run.result["steps"])) < 5000


def test_long_valid_reference_is_shown_whole():
    reference = "127.0.0.1:1/" + "/".join(["abcdefghij" * 2] * 11) + ":" + "t" * 120  # 364 characters
    run = regauth("pull-check", reference, REFUSED)
    assert run.code == 1 and reference in run.stdout and "…" not in run.stdout


# --- 9. a reference with a scheme ---------------------------------------------------------------------------------

@pytest.mark.parametrize("given,hint", [("https://registry.example/team/app:1", "registry.example/team/app:1"),
                                        ("http://127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app"),
                                        ("docker://alpine", "alpine")])
def test_reference_with_a_scheme(given, hint):
    run = regauth("pull-check", given, "-o", "json")
    assert run.code == 2 and run.codes == ["reference.invalid"]
    assert run.diagnosis("reference.invalid")["fix"] == f"drop the scheme: write {hint}"
    assert f"drop the scheme: write {hint}" in regauth("pull-check", given).stdout


# --- 10. --version ------------------------------------------------------------------------------------------------

def test_version():
    run = regauth("--version")
    assert run.code == 0 and run.stdout == f"regauth {__version__}\n" and run.stderr == ""


# --- 11. the README's example says what regauth says ---------------------------------------------------------

@pytest.mark.registry
def test_readme_example_for_bob(registry_token_tls, tmp_path):
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    quoted = "the token grants no pull on team/multi for 'bob'; it grants nothing at all"
    assert quoted in readme
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    auth = base64.b64encode(f"{BOB.name}:{BOB.password}".encode()).decode()
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {registry_token_tls.host: {"auth": auth}}}))
    run = regauth("pull-check", registry_token_tls.ref("team/multi:1.0"), "--ca-file", str(registry_token_tls.ca_file),
                  env=isolated_env(home))
    assert run.code == 1
    assert f"error jwt.no-access: {quoted}" in run.stdout
    assert f"bob from {home}/.docker/config.json (key {registry_token_tls.host})" in run.stdout

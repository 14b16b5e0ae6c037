"""Transport-level faults, end to end: the installed CLI against small misbehaving servers on 127.0.0.1.

A server that resets the connection mid-response, stops sending, answers 5xx, loops redirects, redirects https to
http, or sends a gigabyte body (streamed lazily, never allocated) — every run must end in a diagnosis (exit 1,
not 3, no traceback) well within the subprocess guard, and leave no server thread running.
(Protocol-level registry misbehaviour lives in test_faults.py with the fault-injection proxy.)
"""

from __future__ import annotations

import ssl

import pytest

from tests.support import badservers as bad
from tests.support.cli import regauth

GIB = 1 << 30
MIB = 1 << 20
OCI = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = "/v2/team/app/manifests/"
# --timeout bounds each connect/read, --deadline the whole check; the subprocess guard (60 s) only catches a hang.
FAST = ("--timeout", "1", "--deadline", "6")


def json_error(status: int) -> bad.Handler:
    return bad.respond_json(status, {"errors": [{"code": "UNAVAILABLE", "message": f"upstream said {status}"}]})


def open_registry(routes: dict[str, bad.Handler]) -> dict[str, bad.Handler]:
    """An anonymous registry whose /v2/ works, with the given faulty routes."""
    return {"/v2/": bad.registry_ping(), **routes}


def token_registry(token: bad.Handler) -> dict[str, bad.Handler]:
    """A registry asking for a Bearer token from /token on the same server, whose token service is `token`."""
    return {"/v2/": bad.bearer_ping(), "/token": token}


HTML_502 = bad.respond(502, body="<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                       content_type="text/html")

# (id, routes, failed step, diagnosis code, text the message must contain)
CASES = [
    ("ping-reset-mid-body", {"/v2/": bad.reset_mid_body()}, "ping", "ping.connection-reset", "reset"),
    ("ping-reset-before-answer", {"/v2/": bad.reset_before_answer()}, "ping", "ping.connect-failed", ""),
    ("ping-stalled-body", {"/v2/": bad.stall_body()}, "ping", "ping.timeout", ""),
    ("ping-no-answer", {"/v2/": bad.stall_headers()}, "ping", "ping.timeout", "within 1 s"),
    ("ping-500", {"/v2/": json_error(500)}, "ping", "ping.unexpected-status", "500"),
    ("ping-502", {"/v2/": json_error(502)}, "ping", "ping.unexpected-status", "502"),
    ("ping-503", {"/v2/": json_error(503)}, "ping", "ping.unexpected-status", "503"),
    ("ping-502-html-proxy", {"/v2/": HTML_502}, "ping", "ping.", "502"),
    ("ping-redirect-loop", {"/v2/": bad.redirect_loop()}, "ping", "ping.connect-failed", "redirects"),
    ("ping-gigabyte-error-body", {"/v2/": bad.huge_body(GIB, status=503)}, "ping", "ping.unexpected-status", "503"),
    ("token-500", token_registry(json_error(500)), "token", "token.unexpected-status", "500"),
    ("token-502", token_registry(json_error(502)), "token", "token.unexpected-status", "502"),
    ("token-503", token_registry(json_error(503)), "token", "token.unexpected-status", "503"),
    ("token-reset-mid-body", token_registry(bad.reset_mid_body()), "token", "challenge.realm-unreachable",
     "reset"),
    ("token-stalled-body", token_registry(bad.stall_body()), "token", "challenge.realm-unreachable", ""),
    ("token-gigabyte", token_registry(bad.huge_body(GIB)), "token", "token.bad-response", ""),
    ("token-redirect-loop", token_registry(bad.redirect_loop()), "token", "challenge.realm-unreachable",
     "redirects"),
    ("manifest-reset-mid-body", open_registry({MANIFEST: bad.reset_mid_body(content_type=OCI)}), "manifest",
     "ping.connection-reset", "reset"),
    ("manifest-redirect-loop", open_registry({MANIFEST: bad.redirect_loop()}), "manifest",
     "ping.connect-failed", "redirects"),
    ("manifest-gigabyte", open_registry({MANIFEST: bad.huge_body(GIB, content_type=OCI)}), "manifest",
     "manifest.too-large", "4 MiB"),
    ("manifest-gzip-bomb", open_registry({MANIFEST: bad.gzip_bomb(GIB, content_type=OCI)}), "manifest",
     "manifest.too-large", "4 MiB"),
]


@pytest.fixture
def server():
    started: list[bad.BadServer] = []

    def start(routes: dict[str, bad.Handler], tls: ssl.SSLContext | None = None) -> bad.BadServer:
        s = bad.BadServer(bad.route(routes), tls=tls).start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
        assert not s.threads_alive, f"server threads still running: {s.threads_alive}"


def check_run(run, step: str, code: str, text: str) -> dict:
    assert run.code == 1, f"exit {run.code}\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    result = run.result
    assert result["failed_step"] == step, result
    errors = [d for d in result["diagnoses"] if d["severity"] == "error"]
    matching = [d for d in errors if d["code"].startswith(code)]
    assert matching, f"no {code} in {[d['code'] for d in errors]}"
    assert text in matching[0]["message"], matching[0]["message"]
    assert matching[0]["fix"]
    steps = [s["name"] for s in result["steps"]]
    assert len(steps) == len(set(steps)), f"a step name appears twice: {steps}"
    return matching[0]


@pytest.mark.parametrize("routes, step, code, text", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fault_ends_in_a_diagnosis(server, routes, step, code, text):
    s = server(routes)
    run = regauth("pull-check", s.ref(), "--plain-http", *FAST, "-o", "json")
    check_run(run, step, code, text)
    s.stop()
    assert s.sent_bytes < 64 * MIB  # gigabyte bodies were streamed lazily and abandoned at the cap


def test_dripping_manifest_ends_at_the_deadline(server):
    """One byte every 0.2 s never trips the 1 s read timeout: only the check's deadline ends the check."""
    s = server(open_registry({MANIFEST: bad.drip(0.2)}))
    run = regauth("pull-check", s.ref(), "--plain-http", "--timeout", "1", "--deadline", "3", "-o", "json")
    d = check_run(run, "manifest", "check.deadline-exceeded", "deadline of 3 s")
    assert "--deadline" in d["fix"]
    assert [x["name"] for x in run.result["steps"]][-2:] == ["platform", "blob"]


def test_deadline_defaults_to_a_multiple_of_the_timeout(server):
    s = server(open_registry({MANIFEST: bad.drip(0.1)}))
    run = regauth("pull-check", s.ref(), "--plain-http", "--timeout", "0.5", "-o", "json")
    check_run(run, "manifest", "check.deadline-exceeded", "deadline of 2 s")


def test_login_against_a_stalled_token_service_ends_in_a_diagnosis(server):
    s = server(token_registry(bad.stall_headers()))
    run = regauth("login", s.host, "--plain-http", "-u", "someone", "--password-stdin", *FAST, "-o", "json",
                  input="pw\n")
    check_run(run, "token", "challenge.realm-unreachable", "")


def test_text_output_and_trace_survive_faults(server):
    s = server(open_registry({MANIFEST: bad.reset_mid_body(content_type=OCI)}))
    run = regauth("pull-check", s.ref(), "--plain-http", *FAST, "--trace")
    assert run.code == 1 and "Traceback" not in run.stderr
    assert "FAILED at manifest: ping.connection-reset" in run.stdout
    assert "failed: reset" in run.stderr  # the trace shows the exchange that broke


def test_https_to_http_redirect_is_refused(server, pki):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(pki.server.cert), str(pki.server.key))
    plain = server({"/": bad.registry_ping()})
    secure = server({"/v2/": bad.redirect(plain.url + "/v2/")}, tls=tls)
    run = regauth("pull-check", secure.ref(), "--ca-file", str(pki.ca_file), *FAST, "-o", "json")
    check_run(run, "ping", "ping.connect-failed", "https to http")
    assert plain.requests == []  # the downgraded URL was never requested


def _running(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped has stopped running)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def test_hanging_credential_helper_is_killed_with_what_it_started(tmp_path):
    """A credsStore helper that never answers and forks: the check's deadline bounds it, and the whole process
    group goes, grandchild included."""
    from tests.support.cli import isolated_env

    bindir, pidfile = tmp_path / "bin", tmp_path / "grandchild.pid"
    bindir.mkdir()
    helper = bindir / "docker-credential-forky"
    helper.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pidfile}\nsleep 300\n")
    helper.chmod(0o755)
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text('{"credsStore": "forky"}')
    env = isolated_env(tmp_path, PATH=f"{bindir}:/usr/bin:/bin")
    run = regauth("pull-check", "127.0.0.1:1/team/app:1.0", "--plain-http", "--timeout", "1", "--deadline", "2",
                  "-o", "json", env=env)
    assert run.code == 1 and "Traceback" not in run.stderr, run.stderr
    d = next(d for d in run.result["diagnoses"] if d["code"] == "credentials.helper-failed")
    assert "before the check's deadline (2 s) and was killed" in d["message"]
    assert pidfile.exists() and not _running(int(pidfile.read_text()))

"""Many images in one run (issue 6): what is shared, input order, the reference sources and the CI outputs.

A registry of this module's own (token auth over HTTP, the session token issuer) holds ``team/batch`` with
N_TAGS tags of one image, so the counts below see only this module's traffic. Counts come from the registry's
access log and the issuer's request log — never from timings.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.support.cli import REGAUTH, isolated_env, regauth
from tests.support.fake_helpers import calls, hermetic_env, store_helper
from tests.support.images import OCI_MANIFEST, SeedImage, push
from tests.support.registry import RegistryProcess
from tests.support.users import ADMIN, ALICE, SERVICE

pytestmark = pytest.mark.registry

REPO = "team/batch"
N_TAGS = 12
GITHUB_LINE = re.compile(r"^::(error|warning) title=regauth [a-z]+\.[a-z0-9-]+::[^\r\n]+$")


@pytest.fixture(scope="module")
def batch_registry(tmp_path_factory, pki, token_issuer, oci_layout):
    """A token registry holding team/batch:t00 … t11 (one manifest under N_TAGS tags) and team/other:1.0."""
    reg = RegistryProcess(tmp_path_factory.mktemp("batch") / "registry", auth="token", pki=pki, issuer=token_issuer,
                          name="batch")
    try:
        reg.start()
        saved, token_issuer.behaviour = token_issuer.behaviour, type(token_issuer.behaviour)()
        mark = token_issuer.mark()
        try:
            push(reg, oci_layout, SeedImage(REPO, "t00", "app", "oci"))
            push(reg, oci_layout, SeedImage("team/other", "1.0", "hello", "oci"))
            digest = oci_layout.refs["app"]
            body = (oci_layout.path / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()
            with httpx.Client(timeout=30, trust_env=False) as client:
                token = client.get(reg.realm, params={"service": SERVICE, "scope": f"repository:{REPO}:pull,push"},
                                   auth=(ADMIN.name, ADMIN.password)).json()["token"]
                for i in range(1, N_TAGS):
                    r = client.put(f"{reg.url}/v2/{REPO}/manifests/t{i:02d}", content=body,
                                   headers={"Authorization": f"Bearer {token}", "Content-Type": OCI_MANIFEST})
                    assert r.status_code == 201, r.text
        finally:
            token_issuer.behaviour = saved
            token_issuer.discard_since(mark)
        yield reg
    finally:
        reg.stop()


def tags(reg: RegistryProcess, n: int = N_TAGS) -> list[str]:
    return [reg.ref(f"{REPO}:t{i:02d}") for i in range(n)]


def run_as_alice(*args: str, input: str | None = None, password_file=None):
    """pull-check over plain HTTP as alice; the password comes by stdin unless stdin carries references."""
    if password_file is not None:
        return regauth("pull-check", *args, "--plain-http", "-u", ALICE.name, "--password-file", str(password_file),
                       input=input)
    return regauth("pull-check", *args, "--plain-http", "-u", ALICE.name, "--password-stdin",
                   input=ALICE.password + "\n")


def regauth_traffic(reg: RegistryProcess, mark: int) -> list:
    """regauth's requests in the access log since `mark` (the registry logs each one just after answering it)."""
    entries = reg.access_log(mark)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        time.sleep(0.1)
        again = reg.access_log(mark)
        if len(again) == len(entries):
            break
        entries = again
    return [e for e in entries if e.user_agent.startswith("regauth/")]


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "password"
    path.write_text(ALICE.password + "\n")
    return path


def test_batch_over_one_repository_pings_once_and_gets_one_token(batch_registry, issuer):
    refs = tags(batch_registry)
    mark, issued = batch_registry.mark(), issuer.mark()
    run = run_as_alice(*refs, "-j", "4", "-o", "json")
    assert run.code == 0, run.stdout[-3000:] + run.stderr
    results = run.report["results"]
    assert [r["input"] for r in results] == refs and all(r["ok"] for r in results)

    traffic = regauth_traffic(batch_registry, mark)
    tokens = issuer.requests_since(issued)
    assert [e.path for e in traffic if e.path == "/v2/"] == ["/v2/"]  # one ping for the registry
    assert [(t.principal, t.scopes) for t in tokens] == [("alice", (f"repository:{REPO}:pull",))]  # one token
    manifests = [e for e in traffic if "/manifests/" in e.path]
    blobs = [e for e in traffic if "/blobs/" in e.path]
    assert sorted(e.path.rsplit("/", 1)[1] for e in manifests) == [f"t{i:02d}" for i in range(N_TAGS)]
    assert all(e.method == "GET" and e.status == 200 for e in manifests)
    assert len(blobs) == N_TAGS and all(e.method == "HEAD" for e in blobs)  # the config blob, HEAD only
    assert len(traffic) == 1 + 2 * N_TAGS  # nothing else: no layer blob, no second ping
    token_steps = [next(s for s in r["steps"] if s["name"] == "token") for r in results]
    assert sum(bool(s["details"].get("cached")) for s in token_steps) == N_TAGS - 1


def test_one_token_per_repository(batch_registry, issuer):
    refs = tags(batch_registry, 4) + [batch_registry.ref("team/other:1.0")] + tags(batch_registry)[4:8]
    issued = issuer.mark()
    run = run_as_alice(*refs, "-o", "json")
    assert run.code == 0, run.stdout[-3000:]
    scopes = sorted(t.scopes for t in issuer.requests_since(issued))
    assert scopes == [("repository:team/batch:pull",), ("repository:team/other:pull",)]


def test_credential_helper_runs_once_for_a_batch_over_several_repositories(batch_registry, issuer, tmp_path):
    """docker asks its helper once per pull; a batch asks once per server, not once per repository or image."""
    env = isolated_env(**hermetic_env(tmp_path))
    store_helper(tmp_path / "bin", "fake", {batch_registry.host: (ALICE.name, ALICE.password)})
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text('{"credsStore": "fake"}')
    refs = tags(batch_registry, 3) + [batch_registry.ref("team/other:1.0")] + tags(batch_registry)[3:6]
    issued = issuer.mark()
    run = regauth("pull-check", *refs, "--plain-http", "--config", str(config), "-o", "json", env=env)
    assert run.code == 0, run.stdout[-3000:] + run.stderr
    assert all(next(s for s in r["steps"] if s["name"] == "credentials")["details"]["username"] == ALICE.name
               for r in run.report["results"])
    assert calls(tmp_path / "bin", "fake") == [{"action": "get", "server": batch_registry.host}]
    assert sorted(t.scopes for t in issuer.requests_since(issued)) == [("repository:team/batch:pull",),
                                                                       ("repository:team/other:pull",)]


def test_results_keep_input_order_with_failures(batch_registry):
    reg = batch_registry
    images = [f"{REPO}:t03", f"{REPO}:missing", "team/other:1.0", "team/absent:1.0", f"{REPO}:t00",
              f"{REPO}:t07", "team/other:nope", f"{REPO}:t11", "team/absent:2.0", f"{REPO}:t01"]
    refs = [reg.ref(i) for i in images]
    expected = [True, False, True, False, True, True, False, True, False, True]
    run = run_as_alice(*refs, "-j", "8", "-o", "json")
    assert run.code == 1
    results = run.report["results"]
    assert [r["input"] for r in results] == refs
    assert [r["ok"] for r in results] == expected
    codes = [next((d["code"] for d in r["diagnoses"] if d["severity"] == "error"), None) for r in results]
    assert codes[1] == codes[6] == "manifest.unknown"
    assert codes[3] == codes[8] == "manifest.name-unknown"

    text = run_as_alice(*refs, "-j", "8")  # the text view ends with the summary table, in input order
    assert text.code == 1
    table = text.stdout[text.stdout.rindex("Summary"):]
    rows = [line for line in table.splitlines() if reg.host in line]
    assert [next(r for r in refs if r in row) for row in rows] == refs
    assert table.rstrip().endswith("6 passed, 4 failed")
    transcripts = [r for r in refs if r in text.stdout[:text.stdout.rindex("Summary")].splitlines()]
    assert transcripts == [r for r, ok in zip(refs, expected) if not ok]  # what passed cleanly is only a row
    assert "6 of 10 checks passed with nothing to report" in text.stdout

    verbose = run_as_alice(*refs, "-j", "8", "-v")
    assert [r for r in refs if r in verbose.stdout.splitlines()] == refs


def test_malformed_reference_in_a_batch_is_an_input_error(batch_registry):
    refs = [batch_registry.ref(f"{REPO}:t00"), "Not/Valid", batch_registry.ref(f"{REPO}:t01")]
    run = run_as_alice(*refs, "-o", "json")
    assert run.code == 2
    assert [r["ok"] for r in run.report["results"]] == [True, False, True]
    assert run.report["results"][1]["failed_step"] == "reference"


def test_file_with_comments_and_blank_lines(batch_registry, tmp_path):
    refs = tags(batch_registry, 5)
    listing = tmp_path / "images.txt"
    listing.write_text(f"# release 1.2 images\n\n{refs[0]}\n   {refs[1]}   # indented, trailing comment\n"
                       f"#{refs[4]}\n\n{refs[2]}\n\t{refs[3]}\n# end\n")
    extra = batch_registry.ref("team/other:1.0")
    run = run_as_alice(extra, "--file", str(listing), "-o", "json")
    assert run.code == 0, run.stdout[-2000:]
    assert [r["input"] for r in run.report["results"]] == [extra, *refs[:4]]


def test_stdin_dash(batch_registry, password_file):
    refs = tags(batch_registry, 6)
    first, last = batch_registry.ref("team/other:1.0"), refs[5]
    listing = "# from a pipeline\n" + "\n".join(refs[:5]) + "\n\n"
    run = run_as_alice(first, "-", last, "-o", "json", input=listing, password_file=password_file)
    assert run.code == 0, run.stdout[-2000:] + run.stderr
    assert [r["input"] for r in run.report["results"]] == [first, *refs[:5], last]


def test_stdin_cannot_carry_both_password_and_references(batch_registry):
    run = regauth("pull-check", "-", "--plain-http", "-u", ALICE.name, "--password-stdin",
                  input=batch_registry.ref(f"{REPO}:t00") + "\n")
    assert run.code == 2 and "stdin" in run.stderr


def test_junit_report(batch_registry, tmp_path):
    reg = batch_registry
    refs = [reg.ref(f"{REPO}:t00"), reg.ref(f"{REPO}:missing"), reg.ref("team/absent:1.0"), reg.ref(f"{REPO}:t01")]
    junit = tmp_path / "reports" / "regauth.xml"
    junit.parent.mkdir()
    run = run_as_alice(*refs, "--junit", str(junit), "-o", "json")
    assert run.code == 1
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and (root.get("tests"), root.get("failures")) == ("4", "2")
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == refs
    assert {c.get("classname") for c in cases} == {"regauth.pull-check"}
    failures = [c.find("failure") for c in cases]
    assert [f is not None for f in failures] == [False, True, True, False]
    results = run.report["results"]
    for case, failure, result in zip(cases, failures, results):
        if failure is None:
            continue
        first = next(d for d in result["diagnoses"] if d["severity"] == "error")
        assert failure.get("message") == f"{first['code']}: {first['message']}"
        assert failure.get("type") == first["code"]
        assert f"fix: {first['fix']}" in failure.text
        assert "steps:" in failure.text and "FAIL manifest" in failure.text
    assert failures[1].get("message").startswith("manifest.unknown: ")
    assert failures[2].get("message").startswith("manifest.name-unknown: ")


def test_junit_into_a_missing_directory_fails_before_checking(batch_registry, tmp_path):
    mark = batch_registry.mark()
    run = run_as_alice(batch_registry.ref(f"{REPO}:t00"), "--junit", str(tmp_path / "nope" / "x.xml"))
    assert run.code == 2 and "--junit" in run.stderr
    assert regauth_traffic(batch_registry, mark) == []


def test_github_output(batch_registry):
    reg = batch_registry
    refs = [reg.ref(f"{REPO}:t00"), reg.ref(f"{REPO}:missing"), reg.ref("team/absent:1.0"), reg.ref(f"{REPO}:t02")]
    run = run_as_alice(*refs, "-o", "github")
    assert run.code == 1
    lines = run.stdout.splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert commands and all(GITHUB_LINE.match(line) for line in commands), commands
    errors = [line for line in commands if line.startswith("::error ")]
    assert [e.split("::", 2)[2].split(": ", 1)[0] for e in errors] == [refs[1], refs[2]]
    assert errors[0].startswith("::error title=regauth manifest.unknown::")
    assert errors[1].startswith("::error title=regauth manifest.name-unknown::")
    assert all(" — fix: " in e for e in errors)
    assert lines[-1] == "regauth pull-check: 2 passed, 2 failed"
    assert run.stderr == ""


@pytest.mark.parametrize("output", ["text", "json", "github"])
def test_no_progress_bar_without_a_terminal(batch_registry, output):
    run = run_as_alice(*tags(batch_registry, 8), "-o", output)
    assert run.code == 0
    assert run.stderr == ""
    assert "\x1b[" not in run.stdout and "\r" not in run.stdout


def test_progress_bar_on_a_terminal_goes_to_stderr_only(batch_registry, password_file):
    """stderr on a pseudo-terminal: the bar is drawn there; stdout (a pipe) stays clean JSON."""
    master, slave = os.openpty()
    env = isolated_env()
    env.pop("NO_COLOR", None)
    seen = bytearray()

    def drain() -> None:  # keep reading, or a full terminal buffer would block the child
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO once the child side is closed
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen([REGAUTH, "pull-check", *tags(batch_registry, 6), "--plain-http", "-u", ALICE.name,
                                 "--password-file", str(password_file), "-o", "json"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        out, _ = proc.communicate(timeout=60)
        reader.join(timeout=10)
    finally:
        os.close(master)
    assert proc.returncode == 0
    assert b"checking" in seen and b"6/6" in seen
    assert out.lstrip().startswith(b"{") and b"\x1b[" not in out

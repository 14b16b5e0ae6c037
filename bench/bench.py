"""regauth at fleet scale, measured against a `skopeo inspect --raw` loop (issue 6). A script, not a test.

    .venv/bin/python bench/bench.py [--repos 20] [--tags 10] [--big 1000] [--skopeo-sample 0] [--plain-http]

What it does, in one run:

1. starts the real-registry tier from tests/support: a PKI, the ES256 token issuer (in this process, HTTP and
   HTTPS listeners) and a CNCF distribution 2.8 registry with token auth (TLS unless --plain-http);
2. pushes one small OCI image per repository with skopeo (``team/bench-NN``), then adds tags cheaply by PUTting
   a manifest under each new tag over HTTP with an admin token — a distinct manifest per tag (an annotation),
   sharing the config and layer blobs — enough tags for the 1,000-image run;
3. measures, side by side, checking as ``alice`` (Basic credentials for the token service):
   - regauth checking one image, a whole cold process, median of 9 — and skopeo inspecting one, median of 9;
   - regauth checking all images (repos × tags) in one process (text output, then JSON), median of 3;
   - a loop of ``skopeo inspect --raw`` over the same images, one process each (all of them, or a sample with
     --skopeo-sample N whose time is extrapolated; the table says so);
   - HTTP requests per image, counted in the registry's access log and the issuer's request log;
   - peak RSS of each process (``/usr/bin/time``'s maximum resident set size, else getrusage of children),
     including one regauth run over 1,000 images;
   - ``regauth --help`` and ``python -c pass`` for the fixed start-up cost;
4. prints a table with the ratios against the issue's targets, and stops everything it started.

Every subprocess has a timeout; the registry is stopped in a ``finally`` (SIGTERM unwinds to it too, and
tests/support's atexit net and parent-death signal are behind that). Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.cli import isolated_env  # noqa: E402
from tests.support.images import OCI_MANIFEST, SeedImage, build_layout, push  # noqa: E402
from tests.support.pki import create_pki  # noqa: E402
from tests.support.registry import RegistryProcess  # noqa: E402
from tests.support.skopeo import SKOPEO, _sandbox, skopeo_env, tls_flags  # noqa: E402
from tests.support.token_issuer import TokenIssuer  # noqa: E402
from tests.support.users import ADMIN, ALICE, SERVICE  # noqa: E402

REGAUTH = str(Path(sys.executable).parent / "regauth")
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
PROCESS_TIMEOUT = 300  # seconds, any one process
MIB = 1024 * 1024

# The targets.
TARGET_BATCH_SPEEDUP = 10.0  # regauth batch at least 10x faster than the skopeo loop
STACK_IMPORTS = "import typer, httpx, httpcore"  # what every regauth process imports before any of its own code
TARGET_SINGLE_RATIO = 4.0  # one cold regauth at most 4x one skopeo
TARGET_RSS_MIB = 80.0  # peak RSS for 1,000 images


@dataclass
class Measured:
    wall: float  # seconds
    rss_kib: int | None
    code: int
    stdout: str = ""
    stderr: str = ""
    best: float | None = None  # the fastest of the runs a median was taken over


@dataclass
class Traffic:
    registry: list = field(default_factory=list)  # AccessLogEntry
    tokens: list = field(default_factory=list)  # TokenRequest

    @property
    def total(self) -> int:
        return len(self.registry) + len(self.tokens)

    @property
    def pings(self) -> int:
        return sum(1 for e in self.registry if e.path == "/v2/")

    def by_kind(self) -> Counter:
        kinds: Counter = Counter()
        for e in self.registry:
            if e.path == "/v2/":
                kinds["ping"] += 1
            elif "/manifests/" in e.path:
                kinds[f"{e.method} manifest"] += 1
            elif "/blobs/" in e.path:
                kinds[f"{e.method} blob"] += 1
            else:
                kinds[f"{e.method} other"] += 1
        kinds["token"] = len(self.tokens)
        return kinds


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="regauth-bench-"))
        self.issuer: TokenIssuer | None = None
        self.registry: RegistryProcess | None = None
        self.refs: list[str] = []  # every tag seeded, repo-major
        self.env = isolated_env(Path(self.work / "home"))
        (self.work / "home").mkdir()
        # Bytecode as an installed package has it: an editable install under PYTHONDONTWRITEBYTECODE=1 would
        # compile regauth's modules from source on every run (~35 ms); the warm-up run fills this cache.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(self.work / "pycache")

    # ------------------------------------------------------------------------------------------- set-up
    def start(self) -> None:
        tls = not self.args.plain_http
        pki = create_pki(self.work / "pki")
        self.issuer = TokenIssuer(pki.signing_key, untrusted_key=pki.untrusted_signing_key, tls_cert=pki.server.cert,
                                  tls_key=pki.server.key).start()
        self.registry = RegistryProcess(self.work / "registry", auth="token", tls=tls, pki=pki, issuer=self.issuer,
                                        name="bench", extra_config={"log": {"level": "warn"}})
        self.registry.start()
        self.layout = build_layout(self.work / "layout")

    def seed(self) -> None:
        reg, n_repos = self.registry, self.args.repos
        per_repo = max(self.args.tags, -(-self.args.big // n_repos))
        repos = [f"team/bench-{i:02d}" for i in range(n_repos)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda r: push(reg, self.layout, SeedImage(r, "t000", "app", "oci"), user=ADMIN), repos))
        pushed = time.perf_counter() - t0
        digest = self.layout.refs["app"]
        manifest = json.loads((self.layout.path / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes())
        verify = str(reg.ca_file) if reg.tls else False
        t1 = time.perf_counter()
        with httpx.Client(verify=verify, timeout=30, trust_env=False) as client:
            def tag_repo(repo: str) -> None:
                scope = f"repository:{repo}:pull,push"
                tok = client.get(reg.realm, params={"service": SERVICE, "scope": scope},
                                 auth=(ADMIN.name, ADMIN.password)).json()["token"]
                headers = {"Authorization": f"Bearer {tok}", "Content-Type": OCI_MANIFEST}
                for t in range(1, per_repo):
                    # a distinct manifest per tag (an annotation), as in a real fleet: nothing to gain from
                    # identical digests; layers and config stay shared, as image versions often share them
                    body = json.dumps({**manifest, "annotations": {"org.opencontainers.image.version": f"t{t:03d}"}},
                                      separators=(",", ":")).encode()
                    r = client.put(f"{reg.url}/v2/{repo}/manifests/t{t:03d}", content=body, headers=headers)
                    if r.status_code != 201:
                        raise RuntimeError(f"PUT {repo}:t{t:03d} → {r.status_code} {r.text[:200]}")

            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(tag_repo, repos))
        tagged = time.perf_counter() - t1
        # tag-major order within the first `tags` tags, so consecutive images hit different repositories
        self.refs = [reg.ref(f"{repo}:t{t:03d}") for t in range(per_repo) for repo in repos]
        self.seed_note = (f"{n_repos} repositories × {per_repo} tags = {len(self.refs)} tags "
                          f"(skopeo copy ×{n_repos}: {pushed:.1f} s; manifest PUT ×{len(self.refs) - n_repos}: "
                          f"{tagged:.1f} s)")

    def stop(self) -> None:
        if self.registry is not None:
            self.registry.stop()
        if self.issuer is not None:
            self.issuer.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    # ------------------------------------------------------------------------------------------- running
    def run(self, argv: list[str], *, stdin: str | None = None, env: dict | None = None) -> Measured:
        """One process under /usr/bin/time; wall clock measured here."""
        rss_file = self.work / "rss.txt"
        cmd = [TIME, "-f", "%M", "-o", str(rss_file), *argv] if TIME else argv
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
                              env=env or self.env, stdin=None if stdin is not None else subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        if TIME:
            rss = int(rss_file.read_text().split()[-1])
        else:  # only a high-water mark over all children so far: exact only while it grows
            after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            rss = after if after > before else None
        return Measured(wall, rss, proc.returncode, proc.stdout, proc.stderr)

    def regauth_argv(self, *args: str) -> list[str]:
        reg = self.registry
        transport = ["--ca-file", str(reg.ca_file)] if reg.tls else ["--plain-http"]
        return [REGAUTH, "pull-check", *args, *transport, "-u", ALICE.name, "--password-stdin"]

    def regauth(self, *args: str) -> Measured:
        return self.run(self.regauth_argv(*args), stdin=ALICE.password + "\n")

    def skopeo(self, ref: str) -> Measured:
        argv = [SKOPEO, "--insecure-policy", "--registries.d", str(_sandbox() / "registries.d"), "inspect", "--raw",
                "--creds", ALICE.creds, *tls_flags(self.registry), f"docker://{ref}"]
        return self.run(argv, env=skopeo_env())

    def import_ms(self, argv: list[str], stdin: str | None = None) -> tuple[float, int]:
        """(ms spent importing, modules imported) by `python -X importtime -c <code> argv…`: the sum of the
        top-level cumulative times, i.e. every import the run made."""
        code = "import sys; sys.argv[0] = 'regauth'; from regauth.cli import main; main()" if argv else \
            "import regauth.cli"
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *argv], input=stdin,
                              capture_output=True, text=True, timeout=PROCESS_TIMEOUT, env=self.env, cwd=self.work,
                              stdin=None if stdin is not None else subprocess.DEVNULL)
        total, modules = 0, 0
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( +)\S", line)
            if m:
                modules += 1
                total += int(m.group(1)) if len(m.group(2)) == 1 else 0
        return total / 1000, modules

    def traffic(self, fn) -> tuple[object, Traffic]:
        """Run fn() and collect the requests it caused at the registry and the token service."""
        reg_mark, tok_mark = self.registry.mark(), self.issuer.mark()
        out = fn()
        entries = self.registry.access_log(reg_mark)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:  # the registry logs a request after answering it
            time.sleep(0.1)
            again = self.registry.access_log(reg_mark)
            if len(again) == len(entries):
                break
            entries = again
        return out, Traffic(entries, self.issuer.requests_since(tok_mark))

    def refs_file(self, refs: list[str], name: str) -> Path:
        path = self.work / name
        path.write_text("# bench references\n" + "\n".join(refs) + "\n")
        return path


def _median(runs: list[Measured]) -> Measured:
    ordered = sorted(runs, key=lambda m: m.wall)
    mid = ordered[len(ordered) // 2]
    rss = [m.rss_kib for m in runs if m.rss_kib is not None]
    return Measured(mid.wall, max(rss) if rss else None, mid.code, best=ordered[0].wall)


def _check(m: Measured, what: str) -> Measured:
    if m.code != 0:
        raise SystemExit(f"{what} exited {m.code}:\n{m.stdout[-2000:]}\n{m.stderr[-2000:]}")
    return m


def _mib(kib: int | None) -> str:
    return f"{kib / 1024:.1f} MiB" if kib else "n/a"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repos", type=int, default=20)
    p.add_argument("--tags", type=int, default=10, help="tags per repository in the all-images run")
    p.add_argument("--big", type=int, default=1000, help="images in the RSS run")
    p.add_argument("--skopeo-sample", type=int, default=0, help="run skopeo on N images and extrapolate (0: all)")
    p.add_argument("--repeat", type=int, default=9, help="runs of each cold single-image measurement")
    p.add_argument("--plain-http", action="store_true", help="registry and realm over HTTP instead of TLS")
    p.add_argument("-j", "--concurrency", type=int, default=8)
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = p.parse_args()
    if args.repos < 1 or args.tags < 1 or args.big < 1 or not 0 <= args.skopeo_sample <= 100_000:
        p.error("counts must be positive")

    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so the finally below stops the registry and cleans up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(args)
    figures: dict = {}
    load_start = os.getloadavg()[0]
    try:
        t_setup = time.perf_counter()
        bench.start()
        bench.seed()
        print(f"set-up {time.perf_counter() - t_setup:.1f} s: {bench.seed_note}", file=sys.stderr)
        repos = args.repos
        batch = [r for r in bench.refs[: repos * args.tags]]
        big = (bench.refs * (-(-args.big // len(bench.refs))))[: args.big]
        one = batch[0]
        j = ["-j", str(args.concurrency)]

        # warm the OS page cache (python modules, skopeo binary) so "cold" means a cold process, not a cold disk
        _check(bench.regauth(one, "-o", "json"), "regauth warm-up")
        _check(bench.skopeo(one), "skopeo warm-up")

        print("start-up …", file=sys.stderr)
        python_pass = _median([bench.run([sys.executable, "-c", "pass"]) for _ in range(args.repeat)])
        helps = _median([_check(bench.run([REGAUTH, "--help"]), "regauth --help") for _ in range(args.repeat)])
        imports_cli = [bench.import_ms([]) for _ in range(args.repeat)]
        imports_one = [bench.import_ms(bench.regauth_argv(one, "-o", "json")[1:], ALICE.password + "\n")
                       for _ in range(args.repeat)]

        print("one image, cold process …", file=sys.stderr)
        # interleaved, so that both sides of each ratio see the same machine (a 2-CPU VM's speed drifts)
        single_runs, text_single_runs, sk_runs, stack_runs = [], [], [], []
        single_traffic = sk_single_traffic = None
        for i in range(args.repeat):
            # what the chosen stack costs before regauth does anything: the CLI library and the HTTP client imported
            stack_runs.append(_check(bench.run([sys.executable, "-c", STACK_IMPORTS]), "stack imports"))
            m, tr = bench.traffic(lambda: _check(bench.regauth(one, "-o", "json"), "regauth single"))
            single_runs.append(m)
            single_traffic = single_traffic or tr
            m, tr = bench.traffic(lambda: _check(bench.skopeo(one), "skopeo single"))
            sk_runs.append(m)
            sk_single_traffic = sk_single_traffic or tr
            text_single_runs.append(_check(bench.regauth(one), "regauth single text"))
        single, single_text, sk_single = _median(single_runs), _median(text_single_runs), _median(sk_runs)
        stack = _median(stack_runs)

        print(f"all {len(batch)} images in one process …", file=sys.stderr)
        file = bench.refs_file(batch, "batch.txt")
        text_runs, json_runs, batch_traffic = [], [], None
        for _ in range(3):
            m, tr = bench.traffic(lambda: _check(bench.regauth("--file", str(file), *j), "regauth batch text"))
            text_runs.append(m)
            batch_traffic = batch_traffic or tr
            json_runs.append(_check(bench.regauth("--file", str(file), *j, "-o", "json"), "regauth batch json"))
        batch_text, batch_json = _median(text_runs), _median(json_runs)
        serial = _check(bench.regauth("--file", str(file), "-j", "1", "-o", "json"), "regauth batch -j1")

        sample = batch if not args.skopeo_sample or args.skopeo_sample >= len(batch) else \
            batch[:: max(1, len(batch) // args.skopeo_sample)][: args.skopeo_sample]
        print(f"skopeo inspect --raw loop over {len(sample)} images …", file=sys.stderr)

        def loop():
            return [_check(bench.skopeo(ref), f"skopeo {ref}") for ref in sample]

        t0 = time.perf_counter()
        sk_loop, sk_traffic = bench.traffic(loop)
        sk_loop_wall = (time.perf_counter() - t0) * len(batch) / len(sample)
        sk_loop_rss = max((m.rss_kib or 0) for m in sk_loop) or None

        print(f"{len(big)} images in one process (RSS) …", file=sys.stderr)
        big_file = bench.refs_file(big, "big.txt")
        big_run, big_traffic = bench.traffic(lambda: _check(bench.regauth("--file", str(big_file), *j, "-o", "json"),
                                                            "regauth 1000 json"))
        big_text = _check(bench.regauth("--file", str(big_file), *j), "regauth 1000 text")
    finally:
        bench.stop()

    n, ns = len(batch), len(sample)
    rq_batch = batch_traffic.total / n
    rq_skopeo = sk_traffic.total / ns
    tokens_per_repo = len(batch_traffic.tokens) / repos
    speedup = sk_loop_wall / batch_text.wall
    speedup_json = sk_loop_wall / batch_json.wall
    single_ratio = single.wall / sk_single.wall
    single_text_ratio = single_text.wall / sk_single.wall
    big_rss = max(big_run.rss_kib or 0, big_text.rss_kib or 0) / 1024
    extrapolated = f" (sampled {ns}, ×{n / ns:.1f})" if ns != n else ""

    def ms(m: Measured) -> str:
        return f"{m.wall * 1000:.0f} ms"

    def best(m: Measured, unit: str = "ms") -> str:
        return "" if m.best is None else f"{m.best * 1000:.0f} ms" if unit == "ms" else f"{m.best:.2f} s"

    rows = [
        ("python -c pass (floor)", ms(python_pass), best(python_pass), _mib(python_pass.rss_kib), "", ""),
        ("regauth --help", ms(helps), best(helps), _mib(helps.rss_kib), "", ""),
        ("python -c 'import typer, httpx, httpcore'", ms(stack), best(stack), _mib(stack.rss_kib),
         f"{stack.wall / sk_single.wall:.2f}× skopeo", "the stack's floor"),
        ("  import regauth.cli (-X importtime)", f"{statistics.median(i[0] for i in imports_cli):.0f} ms",
         f"{min(i[0] for i in imports_cli):.0f} ms", f"{imports_cli[0][1]} modules", "", ""),
        ("  imports of a 1-image pull-check (json)", f"{statistics.median(i[0] for i in imports_one):.0f} ms",
         f"{min(i[0] for i in imports_one):.0f} ms", f"{imports_one[0][1]} modules", "", ""),
        ("skopeo inspect --raw, 1 image", ms(sk_single), best(sk_single), _mib(sk_single.rss_kib), "", ""),
        ("regauth, 1 image, cold (-o json)", ms(single), best(single), _mib(single.rss_kib),
         f"{single_ratio:.2f}× skopeo", f"≤ 4× — {_verdict(single_ratio <= TARGET_SINGLE_RATIO)}"),
        ("regauth, 1 image, cold (text)", ms(single_text), best(single_text), _mib(single_text.rss_kib),
         f"{single_text_ratio:.2f}× skopeo", f"≤ 4× — {_verdict(single_text_ratio <= TARGET_SINGLE_RATIO)}"),
        (f"skopeo loop, {n} images{extrapolated}", f"{sk_loop_wall:.2f} s", "", _mib(sk_loop_rss) + " each", "", ""),
        (f"regauth, {n} images, 1 process (text)", f"{batch_text.wall:.2f} s", best(batch_text, "s"),
         _mib(batch_text.rss_kib), f"{speedup:.1f}× faster",
         f"≥ 10× — {_verdict(speedup >= TARGET_BATCH_SPEEDUP)}"),
        (f"regauth, {n} images, 1 process (json)", f"{batch_json.wall:.2f} s", best(batch_json, "s"),
         _mib(batch_json.rss_kib), f"{speedup_json:.1f}× faster",
         f"≥ 10× — {_verdict(speedup_json >= TARGET_BATCH_SPEEDUP)}"),
        (f"regauth, {n} images, -j 1 (json)", f"{serial.wall:.2f} s", "", _mib(serial.rss_kib),
         f"{sk_loop_wall / serial.wall:.1f}× faster", ""),
        (f"regauth, {len(big)} images (json)", f"{big_run.wall:.2f} s", "", _mib(big_run.rss_kib), "", ""),
        (f"regauth, {len(big)} images (text)", f"{big_text.wall:.2f} s", "", _mib(big_text.rss_kib),
         f"peak {big_rss:.1f} MiB", f"< 80 MiB — {_verdict(big_rss < TARGET_RSS_MIB)}"),
    ]
    kinds_b, kinds_s = batch_traffic.by_kind(), sk_traffic.by_kind()
    kinds_1, kinds_s1 = single_traffic.by_kind(), sk_single_traffic.by_kind()

    def per(kinds: Counter, count: int) -> str:
        return ", ".join(f"{k} {v / count:.2f}" for k, v in sorted(kinds.items()) if v)

    req_rows = [
        ("skopeo, 1 image", f"{sk_single_traffic.total}", per(kinds_s1, 1)),
        ("regauth, 1 image", f"{single_traffic.total}", per(kinds_1, 1)),
        (f"skopeo loop, per image ({ns} images)", f"{rq_skopeo:.2f}", per(kinds_s, ns)),
        (f"regauth batch, per image ({n} images)", f"{rq_batch:.2f}", per(kinds_b, n)),
        (f"regauth {len(big)}, per image", f"{big_traffic.total / len(big):.2f}", per(big_traffic.by_kind(), len(big))),
    ]
    targets = [
        ("requests per image in a batch ≤ skopeo's", f"{rq_batch:.2f} vs {rq_skopeo:.2f}",
         _verdict(rq_batch <= rq_skopeo)),
        ("one ping per registry (batch)", f"{batch_traffic.pings}", _verdict(batch_traffic.pings == 1)),
        ("one token request per repository (batch)", f"{len(batch_traffic.tokens)} for {repos} repositories",
         _verdict(tokens_per_repo == 1)),
        (f"one token request per repository ({len(big)} images)", f"{len(big_traffic.tokens)} for {repos} "
         "repositories", _verdict(len(big_traffic.tokens) == repos)),
        ("no layer blob downloaded", "GET blob: " + str(kinds_b.get("GET blob", 0) + big_traffic.by_kind()
                                                         .get("GET blob", 0)),
         _verdict(not kinds_b.get("GET blob") and not big_traffic.by_kind().get("GET blob"))),
    ]

    def table(header: tuple, body: list[tuple]) -> str:
        widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
        line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
        return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])

    machine = (f"{platform.node() or 'host'}: {os.cpu_count()} CPUs, "
               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024 ** 3:.0f} GiB, "
               f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
               f"{subprocess.run([SKOPEO, '--version'], capture_output=True, text=True).stdout.strip()}")
    print()
    print(f"machine: {machine}")
    print(f"registry: distribution 2.8 with token auth over {'HTTP' if args.plain_http else 'TLS'} on loopback; "
          f"{bench.seed_note}; checks as alice (Basic credentials to the token service), -j {args.concurrency}")
    print(f"rss: {'/usr/bin/time maximum resident set size' if TIME else 'getrusage(RUSAGE_CHILDREN)'}; "
          f"single-image figures are medians of {args.repeat}, batch figures medians of 3")
    print(f"load average (1 min) at start {load_start:.2f}, at end {os.getloadavg()[0]:.2f} — other work on the "
          "machine slows every figure, regauth's (one CPU-bound process) more than skopeo's")
    print()
    print(table(("measurement", "wall (median)", "best", "peak RSS", "ratio (medians)", "target"), rows))
    print()
    print(table(("HTTP requests", "total", "by kind"), req_rows))
    print()
    print(table(("target", "measured", "verdict"), targets))
    figures = {"machine": machine, "rows": rows, "requests": req_rows, "targets": targets,
               "seed": bench.seed_note, "load": [load_start, os.getloadavg()[0]]}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

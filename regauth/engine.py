"""Runs the handshake steps in order for one check, and many checks concurrently over one shared client.

A registry fault never raises out of here: it becomes a Diagnosis. An exception escaping a step is a bug.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from regauth import deadline
from regauth.context import Check, RunOptions, Shared
from regauth.report import CheckResult, StepResult
from regauth.steps import blob, challenge, credentials, jwt, manifest, ping, platform, reference, token

Step = Callable[[Check], StepResult]
PULL_STEPS: list[tuple[str, Step]] = [
    ("reference", reference.run), ("credentials", credentials.run), ("ping", ping.run),
    ("challenge", challenge.run), ("token", token.run), ("jwt", jwt.run), ("manifest", manifest.run),
    ("platform", platform.run), ("blob", blob.run),
]
DEFAULT_CONCURRENCY = 8


def run_steps(check: Check, steps: Iterable[tuple[str, Step]]) -> CheckResult:
    """Run steps in order; after the first failure the rest are recorded as skipped. The whole check runs under
    the transport's deadline (`--deadline`): past it, the step that is running fails with a diagnosis."""
    with deadline.limit(check.options.transport.deadline):
        return _run_steps(check, steps)


def _run_steps(check: Check, steps: Iterable[tuple[str, Step]]) -> CheckResult:
    for name, step in steps:
        if check.result.failed_step is not None:
            check.result.steps.append(StepResult(name, "skip", f"skipped: {check.result.failed_step} failed"))
            continue
        started = time.perf_counter()
        result = step(check)
        result.name = name  # a step that fails on the transport reports under its own name, not "ping"
        result.duration_ms = (time.perf_counter() - started) * 1000
        check.result.steps.append(result)
        if name == "reference" and check.repository:
            check.scopes = [f"repository:{check.repository}:{','.join(check.options.actions)}"]
        if name == "manifest" and _late_challenge(check, result):
            _authenticate_late(check)
    return check.result


def _late_challenge(check: Check, result: StepResult) -> bool:
    """/v2/ was open (200) but the repository asked for authentication: do the auth steps now."""
    return (result.status == "fail" and check.challenge is None and check.auth is None
            and check.result.codes()[-1:] == ["manifest.unauthorized"]
            and bool(result.http) and result.http[-1].status == 401)


def _authenticate_late(check: Check) -> None:
    from regauth.http import TransportError
    from regauth.steps.ping import transport_failure

    try:
        resp = manifest.fetch(check, check.ref.reference)  # the 401 again, with its challenge
    except TransportError as e:  # the first 401 stands, with this failure after it
        check.result.steps[-1] = transport_failure(check, e, "ping", "GET")
        check.result.steps[-1].name = "manifest"
        return
    check.result.diagnoses.pop()
    steps = check.result.steps
    del steps[-1]
    redo = {"challenge": lambda c: challenge.run(c, resp), "token": token.run, "jwt": jwt.run,
            "manifest": manifest.run}
    index = {s.name: i for i, s in enumerate(steps)}
    for name, step in redo.items():
        started = time.perf_counter()
        result = step(check) if check.result.failed_step is None else \
            StepResult(name, "skip", f"skipped: {check.result.failed_step} failed")
        result.name = name
        result.duration_ms = (time.perf_counter() - started) * 1000
        if name == "challenge":
            result.facts.insert(0, f"/v2/ was open, but {check.repository} answered 401 with a challenge")
        if name in index:
            steps[index[name]] = result
        else:
            steps.append(result)


def new_check(text: str, options: RunOptions, shared: Shared) -> Check:
    return Check(text, options, shared, CheckResult(input=text))


def pull_check(text: str, options: RunOptions, shared: Shared) -> CheckResult:
    return run_steps(new_check(text, options, shared), PULL_STEPS)


def pull_check_many(texts: list[str], options: RunOptions, shared: Shared, concurrency: int = DEFAULT_CONCURRENCY,
                    progress: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Check many images concurrently; results come back in input order.

    Ctrl-C (KeyboardInterrupt) stops the run at once: checks not started are cancelled and the pool is not waited
    for; checks in flight are abandoned (the caller closes the HTTP client, and the CLI leaves with os._exit, which
    does not join the pool's threads)."""

    def one(text: str) -> CheckResult:
        result = pull_check(text, options, shared)
        if progress:
            progress(result)
        return result

    if len(texts) <= 1 or concurrency <= 1:
        return [one(t) for t in texts]
    from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait  # a batch's: one image needs no pool

    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(texts)), thread_name_prefix="regauth-check")
    try:
        futures = [pool.submit(one, t) for t in texts]
        pending = set(futures)
        while pending:  # short waits: a signal is handled between them even if it was delivered to a worker thread;
            # not woken by each result (with FIRST_COMPLETED the main thread re-armed a waiter on every pending
            # future after every result, and took the GIL from the checks each time)
            _, pending = wait(pending, timeout=0.2, return_when=ALL_COMPLETED)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [f.result() for f in futures]

"""`regauth login`: replay what `docker login` does, then check what docker never checks (repository access)."""

from __future__ import annotations

from dataclasses import dataclass

from regauth.context import Check, RunOptions, Shared
from regauth.engine import new_check, run_steps
from regauth.errors import InputError
from regauth.report import CheckResult, StepResult
from regauth.steps import challenge, credentials, jwt, ping, token


@dataclass
class LoginRequest:
    registry: str  # as typed: "docker.io", "127.0.0.1:5000", "https://host:5000/v2/"
    repo: str | None = None
    push: bool = False
    save: bool = False
    allow_plaintext: bool = False


def registry_of(text: str) -> str:
    """The registry host[:port] from what a user types after `login` (scheme and path stripped, Hub mapped)."""
    host = text.split("://", 1)[-1].split("/", 1)[0].strip()
    return "docker.io" if host in ("", "index.docker.io", "registry-1.docker.io") else host


def _set_target(check: Check) -> None:
    """Set the registry and API base (login has no reference step of its own)."""
    plain = check.options.transport.plain_http
    host = "registry-1.docker.io" if check.registry == "docker.io" else check.registry
    check.api_base = f"{'http' if plain else 'https'}://{host}"
    check.result.target = {"registry": check.registry, "api_base": check.api_base, "repository": check.repository}


def _credentials(check: Check) -> StepResult:
    result = credentials.run(check)
    if check.credential is None or check.credential.anonymous:
        if result.status != "fail":
            for d in check.result.diagnoses:
                if d.code == "credentials.not-found":
                    d.severity = "error"
            result.status = "fail"
            result.summary = "no credentials to log in with: pass --username and --password-stdin"
    return result


def _token_subject(check: Check) -> str:
    """The account a bearer token was issued to (JWT `sub`), for an identity-token login that named no user.

    docker always writes `auth` beside `identitytoken`, and containers/image skips an entry without it.
    """
    step = check.step("jwt")
    claims = step.details.get("claims") if step and isinstance(step.details, dict) else None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) and sub and ":" not in sub else ""


def _save(request: LoginRequest):
    def step(check: Check) -> StepResult:
        from regauth.credentials.save import save_credentials
        from regauth.secret import Secret

        cred = check.credential
        refresh = check.token.refresh_token if check.token else None
        outcome = save_credentials(check.registry, cred.username or _token_subject(check), cred.password,
                                   Secret(refresh) if refresh else cred.identity_token, check.options.credentials,
                                   allow_plaintext=request.allow_plaintext)
        if outcome.ok:
            return StepResult("save", "ok", outcome.message, details={"where": outcome.where, "key": outcome.key})
        code = outcome.code
        check.add(code, outcome.message, "fix the credential store (or pass --allow-plaintext to write config.json)"
                  if code == "save.plaintext-refused" else "check the config directory's permissions and disk")
        return StepResult("save", "fail", outcome.message)

    return step


def _challenge(check: Check) -> StepResult:
    """docker login says "Login Succeeded" when /v2/ asks for nothing; regauth says the credentials went unchecked."""
    result = challenge.run(check)
    if result.status == "skip":
        who = check.credential.username if check.credential else None
        check.add("challenge.credentials-not-checked", f"{check.registry} answered /v2/ without asking for "
                  f"authentication: the credentials of {who!r} were not checked (docker login would still say "
                  "Login Succeeded)", "nothing to fix if the registry is meant to be open; otherwise enable "
                  "authentication on it")
        result.status = "warn"
        result.summary = "/v2/ is open: the credentials were not checked"
    return result


def _check_repo(repo: str) -> None:
    from regauth.reference import parse_reference

    if not repo.strip() or ":" in repo or "@" in repo or "://" in repo:
        raise InputError(f"--repo {repo!r} must be a repository path such as team/app, without registry, tag or "
                         "digest")
    try:
        parse_reference(f"localhost/{repo}")  # the same grammar as an image: lower case, separators
    except InputError as e:
        raise InputError(f"--repo {repo!r}: {e}") from None


def login(request: LoginRequest, options: RunOptions, shared: Shared) -> CheckResult:
    if request.repo is not None:
        _check_repo(request.repo)
    actions = ("pull", "push") if request.push else ("pull",)
    opts = RunOptions(options.transport, options.credentials, options.platform, actions if request.repo else (),
                      offline_token=True)
    check = new_check(request.registry, opts, shared)
    check.registry = registry_of(request.registry)
    check.repository = request.repo
    if request.repo:
        check.scopes = [f"repository:{request.repo}:{','.join(actions)}"]
    _set_target(check)
    steps = [("credentials", _credentials), ("ping", ping.run), ("challenge", _challenge),
             ("token", token.run), ("jwt", jwt.run)]
    if request.save:
        steps.append(("save", _save(request)))
    return run_steps(check, steps)

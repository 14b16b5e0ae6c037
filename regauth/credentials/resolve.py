"""`lookup()`: the credential a check uses, every place looked at, and where docker and podman would differ.

Order: command-line flags → docker (credHelpers[key] → credsStore → config.json auths, exact key then
ConvertToHostname) → containers auth.json → anonymous. Docker's rules decide; containers/image is simulated
alongside so that disagreements between the two can be reported.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from regauth.credentials import authjson, helpers
from regauth.credentials.authjson import AuthFile, FileMatch
from regauth.credentials.dockerconfig import AuthEntry, DockerConfig, config_path, load_config
from regauth.credentials.flags import from_flags
from regauth.credentials.hints import credential_hints
from regauth.credentials.keys import HUB_KEY, KeyMismatch, containers_registry, convert_to_hostname, docker_key, \
    explain_mismatch
from regauth.credentials.model import Candidate, Credential, CredentialLookup, CredentialOptions
from regauth.diagnoses import diagnose
from regauth.report import Diagnosis

ANONYMOUS = "no credentials (anonymous)"
PODMAN = "podman, skopeo and buildah"
_DOCKER_ONLY = ("containers/image reads only \"auth\" (and \"identitytoken\" beside it), not \"username\"/"
                "\"password\" fields or \"registrytoken\"")


def lookup(registry: str, repository: str, options: CredentialOptions,
           env: Mapping[str, str] | None = None, *, ask: Callable[..., helpers.HelperResult] | None = None
           ) -> CredentialLookup:
    """Resolve the credential for `registry`/`repository`; never raises for a bad file or helper. `ask` replaces
    `helpers.get` (same arguments), e.g. to run each helper once per server in a batch."""
    resolver = _Resolver(registry, repository, options, os.environ if env is None else env)
    if ask is not None:
        resolver.ask = ask
    return resolver.run()


@dataclass(eq=False)
class _Store:
    """A credential helper docker would ask, and the setting that selected it."""

    name: str
    setting: str  # credHelpers['key'] | credsStore | default store
    path: Path

    @property
    def where(self) -> str:
        if self.setting == "default store":
            return "docker's default store (config.json names no store)"
        return f"{self.setting} in {self.path}"


@dataclass(eq=False)
class _Pick:
    """What one tool would send: a credential, or (podman) a helper it would ask."""

    credential: Credential | None
    description: str
    helper: str | None = None


@dataclass(eq=False)
class _Mismatch:
    """A config entry whose key docker would not look up for this registry."""

    info: KeyMismatch
    what: str  # "entry" | "credHelpers entry"
    path: Path


class _Resolver:
    def __init__(self, registry: str, repository: str, options: CredentialOptions, env: Mapping[str, str]):
        self.registry, self.repository, self.options, self.env = registry, repository, options, env
        self.ask: Callable[..., helpers.HelperResult] = helpers.get
        self.image = f"{registry}/{repository}" if repository else registry
        self.key = docker_key(registry)
        self.docker_path = config_path(options, env)
        self.candidates: list[Candidate] = []
        self.diagnoses: list[Diagnosis] = []
        self.configs: dict[Path, DockerConfig] = {}
        self.mismatches: list[_Mismatch] = []
        self.miss = ""

    def run(self) -> CredentialLookup:
        flagged = from_flags(self.options)
        if flagged is not None:
            self._add("flags", "command line", "", True, self._used(flagged))
            return CredentialLookup(flagged, self.candidates, [], tools={"regauth": "the command-line credentials"})
        if self.options.username:
            self._add("flags", "command line", "", False, "--username was given without a password, so it is ignored")
        docker = self._docker()
        podman_match, podman = self._podman()
        credential = docker.credential
        if podman_match is not None and podman_match.file.kind == "auth.json":
            if credential is None:
                credential = self._use_containers(podman_match)
            else:
                self._add("auth.json", str(podman_match.file.path), podman_match.key, False,
                          f"not used: docker's credential comes first ({PODMAN} would use this entry)")
        self._mismatch_diagnoses(docker.credential)
        self._disagreement(docker, podman, podman_match)
        if credential is None:
            self._not_found()
        return CredentialLookup(credential, self.candidates, self.diagnoses,
                                tools={"docker": docker.description, "podman": podman.description})

    # -- docker ---------------------------------------------------------------------------------------------

    def _docker(self) -> _Pick:
        config = self._load(self.docker_path)
        if not config.exists:
            self.miss = f"{self.docker_path} does not exist"
            self._add("docker-config", str(self.docker_path), "", False, "file does not exist")
        for key, name in config.cred_helpers.items():
            info = explain_mismatch(self.registry, key)
            if info is not None:
                self.mismatches.append(_Mismatch(info, "credHelpers entry", config.path))
                self._add("credential-helper", helpers.program(name), key, False,
                          f"credHelpers key not used: {info.why}")
        store = self._docker_store(config)
        if store is not None:
            return self._docker_helper(config, store)
        return self._docker_file(config)

    def _docker_store(self, config: DockerConfig) -> _Store | None:
        if self.key in config.cred_helpers:
            return _Store(config.cred_helpers[self.key], f"credHelpers['{self.key}']", config.path)
        if config.creds_store:
            return _Store(config.creds_store, "credsStore", config.path)
        if not config.contains_auth:
            name = helpers.default_store(self.env)
            if name:
                return _Store(name, "default store", config.path)
        return None

    def _docker_helper(self, config: DockerConfig, store: _Store) -> _Pick:
        key, entry = self._docker_entry(config)
        if entry is not None and entry.has_secret:
            self._add("docker-config", str(config.path), key, False,
                      f"not used: docker asks {helpers.program(store.name)} ({store.setting}) instead of reading "
                      "auths")
        credential, status = self._ask_helper(store, self.key, "credential-helper", "docker")
        prog = helpers.program(store.name)
        if credential is not None:
            return _Pick(credential, f"{prog} ({store.where}){_user(credential)}", store.name)
        if status == "not-found":
            return _Pick(None, f"{ANONYMOUS}: {prog} ({store.where}) has nothing for '{self.key}'", store.name)
        what = "is not on PATH" if status == "missing" else "failed"
        return _Pick(None, f"nothing: {prog} ({store.where}) {what}, so docker fails the pull", store.name)

    def _docker_entry(self, config: DockerConfig) -> tuple[str | None, AuthEntry | None]:
        """The file store's Get: exact key, else the first key whose ConvertToHostname equals it."""
        if self.key in config.entries:
            return self.key, config.entries[self.key]
        for key, entry in config.entries.items():
            if convert_to_hostname(key) == self.key:
                return key, entry
        return None, None

    def _docker_file(self, config: DockerConfig) -> _Pick:
        chosen, entry = self._docker_entry(config)
        path = str(config.path)
        fallbacks = [k for k in config.entries if k != self.key and convert_to_hostname(k) == self.key]
        for key in config.entries:
            info = explain_mismatch(self.registry, key) if key != chosen else None
            if info is None:
                continue
            if info.docker_matches:
                self._add("docker-config", path, key, False, f"not used: docker took the entry '{chosen}' for "
                                                             f"'{self.key}' first")
            else:
                self.mismatches.append(_Mismatch(info, "entry", config.path))
                self._add("docker-config", path, key, False, f"entry under '{key}' does not match '{self.key}': "
                                                             f"{info.why}")
        if chosen is None or entry is None:
            if config.exists:
                self.miss = f"{path} has no entry for '{self.key}'"
                self._add("docker-config", path, self.key, False, f"no entry for key '{self.key}'")
            return _Pick(None, ANONYMOUS)
        if not entry.has_secret:
            self.miss = f"the entry '{chosen}' in {path} is empty"
            self._add("docker-config", path, chosen, False,
                      "entry is empty: no username or secret (a placeholder left by a credential helper)")
            return _Pick(None, f"{ANONYMOUS}: the entry '{chosen}' in {path} is empty")
        credential = _from_entry(entry, "docker-config", path)
        how = ""
        if chosen != self.key:
            info = explain_mismatch(self.registry, chosen)
            assert info is not None
            self.mismatches.append(_Mismatch(info, "entry", config.path))
            how = f", matched '{self.key}' through docker's ConvertToHostname"
            if len(fallbacks) > 1:
                how += f"; {len(fallbacks)} keys match and docker picks one at random"
        self._add("docker-config", path, chosen, True, self._used(credential, how))
        return _Pick(credential, f"the entry '{chosen}' in {path}{_user(credential)}")

    # -- containers/image -----------------------------------------------------------------------------------

    def _podman(self) -> tuple[FileMatch | None, _Pick]:
        files = authjson.chain(self.options, self.env, self.docker_path)
        match, seen = authjson.search(files, lambda f: self._load(f.path, f.legacy), self.registry, self.repository)
        for file, found in seen:
            if file.kind != "docker-config":
                self._containers_candidate(file, found, found is match)
        if match is None:
            return None, _Pick(None, ANONYMOUS)
        if match.helper:
            return match, _Pick(None, f"{helpers.program(match.helper)} (credHelpers in {match.file.path}), asked "
                                      f"for '{match.key}'", match.helper)
        assert match.entry is not None
        return match, _Pick(_from_entry(match.entry, match.file.kind, str(match.file.path)),
                            f"the entry '{match.key}' in {match.file.path}{_user(match.entry)}")

    def _containers_candidate(self, file: AuthFile, found: FileMatch | None, winner: bool) -> None:
        source, path = ("auth.json" if file.kind == "auth.json" else "dockercfg"), str(file.path)
        if not self.configs[file.path].exists:
            note = " (set by --authfile or $REGISTRY_AUTH_FILE)" if file.explicit else ""
            self._add(source, path, "", False, f"file does not exist{note}")
        elif found is None:
            self._add(source, path, "", False, f"no entry for '{containers_registry(self.registry)}' or its "
                                               "namespaces")
        elif not found.usable:
            self._add(source, path, found.key, False, _DOCKER_ONLY if found.docker_only else
                      "entry holds no username and password or identity token")
        elif file.kind == "dockercfg" and winner:
            self._add(source, path, found.key, False, f"not used: docker (since v23) ignores ~/.dockercfg; {PODMAN} "
                                                      "would use this entry")

    def _use_containers(self, match: FileMatch) -> Credential | None:
        path = str(match.file.path)
        if match.helper:
            store = _Store(match.helper, f"credHelpers['{match.key}']", match.file.path)
            return self._ask_helper(store, match.key, "auth.json", "podman")[0]
        assert match.entry is not None
        credential = _from_entry(match.entry, "auth.json", path)
        how = {"namespace": ", namespace key, most specific match",
               "normalised": f", matched '{containers_registry(self.registry)}' after normalising the key"}
        self._add("auth.json", path, match.key, True, self._used(credential, how.get(match.how, "")))
        return credential

    # -- helpers --------------------------------------------------------------------------------------------

    def _ask_helper(self, store: _Store, server: str, source: str,
                    tool: str) -> tuple[Credential | None, helpers.Status]:
        """Run the helper; record a candidate and, for a missing or failing helper, a diagnosis."""
        result = self.ask(store.name, server, self.options.helper_timeout, self.env)
        prog = result.program
        if result.status == "ok":
            assert result.secret is not None
            if result.is_identity_token:
                credential = Credential(identity_token=result.secret, source=source, origin=prog, key=server)
            else:
                credential = Credential(username=result.username or None, password=result.secret, source=source,
                                        origin=prog, key=server)
            self._add("credential-helper", prog, server, True, self._used(credential, f", via {store.where}"))
            return credential, result.status
        if result.status == "not-found":
            self.miss = f"{prog} ({store.where}) has no credentials for '{server}'"
            self._add("credential-helper", prog, server, False, f"helper has no credentials for '{server}'")
            return None, result.status
        remove = f"or remove {store.setting} from {store.path} and log in again" if store.setting != "default store" \
            else "or log in again"
        if result.status == "missing":
            self._add("credential-helper", prog, server, False, "helper not on PATH")
            placeholders = self._placeholder_note(store.path)
            self.diagnoses.append(diagnose(
                "credentials.helper-missing",
                f"{store.where} names {prog}, which is not on PATH ({helpers.search_path(self.env)}), so {tool} "
                f"cannot get credentials for '{server}' and fails the pull{placeholders}.",
                f"Install {prog} {remove}."))
        else:
            self._add("credential-helper", prog, server, False, f"helper failed: {result.detail}")
            self.diagnoses.append(diagnose(
                "credentials.helper-failed",
                f"{prog} ({store.where}) failed to get credentials for '{server}': {result.detail}.",
                f"Check that {prog} works (`{prog} list`) {remove}."))
        return None, result.status

    def _placeholder_note(self, path: Path) -> str:
        config = self.configs.get(path)
        if config and config.entries and not any(e.has_secret for e in config.entries.values()):
            return " (the entries under \"auths\" are empty placeholders, so no credentials exist for any registry)"
        return ""

    # -- diagnoses ------------------------------------------------------------------------------------------

    def _mismatch_diagnoses(self, docker_credential: Credential | None) -> None:
        login = "docker login" if self.key == HUB_KEY else f"docker login {self.key}"
        for m in self.mismatches:
            info = m.info
            if info.docker_matches:
                self.diagnoses.append(diagnose(
                    "credentials.key-mismatch",
                    f"docker uses the entry '{info.key}' in {m.path} for {self.registry} only after reducing it to "
                    f"'{info.wanted}', and tools that compare keys exactly (ggcr-based ones such as crane or kaniko) "
                    "miss it.",
                    f"Rename the key '{info.key}' to '{info.wanted}' in {m.path}."))
            elif docker_credential is None:
                self.diagnoses.append(diagnose(
                    "credentials.key-mismatch",
                    f"The {m.what} '{info.key}' in {m.path} is not used for {self.registry} because {info.why}, so "
                    "docker finds no credentials for it.",
                    f"Rename the key '{info.key}' to '{info.wanted}' in {m.path}, or run `{login}`."))

    def _disagreement(self, docker: _Pick, podman: _Pick, match: FileMatch | None) -> None:
        if _same(docker, podman):
            return
        if docker.credential is None and podman.helper is None and match is not None \
                and match.file.kind == "docker-config":
            fix = f"Rename the key '{match.key}' to '{self.key}' in {match.file.path}; {PODMAN} read that key too."
        elif docker.credential is None:
            fix = f"Run `docker login{'' if self.key == HUB_KEY else ' ' + self.key}` if docker must pull " \
                  f"{self.image} too."
        elif podman.credential is None and podman.helper is None and self._docker_only(docker.credential):
            fix = f"Write the entry '{docker.credential.key}' in {docker.credential.origin} as docker login does, " \
                  f"with an \"auth\" field (base64 of username:password): {_DOCKER_ONLY}."
        elif podman.credential is None and podman.helper is None:
            fix = f"Run `podman login {containers_registry(self.registry)}` if {PODMAN} must pull {self.image} too."
        else:
            fix = "Log in again with both tools (or remove the stale entry) so that they hold the same credentials."
        self.diagnoses.append(diagnose(
            "credentials.tools-disagree",
            f"For {self.image}, docker would use {docker.description}, but {PODMAN} would use {podman.description}.",
            fix))

    def _docker_only(self, credential: Credential) -> bool:
        """The credential comes from a config.json entry that containers/image cannot decode."""
        config = self.configs.get(Path(credential.origin)) if credential.source == "docker-config" else None
        entry = config.entries.get(credential.key) if config else None
        return entry is not None and not entry.from_auth

    def _not_found(self) -> None:
        blocking = {"credentials.key-mismatch", "credentials.helper-missing", "credentials.helper-failed"}
        if any(d.code in blocking or (d.code == "credentials.config-invalid" and d.severity == "error")
               for d in self.diagnoses):
            return
        miss = self.miss or f"{self.docker_path} has no entry for '{self.key}'"
        closest = self._closest_entry()
        if closest:
            miss += f"; the closest entry, '{closest}', is a different registry"
        login = "docker login" if self.key == HUB_KEY else f"docker login {self.key}"
        self.diagnoses.append(diagnose(
            "credentials.not-found",
            f"No credentials for {self.registry} were found in docker's config or containers auth.json ({miss}), so "
            "the check runs anonymously.",
            f"If {self.image} is private, run `{login}` or pass --username with --password-stdin."))

    def _closest_entry(self) -> str | None:
        keys = {convert_to_hostname(k): k for c in self.configs.values() for k in c.entries
                if explain_mismatch(self.registry, k) is None}
        best = difflib.get_close_matches(convert_to_hostname(self.key), list(keys), n=1, cutoff=0.6)
        return keys[best[0]] if best else None

    # -- plumbing -------------------------------------------------------------------------------------------

    def _load(self, path: Path, legacy: bool = False) -> DockerConfig:
        if path not in self.configs:
            self.configs[path] = load_config(path, legacy)
            self.diagnoses.extend(self.configs[path].diagnoses)
        return self.configs[path]

    def _add(self, source: str, origin: str, key: str, used: bool, reason: str) -> None:
        self.candidates.append(Candidate(source, origin, key, used, reason))

    def _used(self, credential: Credential, how: str = "") -> str:
        kind = {"password": "password", "identity-token": "identity token (OAuth2 refresh token)",
                "registry-token": "registry token (sent as Bearer as is)"}[credential.kind]
        hints = credential_hints(self.registry, credential)
        return f"used: {kind}{_user(credential)}{how}" + "".join(f"; {h}" for h in hints)


def _from_entry(entry: AuthEntry, source: str, origin: str) -> Credential:
    return Credential(username=entry.username, password=entry.password, identity_token=entry.identity_token,
                      registry_token=entry.registry_token, source=source, origin=origin, key=entry.key)


def _user(who: Credential | AuthEntry) -> str:
    return f" for user {who.username}" if who.username else ""


def _same(docker: _Pick, podman: _Pick) -> bool:
    """True when both tools would authenticate the same way (a podman helper counts as the same helper)."""
    if podman.helper is not None:
        return docker.helper == podman.helper
    a, b = docker.credential, podman.credential
    if a is None or b is None:
        return a is None and b is None
    return (a.username, a.password, a.identity_token) == (b.username, b.password, b.identity_token)

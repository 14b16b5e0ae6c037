"""Protocol-accurate fake `docker-credential-<name>` programs for tests (Python scripts run by this interpreter).

Modes:
  store    serves a JSON file {ServerURL: {"Username", "Secret"}} for get/store/erase/list/version
  fail     prints a message on stdout and exits non-zero (for every action)
  hang     sleeps far longer than any test timeout
  garbage  exits 0 after printing text that is not JSON

Every invocation appends {"action", "server"} to `<bindir>/<name>.calls.jsonl`.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

NOT_FOUND = "credentials not found in native keychain"

_SCRIPT = """#!{python}
import json, sys, time
MODE, STORE, MESSAGE, EXIT, LOG = {mode!r}, {store!r}, {message!r}, {exit_code!r}, {log!r}
NOT_FOUND = {not_found!r}

def load():
    try:
        with open(STORE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {{}}

def save(data):
    with open(STORE, "w") as f:
        json.dump(data, f)

def main():
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    data = sys.stdin.read() if action in ("get", "store", "erase") else ""
    server = data.strip()
    if action == "store":
        try:
            server = json.loads(data).get("ServerURL", "")
        except ValueError:
            server = ""
    with open(LOG, "a") as f:
        f.write(json.dumps({{"action": action, "server": server}}) + "\\n")
    if MODE == "hang":
        time.sleep(120)
        return 0
    if MODE == "fail":
        print(MESSAGE)
        return EXIT
    if MODE == "garbage":
        print("Secret: this is not JSON")
        return 0
    if action == "version":
        print("fake 0.0.0")
        return 0
    entries = load()
    if action == "list":
        print(json.dumps({{url: e["Username"] for url, e in entries.items()}}))
        return 0
    if action == "store":
        creds = json.loads(data)
        if not creds.get("ServerURL"):
            print("no credentials server URL")
            return 1
        if not creds.get("Username"):
            print("no credentials username")
            return 1
        entries[creds["ServerURL"]] = {{"Username": creds["Username"], "Secret": creds.get("Secret", "")}}
        save(entries)
        return 0
    if not server:
        print("no credentials server URL")
        return 1
    if action == "erase":
        if entries.pop(server, None) is None:
            print(NOT_FOUND)
            return 1
        save(entries)
        return 0
    if action == "get":
        if server not in entries:
            print(NOT_FOUND)
            return 1
        entry = entries[server]
        print(json.dumps({{"ServerURL": server, "Username": entry["Username"], "Secret": entry["Secret"]}}))
        return 0
    print("unknown action: " + action)
    return 1

sys.exit(main())
"""


def write_helper(
    bindir: Path,
    name: str,
    mode: str = "store",
    entries: dict[str, dict[str, str]] | None = None,
    message: str = "",
    exit_code: int = 1,
) -> Path:
    """Create `bindir/docker-credential-<name>`; in store mode seed its store with `entries`. Returns the program."""
    bindir.mkdir(parents=True, exist_ok=True)
    store = bindir / f"{name}.store.json"
    if mode == "store":
        store.write_text(json.dumps(entries or {}))
    program = bindir / f"docker-credential-{name}"
    program.write_text(
        _SCRIPT.format(
            python=sys.executable,
            mode=mode,
            store=str(store),
            message=message,
            exit_code=exit_code,
            log=str(bindir / f"{name}.calls.jsonl"),
            not_found=NOT_FOUND,
        )
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return program


def store_helper(bindir: Path, name: str, entries: dict[str, tuple[str, str]]) -> Path:
    """A store-mode helper seeded with {server: (username, secret)}; username `<token>` makes an identity token."""
    return write_helper(bindir, name, "store", {k: {"Username": u, "Secret": s} for k, (u, s) in entries.items()})


def stored(bindir: Path, name: str) -> dict[str, dict[str, str]]:
    """The current contents of a store-mode helper's store."""
    return json.loads((bindir / f"{name}.store.json").read_text())


def calls(bindir: Path, name: str) -> list[dict[str, str]]:
    """Every invocation of the helper so far: [{"action", "server"}]."""
    log = bindir / f"{name}.calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def hermetic_env(root: Path) -> dict[str, str]:
    """An environment under `root`: HOME, XDG dirs and a PATH holding only `root/bin` (where helpers are written),
    so no real config file, credential helper or `pass` binary is ever seen."""
    for sub in ("home", "run", "bin"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return {"HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(root / "run"), "PATH": str(root / "bin")}

"""A private home for one end-to-end test: HOME, XDG_RUNTIME_DIR, a docker config dir and a PATH of fake helpers.

Nothing of the machine's own configuration leaks in: PATH holds only the test's ``bin`` directory (where
:mod:`tests.support.fake_helpers` writes ``docker-credential-*`` programs), so docker's default-store
detection and real helpers stay out of the way.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cli import isolated_env
from .users import User


def auth_value(user: User | str) -> str:
    """The ``auth`` field docker writes: base64 of ``user:password`` (``"name:"`` for a bare name with ':')."""
    text = user.creds if isinstance(user, User) else user
    return base64.b64encode(text.encode()).decode()


@dataclass
class Home:
    root: Path

    def __post_init__(self) -> None:
        for sub in ("home", "run", "bin", "docker"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def config_dir(self) -> Path:
        """The directory passed as ``--config``."""
        return self.root / "docker"

    @property
    def config(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        return isolated_env(home=self.root / "home", XDG_RUNTIME_DIR=str(self.root / "run"), PATH=str(self.bin),
                            **extra)

    def write_config(self, data: dict[str, Any] | str) -> Path:
        """Write config.json (a dict as docker-style JSON, a str verbatim)."""
        self.config.write_text(data if isinstance(data, str) else json.dumps(data, indent="\t"))
        return self.config

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        path = self.root / name
        path.write_text(json.dumps(data, indent=2))
        return path


def issue_refresh_token(issuer, user: User) -> str:
    """A refresh token for ``user`` from the token service (a docker-login-style GET with offline_token=true)."""
    import httpx

    from .users import SERVICE

    resp = httpx.get(issuer.realm, params={"service": SERVICE, "offline_token": "true", "client_id": "test"},
                     auth=(user.name, user.password), timeout=10)
    resp.raise_for_status()
    return resp.json()["refresh_token"]

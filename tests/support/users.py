"""Users, passwords and permissions shared by every registry of the test tier.

One table drives both auth back ends:

* ``htpasswd`` registries get every user with a password (htpasswd has no
  per-repository permissions: any valid user may pull and push everything);
* the token issuer applies the ``grants`` per repository.

Grant keys are globs (``fnmatch``: ``*`` also matches ``/``, so ``team/*``
covers ``team/sub/docker``) over repository names; a key of the form
``type:name`` (e.g. ``registry:catalog``) grants on another resource type.
Authenticated users additionally get everything ``anonymous`` gets.

=========  ============  ===============================================
user       password      rights on the token registry
=========  ============  ===============================================
admin      admin-pass    pull, push, delete everywhere; ``registry:catalog:*``
alice      alice-pass    pull, push on ``team/*``
bob        bob-pass      pull on ``team/app`` only
carol      carol-pass    nothing beyond anonymous (valid login, no rights)
anonymous  (none)        pull on ``public/*`` (also granted to every user)
=========  ============  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``service`` of the token registries (challenge ``service``, JWT ``aud``).
SERVICE = "regauth-test-registry"
#: ``iss`` claim the token registries require.
ISSUER = "regauth-test-issuer"
#: Basic realm of the htpasswd registries.
HTPASSWD_REALM = "regauth-test"


@dataclass(frozen=True)
class User:
    """A login of the test tier."""

    name: str
    password: str

    @property
    def creds(self) -> str:
        """``user:password`` as skopeo's ``--creds`` wants it."""
        return f"{self.name}:{self.password}"


ADMIN = User("admin", "admin-pass")
ALICE = User("alice", "alice-pass")
BOB = User("bob", "bob-pass")
CAROL = User("carol", "carol-pass")

#: Name of the pseudo-user whose grants apply to requests without credentials.
ANONYMOUS = "anonymous"

#: The user table in the shape :class:`~tests.support.token_issuer.TokenIssuer` expects.
USERS: dict[str, dict] = {
    ADMIN.name: {
        "password": ADMIN.password,
        "grants": {"*": ["pull", "push", "delete"], "registry:catalog": ["*"]},
    },
    ALICE.name: {"password": ALICE.password, "grants": {"team/*": ["pull", "push"]}},
    BOB.name: {"password": BOB.password, "grants": {"team/app": ["pull"]}},
    CAROL.name: {"password": CAROL.password, "grants": {}},
    ANONYMOUS: {"grants": {"public/*": ["pull"]}},
}

#: Users that can log in (everything but ``anonymous``).
LOGINS: tuple[User, ...] = (ADMIN, ALICE, BOB, CAROL)

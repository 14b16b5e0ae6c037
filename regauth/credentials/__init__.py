"""Where credentials come from: flags, docker config, credential helpers, containers auth.json, pull secrets."""

from regauth.credentials.model import Candidate, Credential, CredentialLookup, CredentialOptions

__all__ = ["Candidate", "Credential", "CredentialLookup", "CredentialOptions"]

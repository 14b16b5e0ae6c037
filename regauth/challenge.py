"""Parse `WWW-Authenticate` fields (RFC 7235 §2.1, specs §2.2) and note where common registry clients differ (§2.5).

The tokenizer follows the grammar and is tolerant where the RFC is: optional whitespace, bad whitespace around
`=`, empty list elements, token or quoted values, any case for scheme and parameter names. One deliberate
extension: an unquoted value runs to the next comma, space or quote even when it holds characters a token may
not (`scope=repository:a/b:pull`, seen from real registries), with a quirk saying how the Go clients cut it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

_TCHAR = frozenset("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)
_TOKEN68_CHAR = frozenset("-._~+/" + string.ascii_letters + string.digits)
_WS = frozenset(" \t")
_UNQUOTED_END = frozenset(' \t,"')
_GO_CLIENTS = "distribution/ggcr, containerd and oras-go"


class ChallengeSyntaxError(ValueError):
    """A header field does not follow the challenge grammar; the message names the column and the problem."""


@dataclass(eq=False)
class Challenge:
    """One challenge: scheme as sent, parameters keyed by lower-cased name, or a token68 blob."""

    scheme: str
    params: dict[str, str]
    token68: str | None = None

    @property
    def kind(self) -> str:
        return self.scheme.lower()

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        return self.params.get("error")

    @property
    def scopes(self) -> list[str]:
        """The `scope` parameter split on spaces (empty list when absent)."""
        return [s for s in (self.scope or "").split(" ") if s]


@dataclass(eq=False)
class ChallengeSet:
    """All challenges of a response, in header order, plus notes on how other clients would read them."""

    challenges: list[Challenge]
    quirks: list[str]

    def find(self, kind: str) -> Challenge | None:
        """First challenge of the given scheme (case-insensitive)."""
        return next((c for c in self.challenges if c.kind == kind.lower()), None)

    def preferred(self) -> Challenge | None:
        """Bearer if offered, else Basic, else None (containerd's order, R2.5.2)."""
        return self.find("bearer") or self.find("basic")


def parse_challenges(fields: list[str]) -> ChallengeSet:
    """Parse every challenge of every `WWW-Authenticate` field value (R2.1.1)."""
    quirks: list[str] = []
    per_field: list[list[Challenge]] = []
    for number, text in enumerate(fields, 1):
        found = _Field(text, f" of field {number}" if len(fields) > 1 else "", quirks).parse()
        if found and text[0] in " \t,":
            quirks.append(
                f"field {number} starts with {'a comma' if text[0] == ',' else 'whitespace'}: {_GO_CLIENTS} "
                "expect the scheme at the very start and ignore the whole field"
            )
        if len(found) > 1:
            quirks.append(
                f"field {number} carries {len(found)} challenges ({', '.join(c.scheme for c in found)}): "
                f"{_GO_CLIENTS} read only the first one of each field and never see "
                f"{', '.join(c.scheme for c in found[1:])}"
            )
        per_field.append(found)
    quirks.extend(_choice_quirks(per_field))
    return ChallengeSet([c for found in per_field for c in found], list(dict.fromkeys(quirks)))


def _choice_quirks(per_field: list[list[Challenge]]) -> list[str]:
    """Notes on which challenge oras-go (first field only) and ggcr (first of Basic/Bearer) would pick."""
    notes = []
    bearer_field = next((n for n, found in enumerate(per_field, 1) if any(c.kind == "bearer" for c in found)), 0)
    if bearer_field > 1:
        seen = per_field[0][0].scheme if per_field[0] else "nothing"
        notes.append(
            f"oras-go reads only the first challenge of the first WWW-Authenticate field ({seen}), "
            f"so it never sees the Bearer challenge in field {bearer_field}"
        )
    firsts = [found[0] for found in per_field if found]
    kinds = [c.kind for c in firsts if c.kind in ("basic", "bearer")]
    if kinds[:1] == ["basic"] and "bearer" in kinds:
        notes.append("ggcr takes the first of Basic/Bearer in header order, so it would use Basic instead of Bearer")
    return notes


class _Field:
    """Left-to-right scanner over one field value (specs §2.2 steps 1-8)."""

    def __init__(self, text: str, where: str, quirks: list[str]):
        self.text, self.where, self.quirks, self.pos = text, where, quirks, 0

    def parse(self) -> list[Challenge]:
        challenges = []
        self.skip_separators()
        while not self.at_end():
            challenges.append(self.challenge())
        return challenges

    # -- scanning primitives -------------------------------------------------------------------------------------

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self, chars: frozenset[str]) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
        return self.text[start : self.pos]

    def skip_separators(self) -> int:
        """Skip OWS and list commas; return how many commas were skipped."""
        commas = 0
        while self.peek() in (" ", "\t", ","):
            commas += self.peek() == ","
            self.pos += 1
        return commas

    def fail(self, problem: str, pos: int | None = None) -> ChallengeSyntaxError:
        column = (self.pos if pos is None else pos) + 1
        return ChallengeSyntaxError(f"{problem} at column {column}{self.where}")

    def found(self) -> str:
        return repr(self.peek()) if self.peek() else "end of field"

    def param_ahead(self, need_value: bool) -> bool:
        """Look ahead for `token BWS "=" BWS`, followed (if need_value) by something other than `=`, `,` or end.

        The value check tells `Negotiate abc==` (token68) apart from `Bearer realm="x"` (auth-param)."""
        start = self.pos
        try:
            if not self.take(_TCHAR):
                return False
            self.take(_WS)
            if self.peek() != "=":
                return False
            self.pos += 1
            self.take(_WS)
            return not need_value or self.peek() not in ("", ",", "=")
        finally:
            self.pos = start

    # -- grammar -------------------------------------------------------------------------------------------------

    def challenge(self) -> Challenge:
        start = self.pos
        if self.param_ahead(need_value=False):
            raise self.fail(f"expected an auth-scheme, found parameter {self.take(_TCHAR)!r}", start)
        scheme = self.take(_TCHAR)
        if not scheme:
            raise self.fail(f"expected an auth-scheme token, found {self.found()}")
        self.note_scheme_case(scheme)
        if self.peek() in ("", ","):
            return self.finish_element(Challenge(scheme, {}))
        if not self.take(_WS):
            raise self.fail(f"expected a space after auth-scheme {scheme!r}, found {self.found()}")
        if self.peek() in ("", ","):
            return self.finish_element(Challenge(scheme, {}))
        if self.param_ahead(need_value=True):
            return self.params(Challenge(scheme, {}))
        token68 = self.take(_TOKEN68_CHAR)
        if not token68:
            raise self.fail(f"expected token68 or auth-param after {scheme!r}, found {self.found()}")
        challenge = self.finish_element(Challenge(scheme, {}, token68 + self.take(frozenset("="))))
        start = self.pos
        if self.param_ahead(need_value=False):
            raise self.fail(
                f"auth-param {self.take(_TCHAR)!r} cannot follow the token68 {challenge.token68!r} of {scheme!r}"
                " (is a parameter value missing? send \"\" for an empty value)", start
            )
        return challenge

    def finish_element(self, challenge: Challenge) -> Challenge:
        """After a challenge without auth-params: OWS, then end of field or a comma."""
        self.take(_WS)
        if not self.at_end() and self.peek() != ",":
            raise self.fail(f"expected ',' or end of field after the {challenge.scheme} challenge, "
                            f"found {self.found()}")
        self.skip_separators()
        return challenge

    def params(self, challenge: Challenge) -> Challenge:
        """Read `#auth-param` until the field ends or a new challenge starts (§2.2 step 6)."""
        order: list[str] = []  # keys in the order sent, to name what a stopping client loses
        stops: list[tuple[int, str]] = []  # (index into order, note with a {lost} placeholder)
        unquoted: list[str] = []
        while True:
            name = self.take(_TCHAR)
            key = name.lower()
            bws = bool(self.take(_WS))
            self.pos += 1  # the "=" seen by param_ahead
            bws |= bool(self.take(_WS))
            value, quoted, odd_escapes = self.value(name)
            if key in challenge.params:
                self.note(challenge, f"parameter '{key}' appears more than once: RFC 7235 forbids repeats; regauth "
                          f"keeps the last value ({value!r}), as {_GO_CLIENTS} do")
            if name != key and challenge.kind == "bearer":
                self.note(challenge, f"parameter name {name!r} is not lower-case: names are case-insensitive, "
                          f"but oras-go looks up '{key}' case-sensitively and would not find it")
            if odd_escapes and challenge.kind == "bearer":
                self.note(challenge, f"parameter '{key}' uses quoted-pair escapes {', '.join(odd_escapes)}: RFC "
                          "7230 reads them as the plain character (as distribution/ggcr and containerd do), but "
                          "oras-go unquotes with Go string rules and reads them differently or stops parsing")
            if bws:
                stops.append((len(order), f"parameter '{key}' has whitespace around '=': valid per RFC 7235 (BWS) "
                              "and accepted by oras-go, but distribution/ggcr and containerd stop parsing there "
                              "and lose {lost}"))
            cut = next((i for i, ch in enumerate(value) if ch not in _TCHAR), None) if not quoted else None
            if cut is not None:
                stops.append((len(order) + 1, f"parameter '{key}' is unquoted but holds {value[cut]!r}, which a "
                              f"token may not: regauth reads {value!r} up to the next comma, but {_GO_CLIENTS} "
                              f"cut it to {value[:cut]!r} and stop parsing there, losing {{lost}}"))
            if quoted and not value:
                stops.append((len(order), f"parameter '{key}' is empty (\"\"): containerd and oras-go accept it, "
                              "but distribution/ggcr stop parsing at an empty value and lose {lost}"))
            challenge.params[key] = value
            order.append(key)
            if not quoted:
                unquoted.append(key)
            self.take(_WS)
            if self.at_end():
                break
            if self.peek() != ",":
                raise self.fail(f"expected ',' after the value of {name!r}, found {self.found()}")
            comma = self.pos
            empty_element = self.skip_separators() > 1
            if self.at_end() or not self.param_ahead(need_value=False):
                break
            if empty_element:
                stops.append((len(order), f"empty list element (',,') at column {comma + 1}: valid per RFC 7230 "
                              f"§7, but {_GO_CLIENTS} stop there and lose {{lost}}"))
        for index, text in stops:
            self.note(challenge, text.format(lost=", ".join(dict.fromkeys(order[index:])) or "nothing else"))
        if unquoted:
            self.note(challenge, f"parameter(s) {', '.join(unquoted)} sent unquoted: token values are valid per "
                      f"RFC 7235 and accepted by {_GO_CLIENTS}, but clients that match key=\"...\" reject the header"
                      + (" (senders MUST quote realm)" if "realm" in unquoted else ""))
        return challenge

    def value(self, name: str) -> tuple[str, bool, list[str]]:
        """Read a token or quoted-string value; return it, whether it was quoted, and any unusual escapes."""
        if self.peek() == '"':
            value, odd_escapes = self.quoted_string(name)
            return value, True, odd_escapes
        start = self.pos
        while self.peek() and self.peek() not in _UNQUOTED_END and self.peek().isprintable():
            self.pos += 1
        if self.pos == start and self.peek() in ("", ",", " ", "\t"):
            raise self.fail(f"parameter {name!r} has no value (an empty value must be sent as \"\")")
        if self.pos == start:
            raise self.fail(f"unexpected {self.found()} as the value of {name!r}")
        return self.text[start : self.pos], False, []

    def quoted_string(self, name: str) -> tuple[str, list[str]]:
        """Read a quoted-string, unescaping quoted-pairs; also return escapes other than \\" and \\\\."""
        opening = self.pos
        self.pos += 1
        out: list[str] = []
        odd_escapes: list[str] = []
        while (ch := self.peek()) != '"':
            if ch == "\\":
                self.pos += 1
                ch = self.peek()
                if ch and ch not in '"\\':
                    odd_escapes.append("\\" + ch)
            if not ch:
                raise self.fail(f"unterminated quoted string (value of {name!r})", opening)
            if ch != "\t" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
                raise self.fail(f"control character {ch!r} in the quoted value of {name!r}")
            out.append(ch)
            self.pos += 1
        self.pos += 1
        return "".join(out), list(dict.fromkeys(odd_escapes))

    def note(self, challenge: Challenge, text: str) -> None:
        self.quirks.append(f"{challenge.scheme} {text}")

    def note_scheme_case(self, scheme: str) -> None:
        canonical = {"bearer": "Bearer", "basic": "Basic"}.get(scheme.lower())
        if canonical and scheme != canonical:
            self.quirks.append(
                f"scheme sent as {scheme!r}: schemes are case-insensitive and {_GO_CLIENTS} accept it, but clients "
                f"that compare with {canonical!r} case-sensitively reject the challenge"
            )

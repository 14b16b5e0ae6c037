"""The user documentation stays in step with the diagnosis catalogue.

Every code in `regauth.diagnoses.CATALOGUE` must have a section on the page its `docs` link points to (heading slug
== cause, GitHub rules), stating its default severity; docs/contract.md must list every code with its severity and
link; the contract's minimum set of codes must all exist in the catalogue; and every relative link in docs/ must
resolve (file and anchor).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from regauth.diagnoses import CATALOGUE, docs_anchor

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SHARED_CONTRACT = Path("/work/shared/contract.md")  # the team's contract; absent in a clean clone

#: The codes the user contract requires (the table and the decode-secret list of the contract), copied here so the
#: test does not depend on files outside the repository.
CONTRACT_CODES = frozenset({
    "reference.invalid",
    "credentials.config-invalid", "credentials.helper-missing", "credentials.helper-failed",
    "credentials.not-found", "credentials.key-mismatch",
    "ping.dns", "ping.refused", "ping.timeout", "ping.tls-unknown-ca", "ping.tls-hostname", "ping.tls-expired",
    "ping.tls-on-plain-http", "ping.not-registry", "ping.unexpected-status",
    "challenge.missing", "challenge.malformed", "challenge.unsupported-scheme", "challenge.realm-insecure",
    "challenge.realm-unreachable",
    "token.bad-credentials", "token.forbidden", "token.anonymous-denied", "token.method-not-allowed",
    "token.bad-response",
    "jwt.opaque", "jwt.malformed", "jwt.expired", "jwt.not-yet-valid", "jwt.audience-mismatch", "jwt.no-access",
    "jwt.insufficient-access",
    "manifest.unauthorized", "manifest.denied", "manifest.name-unknown", "manifest.unknown",
    "manifest.not-acceptable", "manifest.rate-limited", "manifest.unexpected-status",
    "platform.not-found",
    "blob.unknown", "blob.redirect-rejected", "blob.denied",
    "secret.not-a-secret", "secret.wrong-type", "secret.missing-key", "secret.bad-base64", "secret.double-base64",
    "secret.bad-json", "secret.missing-auths", "secret.empty-auths", "secret.auth-mismatch",
    "secret.no-credentials", "secret.whitespace", "secret.ignored-field", "secret.key-normalized",
    "secret.no-match",
})

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


# --- markdown helpers -------------------------------------------------------------------------------------------

def github_slug(text: str) -> str:
    """GitHub's heading anchor: inline markup dropped, lower case, punctuation removed, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("*", "")
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def headings(path: Path) -> list[tuple[int, str, str]]:
    """(level, text, anchor) of every ATX heading outside fenced code, with GitHub's -1, -2 … for repeats."""
    out: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.append((len(match.group(1)), match.group(2), slug if count == 0 else f"{slug}-{count}"))
    return out


def section(path: Path, cause: str) -> str:
    """The text of the `## cause` section (up to the next level-1/2 heading), outside-fence aware."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fenced, inside, body = False, False, []
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match and len(match.group(1)) <= 2:
            if inside:
                break
            inside = match.group(2) == cause and len(match.group(1)) == 2
            continue
        if inside:
            body.append(line)
    return "\n".join(body)


def table_rows(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not re.match(r"^\|[\s|:-]+\|$", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _page(code: str) -> tuple[Path, str]:
    target, _, anchor = docs_anchor(code).partition("#")
    return ROOT / target, anchor


# --- every catalogue code is documented -------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_code_has_a_section(code: str) -> None:
    page, anchor = _page(code)
    cause = code.partition(".")[2]
    assert page.is_file(), f"{code}: {page.relative_to(ROOT)} does not exist"
    found = headings(page)
    assert anchor in [slug for _, _, slug in found], f"{code}: no heading with anchor #{anchor} in {page.name}"
    assert (2, cause, anchor) in found, f"{code}: the section heading must be exactly '## {cause}'"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_section_gives_title_and_default_severity(code: str) -> None:
    page, _ = _page(code)
    text = section(page, code.partition(".")[2])
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    assert re.fullmatch(r"\*\*[^*].*\*\*", first), f"{code}: the line under the heading must be a **bold title**"
    assert f"Default severity: **{CATALOGUE[code]}**" in text, \
        f"{code}: the section must say 'Default severity: **{CATALOGUE[code]}**'"


def test_no_section_for_an_unknown_code() -> None:
    """Level-2 headings on the diagnosis pages are exactly the catalogue's causes (no stale or misspelt ones)."""
    known = {(code.partition(".")[0], code.partition(".")[2]) for code in CATALOGUE}
    stale = [f"{page.stem}.{text}" for page in sorted((DOCS / "diagnoses").glob("*.md"))
             for level, text, _ in headings(page) if level == 2 and (page.stem, text) not in known]
    assert not stale, f"sections for codes that are not in the catalogue: {stale}"


# --- contract ---------------------------------------------------------------------------------------------------

def _shared_contract_codes() -> set[str]:
    """Codes named in the team's contract.md, when that file is present."""
    if not SHARED_CONTRACT.is_file():
        return set()
    text = SHARED_CONTRACT.read_text(encoding="utf-8")
    text = text[text.find("## Diagnosis codes"):]
    steps = "reference|credentials|ping|challenge|token|jwt|manifest|platform|blob|secret|kube|save|check"
    return set(re.findall(rf"(?<![\w.-])((?:{steps})\.[a-z0-9]+(?:-[a-z0-9]+)*)(?![\w-])", text))


def test_contract_codes_are_in_the_catalogue() -> None:
    codes = CONTRACT_CODES | _shared_contract_codes()
    missing = sorted(codes - set(CATALOGUE))
    assert not missing, f"codes the contract promises but the catalogue lacks: {missing}"


def test_docs_contract_lists_every_code_with_severity_and_link() -> None:
    listed: dict[str, tuple[str, str]] = {}
    for row in table_rows(DOCS / "contract.md"):
        match = re.fullmatch(r"\[`([a-z]+\.[a-z0-9-]+)`\]\(([^)]+)\)", row[0])
        if match and len(row) >= 2:
            listed[match.group(1)] = (row[1], match.group(2))
    missing = sorted(set(CATALOGUE) - set(listed))
    extra = sorted(set(listed) - set(CATALOGUE))
    assert not missing, f"docs/contract.md does not list: {missing}"
    assert not extra, f"docs/contract.md lists codes that are not in the catalogue: {extra}"
    for code, (severity, link) in listed.items():
        assert severity == CATALOGUE[code], f"docs/contract.md: {code} is {CATALOGUE[code]}, not {severity}"
        expected = docs_anchor(code).removeprefix("docs/")
        assert link == expected, f"docs/contract.md: {code} must link to {expected}, not {link}"


# --- links ------------------------------------------------------------------------------------------------------

def _markdown_files() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: str(p.relative_to(DOCS)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for target in _LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            dest = (page.parent / path_part).resolve() if path_part else page
            if not dest.exists():
                broken.append(f"{target} (no such file)")
            elif anchor and dest.is_file() and anchor not in [slug for _, _, slug in headings(dest)]:
                broken.append(f"{target} (no such anchor)")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_github_slug_rules() -> None:
    assert github_slug("bad-credentials") == "bad-credentials"
    assert github_slug("tls-on-plain-http") == "tls-on-plain-http"
    assert github_slug("Step `token` — getting a token") == "step-token--getting-a-token"
    assert github_slug("What is `foo_bar`?") == "what-is-foo_bar"

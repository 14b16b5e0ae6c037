"""Tiny test images, built as an OCI image layout in pure Python, pushed with skopeo.

:func:`build_layout` writes one OCI layout (``oci-layout``, ``index.json``,
``blobs/sha256/…``) holding every source image, tagged by ref name:

* ``app``, ``docker``, ``hello`` — single-platform OCI manifests (linux/amd64);
* ``multi`` — an OCI image index with linux/amd64 and linux/arm64/v8.

Each image has one gzip'd tar layer (one small text file naming the image) and
its own config, so every image has distinct digests. Output is deterministic
(mtime 0 in tar and gzip), so digests are stable across runs.

:func:`seed` pushes :data:`SEED_IMAGES` into a registry with ``skopeo copy``
(``--all`` for the index, ``--format v2s2`` for the Docker schema 2 image),
in parallel, as the admin user.
"""

from __future__ import annotations

import atexit
import gzip
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .skopeo import creds_value, run_skopeo, tls_flags
from .users import ADMIN, User

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REF_NAME = "org.opencontainers.image.ref.name"
CREATED = "2024-01-01T00:00:00Z"


@dataclass(frozen=True)
class SeedImage:
    """One repository:tag every test registry holds, and where it comes from."""

    repository: str
    tag: str
    source_ref: str  # ref name in the OCI layout
    kind: str  # "oci" | "index" | "docker"

    @property
    def path(self) -> str:
        """``repository:tag`` (append to ``registry.host + "/"``)."""
        return f"{self.repository}:{self.tag}"

    @property
    def media_type(self) -> str:
        """Manifest media type as stored in the registry."""
        return {"oci": OCI_MANIFEST, "index": OCI_INDEX, "docker": DOCKER_MANIFEST}[self.kind]


APP = SeedImage("team/app", "1.0", "app", "oci")
MULTI = SeedImage("team/multi", "1.0", "multi", "index")
DOCKER = SeedImage("team/sub/docker", "1.0", "docker", "docker")
HELLO = SeedImage("public/hello", "latest", "hello", "oci")
SEED_IMAGES: tuple[SeedImage, ...] = (APP, MULTI, DOCKER, HELLO)

PLATFORMS = {
    "amd64": {"architecture": "amd64", "os": "linux"},
    "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"},
}


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class BuiltImage:
    """Digests of one single-platform image in the layout."""

    manifest_digest: str
    manifest_size: int
    config_digest: str
    layer_digests: tuple[str, ...]
    platform: dict


@dataclass
class Layout:
    """An OCI image layout on disk and what it contains."""

    path: Path
    #: ref name → top-level manifest (or index) digest in the layout
    refs: dict[str, str] = field(default_factory=dict)
    #: ref name → {"amd64": BuiltImage, ...} (one entry for single-platform refs)
    images: dict[str, dict[str, BuiltImage]] = field(default_factory=dict)

    def source(self, ref: str) -> str:
        """skopeo source reference ``oci:<dir>:<ref>``."""
        return f"oci:{self.path}:{ref}"


def _canonical(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A reproducible gzip'd tar; returns ``(compressed, diff_id)``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(content))
    raw = buf.getvalue()
    return gzip.compress(raw, compresslevel=6, mtime=0), _digest(raw)


class _Writer:
    """Writes blobs into ``<root>/blobs/sha256/`` and returns descriptors."""

    def __init__(self, root: Path):
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)

    def blob(self, data: bytes, media_type: str) -> dict:
        digest = _digest(data)
        (self.root / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(self, name: str, platform: dict) -> tuple[dict, BuiltImage]:
        """One single-platform image; returns (manifest descriptor, BuiltImage)."""
        arch = platform["architecture"]
        text = f"hello from {name} ({platform['os']}/{arch})\n".encode()
        layer_gz, diff_id = _layer({"hello.txt": text, "etc/image-name": name.encode() + b"\n"})
        layer = self.blob(layer_gz, OCI_LAYER_GZIP)
        config = {
            "created": CREATED,
            **platform,
            "config": {"Cmd": ["/bin/cat", "/hello.txt"], "Env": ["PATH=/bin"], "Labels": {"image": name}},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": CREATED, "created_by": f"regauth test tier: {name}"}],
        }
        cfg = self.blob(_canonical(config), OCI_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfg, "layers": [layer]}
        desc = self.blob(_canonical(manifest), OCI_MANIFEST)
        built = BuiltImage(desc["digest"], desc["size"], cfg["digest"], (layer["digest"],), dict(platform))
        return desc, built


def build_layout(directory: Path) -> Layout:
    """Write the OCI layout with refs ``app``, ``multi``, ``docker``, ``hello``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    w = _Writer(directory)
    layout = Layout(directory)
    top: list[dict] = []

    for ref in ("app", "docker", "hello"):
        desc, built = w.image(ref, PLATFORMS["amd64"])
        layout.refs[ref] = desc["digest"]
        layout.images[ref] = {"amd64": built}
        top.append({**desc, "annotations": {REF_NAME: ref}})

    children, built_multi = [], {}
    for arch, platform in PLATFORMS.items():
        desc, built = w.image(f"multi-{arch}", platform)
        children.append({**desc, "platform": platform})
        built_multi[arch] = built
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
    idx_desc = w.blob(_canonical(index), OCI_INDEX)
    layout.refs["multi"] = idx_desc["digest"]
    layout.images["multi"] = built_multi
    top.append({**idx_desc, "annotations": {REF_NAME: "multi"}})

    (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (directory / "index.json").write_bytes(_canonical({"schemaVersion": 2, "manifests": top}))
    return layout


_default_layout: Layout | None = None
_default_lock = threading.Lock()


def default_layout() -> Layout:
    """The process-wide layout, built on first use in a temporary directory."""
    global _default_layout
    with _default_lock:
        if _default_layout is None:
            root = Path(tempfile.mkdtemp(prefix="regauth-oci-"))
            atexit.register(shutil.rmtree, root, True)
            _default_layout = build_layout(root / "layout")
        return _default_layout


# --------------------------------------------------------------------------- push


def push(
    registry,
    layout: Layout,
    image: SeedImage,
    *,
    user: User | str | None = ADMIN,
) -> str:
    """``skopeo copy`` one image into ``registry``; returns the pushed manifest digest."""
    digestfile = Path(tempfile.mkstemp(prefix="regauth-digest-")[1])
    try:
        args = ["copy", "--quiet", "--retry-times", "0", *tls_flags(registry, "dest-")]
        args += ["--dest-creds", creds_value(user)] if user is not None else ["--dest-no-creds"]
        if image.kind == "index":
            args.append("--all")
        if image.kind == "docker":
            args += ["--format", "v2s2"]
        args += [
            "--digestfile",
            str(digestfile),
            layout.source(image.source_ref),
            f"docker://{registry.ref(image.path)}",
        ]
        run_skopeo(args, check=True)
        return digestfile.read_text().strip()
    finally:
        digestfile.unlink(missing_ok=True)


def seed(
    registry,
    issuer=None,
    layout: Layout | None = None,
    *,
    images: tuple[SeedImage, ...] = SEED_IMAGES,
    user: User = ADMIN,
    parallel: int = 4,
) -> dict[str, str]:
    """Push every seed image into ``registry`` (in parallel) as ``user``.

    ``issuer`` is the registry's token issuer (token mode) or ``None``; it must
    behave normally while seeding, so a mutated behaviour is refused. Returns
    (and stores in ``registry.seeded``) ``{"team/app:1.0": "sha256:…", …}``.
    """
    if registry.mode == "token":
        if issuer is None:
            raise ValueError(f"{registry.name}: seeding a token registry needs its issuer")
        from .token_issuer import IssuerBehaviour

        if issuer.behaviour != IssuerBehaviour():
            raise RuntimeError(f"issuer behaviour is modified ({issuer.behaviour}); reset() before seeding")
    layout = layout or default_layout()
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        pushed = list(pool.map(lambda i: push(registry, layout, i, user=user), images))
    digests = {i.path: d for i, d in zip(images, pushed, strict=True)}
    # OCI images and the index are pushed byte-for-byte: their digests are the layout's.
    for image in images:
        if image.kind in ("oci", "index"):
            expected = layout.refs[image.source_ref]
            if digests[image.path] != expected:
                raise AssertionError(f"{image.path}: pushed {digests[image.path]}, layout has {expected}")
    registry.seeded.update(digests)
    return digests

"""KaTeX and iframe-worker, vendored at build time with ``npm pack`` (the registry's ordinary client, configured as
the machine has it), checked against the pinned integrity hash, and cached: a fresh machine needs the registry once, the
built site never needs any network."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from quiz.paths import cache_dir
from quiz.site.options import SiteError

KATEX_VERSION = "0.16.22"
KATEX_INTEGRITY = "sha512-XCHRdUw4lf3SKBaJe4EvgqIuWwkPSo9XoeO8GjQW94Bp7TWv9hNhzZjZ+OH9yf1UmLygb7DIT5GSFQiyt16zYg=="
# What the site needs from KaTeX's dist folder; its README would become a page with broken links.
KATEX_FILES = re.compile(r"katex\.min\.(js|css)|contrib/auto-render\.min\.js|fonts/[\w-]+\.(woff2|woff|ttf)|LICENSE")
# Material's offline plugin runs search in a web worker, which a page opened as file:// may not start; this
# shim runs it in an iframe instead. The plugin would load it from a CDN, so the site carries its own copy.
IFRAME_WORKER_VERSION = "1.0.4"
IFRAME_WORKER_INTEGRITY = (
    "sha512-roeaaI+Lg1LJNfgpCjoRe/+WzEjy9+Z08LoEvu85MCPbBjwm+qXz8Ag5U05lHa6V1CysZyGzE0SOkAtSUA5q7Q=="
)


def _npm_pack(spec: str) -> bytes:
    """The package tarball for ``spec``, fetched by npm itself (no install, no scripts run)."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            ["npm", "pack", spec, "--ignore-scripts", "--silent", "--pack-destination", folder],
            check=True,
            capture_output=True,
            timeout=300,
        )
        [tarball] = Path(folder).glob("*.tgz")
        return tarball.read_bytes()


def _tarball(name: str = "katex", version: str = KATEX_VERSION, pinned: str = KATEX_INTEGRITY) -> bytes:
    variable = f"QUIZ_{name.upper().replace('-', '_')}_TARBALL"
    local = os.environ.get(variable)
    try:
        data = Path(local).read_bytes() if local else _npm_pack(f"{name}@{version}")
    except (OSError, subprocess.SubprocessError) as exc:
        raise SiteError(
            f"cannot fetch {name} {version} ({exc}); the site works from a local copy: let "
            f"`npm pack {name}` reach the npm registry once, or set {variable} to the downloaded .tgz"
        ) from exc
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if integrity != pinned:
        raise SiteError(f"{name} tarball does not match its pinned sha512 ({integrity}); refusing to use it")
    return data


def fetch_iframe_worker(cache: Path) -> Path:
    """The folder holding iframe-worker's ``shim.js`` (and its LICENSE), downloaded once into the cache."""
    target = cache / "vendor" / f"iframe-worker-{IFRAME_WORKER_VERSION}"
    if (target / "shim.js").is_file():
        return target
    data = _tarball("iframe-worker", IFRAME_WORKER_VERSION, IFRAME_WORKER_INTEGRITY)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for inside, outside in (("package/shim/index.js", "shim.js"), ("package/LICENSE", "LICENSE")):
            (partial / outside).write_bytes(tar.extractfile(inside).read())
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def fetch_katex(cache: Path) -> Path:
    """The KaTeX ``dist`` folder, downloaded once into the cache and verified against the pinned hash.
    ``QUIZ_KATEX_TARBALL`` may name a local copy of the same tarball for machines without the registry."""
    target = cache / "vendor" / f"katex-{KATEX_VERSION}"
    if (target / "katex.min.js").is_file():
        return target
    shared = cache_dir() / "vendor" / target.name
    if (shared / "katex.min.js").is_file():  # the same files for every cache: copy, do not download again
        shutil.copytree(shared, target, dirs_exist_ok=True)
        return target
    data = _tarball()
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("package/dist/"):
                out = partial / member.name.removeprefix("package/dist/")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(member).read())
        licence = tar.extractfile("package/LICENSE")
        (partial / "LICENSE").write_bytes(licence.read() if licence else b"")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # only a complete copy ever has the final name
    return target

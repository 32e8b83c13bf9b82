"""KaTeX, vendored at build time with ``npm pack`` (the registry's ordinary client, configured as the machine
has it), checked against the pinned integrity hash, and cached: a fresh machine needs the registry once, the
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


def _tarball() -> bytes:
    local = os.environ.get("QUIZ_KATEX_TARBALL")
    try:
        data = Path(local).read_bytes() if local else _npm_pack(f"katex@{KATEX_VERSION}")
    except (OSError, subprocess.SubprocessError) as exc:
        raise SiteError(
            f"cannot fetch KaTeX {KATEX_VERSION} ({exc}); the site renders math from a local copy: let "
            "`npm pack katex` reach the npm registry once, or set QUIZ_KATEX_TARBALL to the downloaded .tgz"
        ) from exc
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if integrity != KATEX_INTEGRITY:
        raise SiteError(f"KaTeX tarball does not match its pinned sha512 ({integrity}); refusing to use it")
    return data


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

"""The first code cell of every lesson: get bnref where it is missing (Colab), from the site itself.

The build inserts this cell in front of each lesson's first code cell, on the page and in the
downloadable .ipynb, and executes it like any other cell: where bnref is installed (a local checkout,
the build) it does nothing, so the build tests it too.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import quote, urljoin


def wheel_url(site_url: str, wheel: str) -> str:
    """Where the site publishes the wheel: <site_url>/bnref/<wheel>."""
    return urljoin(site_url if site_url.endswith("/") else site_url + "/", f"bnref/{wheel}")


def setup_source(url: str) -> str:
    """The cell's Python source; `url` is the wheel's address on the hosted site."""
    requirement = f"bnref[lessons] @ {url}"
    return f'''\
# 준비: bnref가 없는 곳(예: Colab)에서는 이 강의 사이트가 배포하는 bnref 휠을 설치합니다.
# bnref가 이미 설치된 환경(이 저장소의 make serve, make test)에서는 아무것도 하지 않습니다.
import importlib
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("bnref") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet",
         {requirement!r}],
        check=True,
    )
    importlib.invalidate_caches()'''


def colab_url(github_repo: str | None, branch: str, path: str) -> str | None:
    """Colab's address for a notebook stored on GitHub (the site's branch, e.g. gh-pages), or None when
    the repository is unknown: a link to `github/OWNER/REPO/...` would lead nowhere, so there is none."""
    if not github_repo:
        return None
    return f"https://colab.research.google.com/github/{github_repo}/blob/{quote(branch)}/{quote(path)}"


# https://github.com/owner/name(.git), git@github.com:owner/name(.git), ssh://git@github.com/owner/name
_GITHUB_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com(?::\d+)?/)"
    r"(?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$"
)


def repository_from_remote(url: str) -> str | None:
    """'owner/name' of a GitHub remote URL, or None for any other host."""
    match = _GITHUB_REMOTE.match(url.strip())
    return match["repo"] if match else None


def github_repository(root: Path) -> str | None:
    """'owner/name' of the GitHub repository that `root` is a clone of (its `origin` remote), or None:
    not a Git clone, no origin, or an origin that is not on GitHub. `mkdocs gh-deploy` pushes the site
    to that same remote, so its Colab links are right."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return repository_from_remote(proc.stdout) if proc.returncode == 0 else None

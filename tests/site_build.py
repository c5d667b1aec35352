"""The built course for the site tests: a clean `mkdocs build --strict` of a copy of the repository,
and a local HTTP server for it. tests/conftest.py makes these session fixtures, so that every slow
site test (test_site.py, test_browser.py, test_links.py) can share one build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("mkdocs.yml", "pyproject.toml", "hooks", "bnref", "lessons", "docs", "overrides")


def copy_repo(dest: Path) -> Path:
    """What a build reads, without caches: the copy's build executes every lesson."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    dest.mkdir(parents=True)
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, dest / name)
    return dest


class Build:
    """One `mkdocs build` of `repo` into `site`, with its log and duration."""

    def __init__(self, repo: Path, site: Path, strict: bool = True):
        started = time.perf_counter()
        command = [sys.executable, "-m", "mkdocs", "build", "-f", str(repo / "mkdocs.yml"), "-d", str(site)]
        self.proc = subprocess.run(
            command + (["--strict"] if strict else []),
            capture_output=True,
            text=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            timeout=540,
        )
        self.seconds = time.perf_counter() - started
        self.log = self.proc.stdout + self.proc.stderr
        self.repo = repo
        self.site = site

    @property
    def ok(self) -> bool:
        return self.proc.returncode == 0

    def counts(self) -> tuple[int, int]:
        """(executed, from cache), as the hook reports them."""
        match = re.search(r"lessons: (\d+) executed, (\d+) from cache", self.log)
        assert match, self.log
        return int(match[1]), int(match[2])

    def executed(self) -> set[str]:
        return set(re.findall(r"executing lesson: (\S+)", self.log))


class Server:
    """`python -m http.server` on a free port of 127.0.0.1, serving `directory`."""

    def __init__(self, directory: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0", "--directory", str(directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        match = re.search(r"port (\d+)", line)
        if not match:
            self.close()
            raise RuntimeError(f"http.server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{match[1]}/"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def site_pages(site: Path) -> list[str]:
    """Every page of a built site as a URL path relative to its root: "", "lessons/01_x/", ..."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        rel = index.parent.relative_to(site).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return pages

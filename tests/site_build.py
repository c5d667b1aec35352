"""The built course for the site tests: a clean `mkdocs build --strict` of a copy of the repository,
and a local HTTP server for it. tests/conftest.py makes these session fixtures, so that every slow
site test (test_site.py, test_browser.py, test_links.py) can share one build.

Also for the build tests (tests/test_build_*.py): a copy with small lessons of a test's own
(`small_course`), and `mkdocs build` / `mkdocs serve` running in the background (`Running`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("mkdocs.yml", "pyproject.toml", "hooks", "bnref", "lessons", "docs", "overrides")
LESSON_CACHE = Path(".cache") / "lessons"


def copy_repo(dest: Path, cache_of: Path | None = None) -> Path:
    """What a build reads, without caches: the copy's build executes every lesson.

    With `cache_of` (another copy, e.g. the session build's `course_build.repo`), the copy starts
    with that copy's lesson cache: a build of the same lessons executes none of them, whatever its
    SITE_URL (the cache keys leave the site's address out).
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    dest.mkdir(parents=True)
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, dest / name)
    if cache_of is not None:
        shutil.copytree(cache_of / LESSON_CACHE, dest / LESSON_CACHE)
    return dest


SMALL_CONFIG = """\
site_name: small
site_url: http://127.0.0.1:8000/
hooks: [hooks/course.py]
watch: [lessons, bnref, hooks]
markdown_extensions: [admonition, attr_list, md_in_html, toc, pymdownx.superfences, {pymdownx.arithmatex: {generic: true}}]
"""


def small_course(dest: Path, lessons: dict[str, str]) -> Path:
    """A copy of the repository whose lessons are `lessons` ({"01_a": code, ...}), built by the lesson
    hook alone (no other plugins, no nav, one page besides): seconds per build instead of a minute.

    Each lesson is a title cell and then `code`, whose `# %%` lines start further code cells."""
    repo = copy_repo(dest)
    for folder in ("lessons", "docs"):
        shutil.rmtree(repo / folder)
        (repo / folder).mkdir()
    (repo / "docs" / "index.md").write_text("# small\n", encoding="utf-8")
    for name, code in lessons.items():
        write_lesson(repo, name, code)
    (repo / "mkdocs.yml").write_text(SMALL_CONFIG, encoding="utf-8")
    return repo


def write_lesson(repo: Path, name: str, code: str) -> Path:
    path = repo / "lessons" / f"{name}.py"
    path.write_text(f"# %% [markdown]\n# # {name} 강의\n#\n# 글입니다.\n\n# %%\n{code}\n", encoding="utf-8")
    return path


def _command(repo: Path, site: Path, command: str) -> list[str]:
    where = ["-f", str(repo / "mkdocs.yml")]
    if command == "build":
        return [sys.executable, "-m", "mkdocs", "build", *where, "-d", str(site)]
    return [sys.executable, "-m", "mkdocs", "serve", *where, "--dev-addr", site]  # site: host:port


def _env(env: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})}


class Build:
    """One `mkdocs build` of `repo` into `site`, with its log and duration. `env`: extra variables
    (e.g. {"SITE_URL": ...})."""

    def __init__(self, repo: Path, site: Path, strict: bool = True, env: dict[str, str] | None = None):
        started = time.perf_counter()
        self.proc = subprocess.run(
            _command(repo, site, "build") + (["--strict"] if strict else []),
            capture_output=True,
            text=True,
            env=_env(env),
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
        return executed(self.log)


def executed(log: str) -> set[str]:
    """The lessons a build log says it started executing."""
    return set(re.findall(r"executing lesson: (\S+)", log))


class Running:
    """`mkdocs build` or `mkdocs serve` in the background, in a session of its own (so a test can
    signal its process group as a terminal's Ctrl-C does), its output in `log_path`."""

    def __init__(self, repo: Path, command: str, target: str | Path, env: dict[str, str] | None = None, strict=False):
        self.log_path = repo.parent / f"{command}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            _command(repo, Path(target) if command == "build" else target, command) + (["--strict"] if strict else []),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=_env(env),
            start_new_session=True,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_for(self, predicate, timeout: float = 300, what: str = "") -> None:
        """Poll `predicate()` until true; fail with the log if the process ends or time runs out first."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None and not predicate():
                raise AssertionError(f"mkdocs exited ({self.proc.returncode}) before {what}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s:\n{self.log}")
            time.sleep(0.1)

    def wait(self, timeout: float = 300) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def stop(self) -> None:
        """Ctrl-C to the whole process group, then make sure nothing is left."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the live processes whose environment contains `text` (e.g. a test's folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if text.encode() in (proc / "environ").read_bytes():
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":  # a zombie is gone, only not yet reaped by its parent
                    found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


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
